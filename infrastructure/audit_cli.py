"""``ssbtek audit replay|verify|export-key`` and ``ssbtek report monthly``: for auditors.

Each reads either the running service (``--target HOST:PORT``, over gRPC) or, by default,
the stores themselves opened read-only: a copy of the data directory (``--data-dir``) or
of the PostgreSQL database (``--store postgres --postgres-dbname``), with the service
stopped and no server at all. Exit codes: 0 done (verify: intact), 1 verify found a break,
2 the command could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, TypeAlias

import grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from infrastructure import settings as settings_module
from infrastructure.audit_commands import fill_audit, fill_report
from infrastructure.audit_output import (
    anchors_in,
    event_line,
    print_report_summary,
    print_verdict,
    proto_event_line,
    proto_verdict_document,
    verdict_document,
)
from infrastructure.client import channel_for, report_error
from infrastructure.postgres_reach import postgres_problem
from infrastructure.settings import Settings, Store

if TYPE_CHECKING:  # the stores, the keys and the charts are imported by the commands that use them
    from adapters.security.signing import Ed25519Verifier
    from application.audit.replay import ReplayFilter
    from application.audit.report_model import Month
    from infrastructure.composition import AuditCopy

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

EXIT_BROKEN = 1
EXIT_FAILED = 2


def _settings(args: argparse.Namespace) -> Settings:
    """The variables with ``--store``, ``--data-dir`` and ``--postgres-dbname`` over them;
    a PostgreSQL database that cannot be reached is one line (``ValueError``)."""
    given = {"SSBTEK_STORE": args.store, "SSBTEK_DATA_DIR": args.data_dir}
    given["SSBTEK_POSTGRES_DBNAME"] = args.postgres_dbname
    settings = settings_module.load({name: str(v) for name, v in given.items() if v is not None})
    if settings.store is Store.POSTGRES:
        problem = postgres_problem(settings.postgres)
        if problem:
            raise ValueError(problem)
    return settings


def _verifier(args: argparse.Namespace, settings: Settings) -> Ed25519Verifier | None:
    """The public keys to trust: --public-key files, SSBTEK_AUDIT_TRUSTED_KEYS, and the
    configured signing key's own (never a key file found in the copied data directory)."""
    from infrastructure.composition import auditor_verifier

    return auditor_verifier(settings, args.public_key or [])


@contextlib.contextmanager
def _copy(args: argparse.Namespace, verifier: Ed25519Verifier | None = None) -> Iterator[AuditCopy]:
    from infrastructure.composition import open_audit_copy

    copy = open_audit_copy(_settings(args), verifier=verifier)
    try:
        yield copy
    finally:
        copy.close()


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201 (one line, never wrapped)
    return EXIT_FAILED


Handler = Callable[[argparse.Namespace], int]


def _guarded(handler: Handler) -> Handler:
    """A store that cannot be opened or read ends the command with exit code 2 and a line on
    standard error, not a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from eventsourcing.persistence import PersistenceError

        try:
            return handler(args)
        except ValueError as error:
            return _fail(str(error))
        except BrokenPipeError:
            raise  # the reader of the output went away: ``ssbtek`` says so
        except (OSError, PersistenceError) as error:
            return _fail(f"the store could not be read ({type(error).__name__})")

    return run


# --- replay ------------------------------------------------------------------------------------


def _progress() -> Progress:
    """A progress bar on standard error, shown only when it is a terminal."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


