"""``ssbtek agreement ...``: documents and versions, acknowledgements, fees (001 § 4; 000)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as apb
from infrastructure.cli_kit import (
    Arg,
    Build,
    Commands,
    Show,
    add_command,
    arg,
    day_arg,
    short,
    text,
)
from infrastructure.cli_names import AGREEMENT_DOCUMENTS

if TYPE_CHECKING:  # grpc and rich when a command runs: its ``--help`` stays light
    import grpc
    from google.protobuf.message import Message
    from rich.console import Console

ORG = arg("organisation", help="organisation number, NNNNNN-NNNN")
DOCUMENTS = AGREEMENT_DOCUMENTS


def _stub(channel: grpc.Channel) -> Any:
    from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2_grpc as apb_grpc

    return apb_grpc.AgreementServiceStub(channel)


def _show_documents(versions: Iterable[apb.DocumentVersion], console: Console, title: str) -> None:
    from rich.table import Table

    table = Table(title=title, expand=True)
    for column in ("Document", "Version", "Effective from", "Announced"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            short(apb.AgreementDocument.Name(v.document), "AGREEMENT_DOCUMENT_"),
            v.version,
            text(v.effective_from),
            text(v.announced_on),
        )
    console.print(table)


def _show_acknowledgements(acks: apb.Acknowledgements, console: Console) -> None:
    document = short(apb.AgreementDocument.Name(acks.document), "AGREEMENT_DOCUMENT_")
    from rich.table import Table

    table = Table(title=f"Acknowledgements of {document} {acks.version}")
    table.add_column("Organisation")
    table.add_column("Acknowledged")
    for ack in acks.acknowledged:
        table.add_row(ack.organisation_number, text(ack.acknowledged_on))
    for pending in acks.pending:
        table.add_row(pending, "pending")
    console.print(table)


def _show_fees(fees: Iterable[apb.AnnualFee], console: Console) -> None:
    from rich.table import Table

    table = Table(title="Annual fee (SEK per inhabitant)")
    for column in ("Year", "Per inhabitant", "Decided"):
        table.add_column(column)
    for fee in fees:
        table.add_row(str(fee.year), fee.per_inhabitant, text(fee.decided_on))
    console.print(table)


# -- agreement requests ---------------------------------------------------------------------


def _document(a: argparse.Namespace) -> apb.AgreementDocument.ValueType:
    return apb.AgreementDocument.Value(f"AGREEMENT_DOCUMENT_{a.document}")


def _governing(a: argparse.Namespace) -> Message:
    request = apb.GetGoverningDocumentsRequest()
    if a.on:
        request.day.CopyFrom(a.on)
    return request


def _announce(a: argparse.Namespace) -> Message:
    return apb.AnnounceDocumentVersionRequest(
        document=_document(a), version=a.version, effective_from=a.effective_from
    )


def _acknowledge(a: argparse.Namespace) -> Message:
    return apb.AcknowledgeDocumentVersionRequest(
        document=_document(a), version=a.version, organisation_number=a.organisation
    )


def _invoice(response: apb.ComputeInvoiceResponse, console: Console) -> None:
    i = response.invoice
    console.print(
        f"{i.organisation_number} {i.year}: {i.population} inhabitants x {i.per_inhabitant} SEK"
        f" = [bold]{i.amount} SEK[/bold]"
    )


def add_agreement_actions(actions: Commands) -> None:
    def add(name: str, help_text: str, rpc: str, build: Build, show: Show, *args: Arg) -> None:
        add_command(actions, name, help_text, _stub, rpc, build, show, *args)

    document, version = arg("document", choices=DOCUMENTS), arg("version")
    add(
        "governing",
        "which version of which document governs (001 § 4)",
        "GetGoverningDocuments",
        _governing,
        lambda r, c: _show_documents(
            [g.version for g in r.documents], c, "Governing, first prevails"
        ),
        day_arg("--on", "the day, default today"),
    )
    add(
        "versions",
        "every announced version",
        "ListDocumentVersions",
        lambda a: apb.ListDocumentVersionsRequest(),
        lambda r, c: _show_documents(r.versions, c, "Document versions"),
    )
    add(
        "announce",
        "announce a new version to the parties in force (000)",
        "AnnounceDocumentVersion",
        _announce,
        lambda r, c: _show_documents([r.version], c, "Announced"),
        document,
        version,
        day_arg("--effective-from", "the first day it governs", required=True),
    )
    add(
        "acknowledge",
        "a party acknowledges a version (000)",
        "AcknowledgeDocumentVersion",
        _acknowledge,
        lambda r, c: _show_acknowledgements(r.acknowledgements, c),
        document,
        version,
        ORG,
    )
    add(
        "acknowledgements",
        "who acknowledged a version",
        "GetAcknowledgements",
        lambda a: apb.GetAcknowledgementsRequest(document=_document(a), version=a.version),
        lambda r, c: _show_acknowledgements(r.acknowledgements, c),
        document,
        version,
    )
    add(
        "fees",
        "the annual per-capita fees",
        "ListAnnualFees",
        lambda a: apb.ListAnnualFeesRequest(),
        lambda r, c: _show_fees(r.fees, c),
    )
    add(
        "set-fee",
        "SKR sets a year's fee (004 § 13.6)",
        "SetAnnualFee",
        lambda a: apb.SetAnnualFeeRequest(year=a.year, per_inhabitant=a.per_inhabitant),
        lambda r, c: _show_fees([r.fee], c),
        arg("year", type=int),
        arg("per_inhabitant", help="SEK per inhabitant, e.g. 0.60"),
    )
    add(
        "invoice",
        "a municipality's fee for a year (004 § 13.6)",
        "ComputeInvoice",
        lambda a: apb.ComputeInvoiceRequest(
            organisation_number=a.organisation, year=a.year, population=a.population
        ),
        _invoice,
        ORG,
        arg("--year", type=int, required=True),
        arg("--population", type=int, required=True),
    )
