"""The ``ssbtek`` command: ``serve`` the service; ``query``, ``providers``, ``party``,
``agreement``, ``incident`` and ``escalation`` talk to a running one over gRPC; ``audit``
and ``report`` work on the running service or on a copy of its stores."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, NoReturn

from infrastructure.cli_light import SettingsError, Store
from infrastructure.cli_table import COMMANDS, add_command_parser, fill

if TYPE_CHECKING:
    from infrastructure.settings import Settings

log = logging.getLogger("ssbtek")

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a command whose reader went away."""
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """A mistyped command, option or value: one line on standard error, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


class UserError(Exception):
    """Something the person running ``ssbtek`` can fix: one line, no traceback."""


_SERVE_OPTIONS: Final = {
    "store": "SSBTEK_STORE",
    "data_dir": "SSBTEK_DATA_DIR",
    "listen": "SSBTEK_LISTEN",
    "providers": "SSBTEK_PROVIDERS",
    "provider_options": "SSBTEK_PROVIDER_OPTIONS",
    "metrics_listen": "SSBTEK_METRICS_LISTEN",
    "postgres_dbname": "SSBTEK_POSTGRES_DBNAME",
}
"""``ssbtek serve`` options and the variables they override (read with them, checked alike)."""


def serve_options(args: argparse.Namespace) -> dict[str, str]:
    """The given ``serve`` options, by the variable each overrides."""
    return {
        variable: str(getattr(args, name))
        for name, variable in _SERVE_OPTIONS.items()
        if getattr(args, name, None) is not None
    }


def _serve_settings(args: argparse.Namespace) -> Settings:
    """The variables with the options over them; every problem at once, before anything opens."""
    import attrs

    from infrastructure import settings as settings_module
    from infrastructure.postgres_reach import lasting, postgres_problem

    for line in settings_module.unknown_variables():
        print(f"ssbtek: {line}", file=sys.stderr)
    options = serve_options(args)
    settings = settings_module.load(options)
    if args.port is not None:
        host = settings.listen.rsplit(":", 1)[0]
        settings = attrs.evolve(settings, listen=f"{host}:{args.port}")
    problems = settings_module.check(settings, options)
    if problems:
        raise SettingsError(problems)
    if settings.store is Store.POSTGRES:
        problem = postgres_problem(settings.postgres)
        if problem and (lasting(problem) or not settings.postgres.wait_at_start):
            raise UserError(problem)  # waiting will not help, or the operator said not to
    return settings


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError("a port is 0 to 65535 (0: any free port)")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a number of processes, 1 or more")
    return int(text)


def fill_serve(serve: argparse.ArgumentParser) -> None:
    serve.description = "Options override SSBTEK_* variables."
    serve.add_argument("--store", choices=[s.value for s in Store], help="default: sqlite")
    serve.add_argument("--data-dir", help="default: ./var")
    serve.add_argument("--postgres-dbname", help="PostgreSQL database (with --store postgres)")
    serve.add_argument("--listen", help="host:port, default 127.0.0.1:50051")
    serve.add_argument("--port", type=_port, help="port on the --listen host (0: any free port)")
    serve.add_argument("--providers", help="base-service adapter entry point, default simulated")
    serve.add_argument("--provider-options", help="key=value,... for the base-service adapter")
    serve.add_argument("--metrics-listen", help="host:port for Prometheus /metrics ('' for none)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="processes sharing the port with SO_REUSEPORT (needs a fixed port)",
    )


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Every command's parser; given the command line, only its command's is filled in (the
    others are a name and a help line), so parsing imports one command's module at most."""
    top: argparse.ArgumentParser = Parser(prog="ssbtek", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    chosen = None if argv is None else _command_in(argv)
    for name in COMMANDS:
        command = add_command_parser(commands, name)
        if argv is None or name == chosen:
            fill(command, name)
    return top


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named on the line: its first word that is not an option (``ssbtek`` itself
    has no option but ``--help``)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        settings = _serve_settings(args)
        from infrastructure import service  # the whole service: only once the settings are good
        from infrastructure.logging_setup import configure_logging
        from infrastructure.postgres_reach import wait_for_postgres

        configure_logging(settings.log_level, settings.log_format)
        while True:
            if settings.store is Store.POSTGRES:  # start in any order: wait for the database
                problem = wait_for_postgres(settings.postgres, log=log)
                if problem:
                    raise UserError(problem)
            try:
                service.run(settings, workers=args.workers)
                return 0
            except service.StoreFailedAtStartError as error:
                if settings.store is not Store.POSTGRES or not settings.postgres.wait_at_start:
                    raise UserError(f"the event store failed while starting ({error})") from None
                log.warning("the database failed while starting (%s): waiting for it again", error)
    exit_code: int = args.handler(args)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``ssbtek``: a person's mistake ends it with one line on standard error and a non-zero
    exit code (2, or 141 when the reader of its output went away, 130 on Ctrl-C); a bug keeps
    its traceback."""
    top = parser(sys.argv[1:] if argv is None else argv)
    try:
        exit_code = _run(top.parse_args(argv))
        sys.stdout.flush()  # a closed pipe shows here, inside the handling below
    except SettingsError as error:
        top.exit(EXIT_USAGE, "".join(f"ssbtek: {line}\n" for line in error.lines))
    except UserError as error:
        top.exit(EXIT_USAGE, f"ssbtek: {error}\n")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
        if error.filename is None:
            raise
        top.exit(EXIT_USAGE, f"ssbtek: cannot read {error.filename}: {error.strerror}\n")
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        top.exit(EXIT_BROKEN_PIPE, "ssbtek: the output was closed before the end\n")
    except KeyboardInterrupt:
        top.exit(EXIT_INTERRUPTED, "ssbtek: interrupted\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
