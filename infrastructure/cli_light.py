"""What every ``ssbtek`` command's parser may use, and nothing heavier than the standard
library: the store kinds, the settings error, and a handler imported only when it runs.

``ssbtek --help`` and ``ssbtek <command> --help`` build their parsers from this module and
the commands' own light registration modules; grpc, protobuf, rich, pydantic, the settings
model and the stores are imported by a command when it runs (ADR 17, issue 12;
``tests/unit/infrastructure/test_lazy_imports.py`` pins it).
"""

from __future__ import annotations

import argparse
import enum
import importlib
from collections.abc import Callable
from typing import TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


class Store(enum.Enum):
    """Where the events are kept (``SSBTEK_STORE``); ``infrastructure.settings.Store``."""

    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class SettingsError(ValueError):
    """Malformed settings: one line per problem, each naming the variable or option."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


def later(module: str, name: str) -> Handler:
    """The handler ``module.name``, imported when the command runs, not when it is parsed."""

    def run(args: argparse.Namespace) -> int:
        handler: Handler = getattr(importlib.import_module(module), name)
        return handler(args)

    run.__qualname__ = run.__name__ = name
    run.__module__ = module
    return run
