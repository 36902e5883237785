"""What the ``ssbtek`` client sub-commands share: argument wiring, dates and names."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from infrastructure.cli_dates import DAY_HELP, date
from infrastructure.client_commands import add_connection_options

if TYPE_CHECKING:  # grpc and rich when a command runs: its ``--help`` stays light
    import grpc
    from google.protobuf.message import Message
    from google.type.date_pb2 import Date
    from rich.console import Console

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Build: TypeAlias = "Callable[[argparse.Namespace], Message]"
Show: TypeAlias = "Callable[[Any, Console], None]"
Stub: TypeAlias = "Callable[[grpc.Channel], Any]"
Arg = tuple[tuple[str, ...], dict[str, Any]]


def names(wrapper: Any, prefix: str) -> list[str]:
    return [name.removeprefix(prefix) for name in wrapper.keys()[1:]]


def text(day: Date) -> str:
    """``YYYY-MM-DD``, or empty for an unset date."""
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if day.year else ""


def short(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).replace("_", " ").lower()


def show_fields(message: Message, console: Console) -> None:
    """Any reply as a table per message: field names and values."""
    from google.protobuf.json_format import MessageToDict
    from rich.table import Table

    data = MessageToDict(message, preserving_proto_field_name=True)
    if not data:
        console.print("none")
        return
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            table = Table(title=name.rstrip("s").replace("_", " "), show_header=False)
            table.add_column("field", style="bold", no_wrap=True)
            table.add_column("value")
            fields = item.items() if isinstance(item, dict) else [(name, item)]
            for key, field in fields:
                table.add_row(key.replace("_", " "), json.dumps(field, ensure_ascii=False))
            console.print(table)


def _handler(stub: Stub, rpc: str, build: Build, show: Show) -> Any:
    def handle(args: argparse.Namespace) -> int:
        import grpc
        from google.protobuf.json_format import MessageToDict
        from rich.console import Console

        from infrastructure.client import channel_for, report_error

        with channel_for(args) as channel:
            try:
                response = getattr(stub(channel), rpc)(build(args), timeout=args.timeout)
            except grpc.RpcError as error:
                return report_error(error)
        if args.json:
            data = MessageToDict(response, preserving_proto_field_name=True)
            print(json.dumps(data, ensure_ascii=False, indent=2))  # noqa: T201
        else:
            show(response, Console())
        return 0

    return handle


def add_command(
    commands: Commands,
    name: str,
    help_text: str,
    stub: Stub,
    rpc: str,
    build: Build,
    show: Show,
    *arguments: Arg,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text)
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    add_connection_options(parser)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="print the reply as JSON")
    parser.set_defaults(handler=_handler(stub, rpc, build, show))
    return parser


def arg(*flags: str, **options: Any) -> Arg:
    return flags, options


def day_arg(flag: str, meaning: str = "the day", **options: Any) -> Arg:
    """A date option: parsed as it is typed (``cli_dates``), its format in ``--help``."""
    return arg(flag, type=date, metavar="DAY", help=f"{meaning}: {DAY_HELP}", **options)