def _replay(args: argparse.Namespace) -> int:
    from application.audit.replay import ReplayFilter

    chosen = ReplayFilter(
        applications=frozenset(args.application or []),
        aggregate_types=frozenset(args.aggregate_type or []),
        event_types=frozenset(args.event_type or []),
        since=args.since,
        until=args.until,
        asking_organisations=frozenset(n.replace("-", "") for n in (args.organisation or [])),
        callers=frozenset(n.replace("-", "") for n in (args.caller or [])),
    )
    after = dict(args.after or [])
    with contextlib.ExitStack() as stack:
        output: IO[str] = (
            stack.enter_context(args.output.open("w", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        if args.target:
            return _replay_remote(args, chosen, after, output)
        copy = stack.enter_context(_copy(args))
        newest = copy.trail.positions()
        chosen_logs = chosen.applications or newest.keys()
        total = sum(max(0, p - after.get(n, 0)) for n, p in newest.items() if n in chosen_logs)
        with _progress() as progress:
            task = progress.add_task("replay", total=total)  # positions: an upper bound
            for event in copy.trail.replay(chosen, after):
                output.write(event_line(event) + "\n")
                progress.advance(task)
    return 0


def _replay_remote(
    args: argparse.Namespace, chosen: ReplayFilter, after: dict[str, int], output: IO[str]
) -> int:
    request = pb.ReplayEventsRequest(
        applications=sorted(chosen.applications),
        after_positions=after,
        aggregate_types=sorted(chosen.aggregate_types),
        event_types=sorted(chosen.event_types),
        asking_organisations=sorted(chosen.asking_organisations),
        callers=sorted(chosen.callers),
        follow=args.follow,
    )
    if chosen.since:
        request.since.FromDatetime(chosen.since)
    if chosen.until:
        request.until.FromDatetime(chosen.until)
    with channel_for(args) as channel, _progress() as progress:
        task = progress.add_task("replay", total=None)
        try:
            for response in pb_grpc.AuditServiceStub(channel).ReplayEvents(
                request, timeout=None if args.follow else args.timeout
            ):
                output.write(proto_event_line(response.event) + "\n")
                if args.follow:
                    output.flush()
                progress.advance(task)
        except grpc.RpcError as error:
            return report_error(error)
    return 0


# --- verify ------------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    anchors = []
    if args.anchor:
        try:
            anchors = anchors_in(json.loads(args.anchor.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return _fail("the anchor file is not a saved `ssbtek audit verify --json` document")
    if args.from_anchor and not anchors:
        return _fail("--from-anchor needs --anchor FILE (a saved `ssbtek audit verify --json`)")
    if args.target:
        request = pb.VerifyChainRequest(
            applications=args.application or [],
            anchors=[
                pb.SealAnchor(
                    application=a.application,
                    sequence=a.sequence,
                    last_position=a.last_position,
                    seal_hash=a.seal_hash,
                )
                for a in anchors
            ],
            resume=bool(args.from_anchor),
        )
        with channel_for(args) as channel:
            try:
                response = pb_grpc.AuditServiceStub(channel).VerifyChain(
                    request, timeout=args.timeout
                )
            except grpc.RpcError as error:
                return report_error(error)
        document = proto_verdict_document(response)
    else:
        from adapters.security.signing import KeyFormatError

        settings = _settings(args)
        try:
            verifier = _verifier(args, settings)
        except (OSError, KeyFormatError) as error:
            return _fail(f"cannot read a public key: {type(error).__name__}")
        if verifier is None:
            return _fail(
                "give the public key that checks the seals: --public-key FILE "
                "(from `ssbtek audit export-key`)"
            )
        with _copy(args, verifier) as copy:
            verdict = copy.trail.verify(
                args.application or [], anchors, resume=bool(args.from_anchor)
            )
            document = verdict_document(verdict)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        print_verdict(document, Console(), require_sealed=args.require_sealed)
    unsealed = sum(int(chain["unsealed_events"]) for chain in document["chains"])
    broken = not document["intact"] or (args.require_sealed and unsealed > 0)
    return EXIT_BROKEN if broken else 0


# --- export-key --------------------------------------------------------------------------------


def _export_key(args: argparse.Namespace) -> int:
    from adapters.security.signing import (
        KeyFormatError,
        load_signing_key,
        public_key_pem,
        raw_public_key,
    )
    from infrastructure.key_files import signing_key

    settings = _settings(args)
    try:
        if args.signing_key_file:
            private = load_signing_key(args.signing_key_file.read_bytes())
        else:
            private = signing_key(settings, settings.audit, create=False)
    except (OSError, KeyFormatError) as error:
        return _fail(f"cannot read the signing key: {type(error).__name__}")
    public = private.public_key()
    text = raw_public_key(public).hex() + "\n" if args.hex else public_key_pem(public).decode()
    sys.stdout.write(text)
    return 0


# --- report ------------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    month: Month = args.month
    html = ""
    if args.target:
        request = pb.GetReportRequest(
            year=month.year, month=month.month, include_html=bool(args.html)
        )
        with channel_for(args) as channel:
            try:
                response = pb_grpc.AuditServiceStub(channel).GetReport(
                    request, timeout=args.timeout
                )
            except grpc.RpcError as error:
                return report_error(error)
        document = json.loads(response.report_json)  # typed: the Struct has only doubles
        html = response.html
    else:
        from adapters.reporting.html_report import render_html  # matplotlib: only here
        from adapters.reporting.report_json import report_json

        with _copy(args) as copy:
            report = copy.trail.report(month)
        document = json.loads(report_json(report))
        html = render_html(report) if args.html else ""
    if args.html:
        args.html.write_text(html, encoding="utf-8")
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        print_report_summary(document, Console())
    return 0


# --- the commands ------------------------------------------------------------------------------

run_replay = _guarded(_replay)
run_verify = _guarded(_verify)
run_export_key = _guarded(_export_key)
run_report = _guarded(_report)


def add_audit_commands(commands: Commands) -> None:
    """``ssbtek audit ...`` and ``ssbtek report monthly`` (their parsers: ``audit_commands``)."""
    from infrastructure.cli_table import add_command_parser

    fill_audit(add_command_parser(commands, "audit"))
    fill_report(add_command_parser(commands, "report"))
