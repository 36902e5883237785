"""What ``ssbtek audit`` and ``ssbtek report`` print: JSON lines, verdicts, report summaries.

The same shapes come from the service (gRPC) and from a copy opened directly, so an
auditor's scripts read both alike.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from google.protobuf.json_format import MessageToDict
from rich.console import Console
from rich.table import Table

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from application.audit.verdict import AuditVerdict, ChainBreak, ChainVerdict, SealAnchor

if TYPE_CHECKING:
    from application.audit.replay import ReplayedEvent


def _state(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # shown as stored when it is not JSON (the verdict says why)


def event_line(event: ReplayedEvent) -> str:
    """One replayed event as a JSON line; ``state`` is the stored JSON state, the time in UTC."""
    return json.dumps(
        {
            "application": event.application,
            "position": event.position,
            "topic": event.topic,
            "originator_id": event.originator_id,
            "originator_version": event.originator_version,
            "timestamp": event.timestamp.astimezone(dt.UTC).isoformat()
            if event.timestamp
            else None,
            "state": _state(event.state),
        },
        ensure_ascii=False,
    )


def proto_event_line(event: pb.ReplayedEvent) -> str:
    """The same line from the gRPC message."""
    stamp = (
        event.timestamp.ToDatetime().isoformat() + "+00:00" if event.HasField("timestamp") else None
    )
    return json.dumps(
        {
            "application": event.application,
            "position": event.position,
            "topic": event.topic,
            "originator_id": event.originator_id,
            "originator_version": event.originator_version,
            "timestamp": stamp,
            "state": _state(event.state_json),
        },
        ensure_ascii=False,
    )


def _break(found: ChainBreak | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "application": found.application,
        "position": found.position,
        "kind": found.kind.value,
        "detail": found.detail,
    }


def _anchor(anchor: SealAnchor | None) -> dict[str, Any] | None:
    if anchor is None:
        return None
    return {
        "application": anchor.application,
        "sequence": anchor.sequence,
        "last_position": anchor.last_position,
        "seal_hash": anchor.seal_hash,
    }


def _chain(chain: ChainVerdict) -> dict[str, Any]:
    resumed = {"resumed_after_position": chain.resumed_after} if chain.resumed_after else {}
    return {
        "application": chain.application,
        "intact": chain.intact,
        "events": chain.events,
        "last_position": chain.last_position,
        "seals": chain.seals,
        "sealed_through": chain.sealed_through,
        "unsealed_events": chain.unsealed,
        "first_break": _break(chain.first_break),
        "breaks": [_break(b) for b in chain.breaks],
        "unlisted_breaks": chain.unlisted_breaks,
        "latest_seal": _anchor(chain.latest_seal),
        "head_digest": chain.head_digest,
        **resumed,
    }


def verdict_document(verdict: AuditVerdict) -> dict[str, Any]:
    """The verdict as JSON; its ``chains[*].latest_seal`` are the anchors to keep."""
    return {
        "intact": verdict.intact,
        "first_break": _break(verdict.first_break),
        "chains": [_chain(chain) for chain in verdict.chains],
    }


def proto_verdict_document(response: pb.VerifyChainResponse) -> dict[str, Any]:
    """The same document from the gRPC response."""
    data = MessageToDict(
        response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    for found in [data.get("first_break"), *(c.get("first_break") for c in data["chains"])]:
        if found:
            found["kind"] = str(found["kind"]).removeprefix("BREAK_KIND_")
    for chain in data["chains"]:
        for found in chain["breaks"]:
            found["kind"] = str(found["kind"]).removeprefix("BREAK_KIND_")
        for key in (
            "events",
            "last_position",
            "seals",
            "sealed_through",
            "unsealed_events",
            "unlisted_breaks",
        ):
            chain[key] = int(chain.get(key, 0))
        for found in [chain.get("first_break"), *chain["breaks"]]:
            if found:
                found["position"] = int(found.get("position", 0))
    return data


def anchors_in(document: dict[str, Any]) -> list[SealAnchor]:
    """The anchors of a saved ``ssbtek audit verify --json`` document."""
    anchors = []
    for chain in document.get("chains", []):
        seal = chain.get("latest_seal")
        if seal:
            anchors.append(
                SealAnchor(
                    str(seal["application"]),
                    int(seal["sequence"]),
                    int(seal["last_position"]),
                    str(seal["seal_hash"]).lower(),
                )
            )
    return anchors


def print_verdict(document: dict[str, Any], console: Console, *, require_sealed: bool) -> None:
    table = Table(title="Audit trail verification")
    for column in (
        "log",
        "verdict",
        "events",
        "seals",
        "sealed through",
        "unsealed",
        "first break",
    ):
        table.add_column(column)
    for chain in document["chains"]:
        found = chain.get("first_break")
        unsealed = int(chain["unsealed_events"])
        intact = chain["intact"] and not (require_sealed and unsealed)
        table.add_row(
            chain["application"],
            "[green]INTACT[/green]" if intact else "[red]BROKEN[/red]",
            str(chain["events"]),
            str(chain["seals"]),
            str(chain["sealed_through"]),
            str(unsealed),
            f"position {found['position']}: {found['kind']}" if found else "",
        )
    console.print(table)
    for chain in document["chains"]:
        for found in chain["breaks"][:20]:
            console.print(
                f"  {chain['application']} position {found['position']}: {found['kind']}: "
                f"{found['detail']}",
                markup=False,
            )
    first = document.get("first_break")
    if first:
        console.print(
            f"[red bold]BROKEN[/red bold]: the first break is in the {first['application']} log "
            f"at position {first['position']} ({first['kind']})."
        )
        return
    unsealed = sum(int(chain["unsealed_events"]) for chain in document["chains"])
    if unsealed and require_sealed:
        console.print(f"[red bold]BROKEN[/red bold]: {unsealed} events are not sealed yet.")
    elif unsealed:
        console.print(
            f"[green bold]INTACT[/green bold] up to the last seals; {unsealed} newer events are "
            "not sealed yet (nothing vouches for them until the next seal)."
        )
    else:
        console.print("[green bold]INTACT[/green bold]: every event is sealed and matches.")


def print_report_summary(document: dict[str, Any], console: Console) -> None:
    perf, avail, delivery = document["performance"], document["availability"], document["delivery"]

    def share(value: Any) -> str:
        return "-" if value is None else f"{value:.2f} %"

    def met(value: Any) -> str:
        return "-" if value is None else ("[green]met[/green]" if value else "[red]not met[/red]")

    evidence = avail["evidence"]
    if evidence is None:
        console.print("No evidence of the service's running time covers this month.")
    else:
        console.print(
            f"Evidence period {evidence['start']} to {evidence['end']}: "
            f"{_hours(avail['measured_minutes'])} of opening time measured, "
            f"{_hours(avail['not_running_minutes'])} not running, "
            f"{_hours(avail['failing_minutes'])} up and failing."
        )
    runs_read = document["running_time_read_through"]
    console.print(
        f"Read through position {document['read_through']} of the Queries log and "
        + ("no ServiceRuns log." if runs_read is None else f"{runs_read} of the ServiceRuns log.")
    )
    table = Table(title=f"SSBTEK service levels {document['month']}")
    for column in ("service level", "target", "outcome", "verdict"):
        table.add_column(column)
    table.add_row(
        "answers within 7 s (+1.5 s/subject)",
        ">= 90 %",
        share(perf["share_within_target"]),
        met(perf["target_met"]),
    )
    table.add_row(
        "answers within 12 s (+1.5 s/subject)",
        "100 %",
        share(perf["share_within_limit"]),
        met(perf["limit_met"]),
    )
    measured = bool(avail["measured_minutes"])
    table.add_row(
        "availability, opening hours",
        ">= 90 %",
        share(avail["percentage"]) if measured else "no evidence",
        met(avail["target_met"]),
    )
    table.add_row(
        "unplanned outages",
        "<= 1",
        str(avail["unplanned_outages"]) if measured else "no evidence",
        met(avail["reliability_met"]),
    )
    table.add_row(
        "queries answered", ">= 95 %", share(delivery["share"]), met(delivery["target_met"])
    )
    console.print(table)
    usage = document["usage"]
    console.print(
        f"{usage['queries']} queries about {usage['subjects']} subjects from "
        f"{len(usage['organisations'])} organisations; {usage['rejected']} refused."
    )
    for event in document.get("security_events", []):
        console.print(
            f"security event: {event['caller'] or 'a caller not recorded'} asked as "
            f"{', '.join(event['claimed'])}: {event['attempts']} attempts, refused."
        )
    for section in ("incidents", "problems", "planned_changes"):
        if isinstance(document[section], str):
            console.print(f"{section.replace('_', ' ')}: {document[section]}")


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min"
