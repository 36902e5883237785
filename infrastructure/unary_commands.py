"""Commands that make one unary gRPC call and print the reply: shared by the support-desk CLIs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from infrastructure.cli_kit import Stub, add_command, show_fields

if TYPE_CHECKING:
    from google.protobuf.message import Message

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
Build: TypeAlias = "Callable[[argparse.Namespace], Message]"


def by_id(request: Any, id_field: str, **from_args: str) -> Build:
    """A request of the id argument and the named further arguments."""

    def build(args: argparse.Namespace) -> Message:
        values = {field: getattr(args, name) for field, name in from_args.items()}
        message: Message = request(**{id_field: args.id}, **values)
        return message

    return build


def unary_command(
    commands: Commands, name: str, help_: str, stub_class: Stub, method: str, build: Build
) -> argparse.ArgumentParser:
    """A sub-command that prints the reply as tables (or JSON with ``--json``)."""
    return add_command(commands, name, help_, stub_class, method, build, show_fields)
