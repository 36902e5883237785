"""``GrpcAgreementServicer``: thin. Translate the request, one application call, translate back."""

from __future__ import annotations

import asyncio
from typing import Final

from adapters.grpc.fields import Fields, given
from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2_grpc as pb_grpc
from adapters.grpc.interceptors import Context
from adapters.grpc.party_translation import (
    acknowledgements_to_proto,
    date_to_proto,
    document_to_proto,
    fee_to_proto,
    governing_to_proto,
    invoice_to_proto,
)
from application.agreements import Agreements
from domain.agreement.values import AgreementDocument

AGREEMENT_SERVICE: Final = pb.DESCRIPTOR.services_by_name["AgreementService"].full_name
_DOCUMENT_PREFIX: Final = "AGREEMENT_DOCUMENT_"


def _document(fields: Fields, value: int) -> AgreementDocument | None:
    return fields.enum(
        "document", pb.AgreementDocument.Name, value, _DOCUMENT_PREFIX, AgreementDocument
    )


class GrpcAgreementServicer(pb_grpc.AgreementServiceServicer):
    def __init__(self, agreements: Agreements) -> None:
        self._agreements = agreements

    async def AnnounceDocumentVersion(
        self, request: pb.AnnounceDocumentVersionRequest, context: Context
    ) -> pb.AnnounceDocumentVersionResponse:
        fields = Fields()
        document = _document(fields, request.document)
        effective_from = fields.date("effective_from", request.effective_from)
        fields.done()
        version = await asyncio.to_thread(
            self._agreements.announce_version,
            given(document),
            request.version,
            given(effective_from),
        )
        return pb.AnnounceDocumentVersionResponse(version=document_to_proto(version))

    async def AcknowledgeDocumentVersion(
        self, request: pb.AcknowledgeDocumentVersionRequest, context: Context
    ) -> pb.AcknowledgeDocumentVersionResponse:
        fields = Fields()
        document = _document(fields, request.document)
        fields.done()
        acknowledgements = await asyncio.to_thread(
            self._agreements.acknowledge,
            given(document),
            request.version,
            request.organisation_number,
        )
        return pb.AcknowledgeDocumentVersionResponse(
            acknowledgements=acknowledgements_to_proto(acknowledgements)
        )

    async def GetAcknowledgements(
        self, request: pb.GetAcknowledgementsRequest, context: Context
    ) -> pb.GetAcknowledgementsResponse:
        fields = Fields()
        document = _document(fields, request.document)
        fields.done()
        acknowledgements = await asyncio.to_thread(
            self._agreements.acknowledgements, given(document), request.version
        )
        return pb.GetAcknowledgementsResponse(
            acknowledgements=acknowledgements_to_proto(acknowledgements)
        )

    async def GetGoverningDocuments(
        self, request: pb.GetGoverningDocumentsRequest, context: Context
    ) -> pb.GetGoverningDocumentsResponse:
        fields = Fields()
        day = fields.date("day", request.day, required=False)
        fields.done()
        governing = await asyncio.to_thread(self._agreements.governing_documents, day)
        response = pb.GetGoverningDocumentsResponse(
            documents=[governing_to_proto(g) for g in governing]
        )
        if day is not None:
            response.day.CopyFrom(date_to_proto(day))
        return response

    async def ListDocumentVersions(
        self, request: pb.ListDocumentVersionsRequest, context: Context
    ) -> pb.ListDocumentVersionsResponse:
        versions = await asyncio.to_thread(self._agreements.versions)
        return pb.ListDocumentVersionsResponse(versions=[document_to_proto(v) for v in versions])

    async def SetAnnualFee(
        self, request: pb.SetAnnualFeeRequest, context: Context
    ) -> pb.SetAnnualFeeResponse:
        fields = Fields()
        per_inhabitant = fields.amount("per_inhabitant", request.per_inhabitant)
        fields.done()
        fee = await asyncio.to_thread(
            self._agreements.set_annual_fee, request.year, given(per_inhabitant)
        )
        return pb.SetAnnualFeeResponse(fee=fee_to_proto(fee))

    async def ListAnnualFees(
        self, request: pb.ListAnnualFeesRequest, context: Context
    ) -> pb.ListAnnualFeesResponse:
        fees = await asyncio.to_thread(self._agreements.annual_fees)
        return pb.ListAnnualFeesResponse(fees=[fee_to_proto(f) for f in fees])

    async def ComputeInvoice(
        self, request: pb.ComputeInvoiceRequest, context: Context
    ) -> pb.ComputeInvoiceResponse:
        invoice = await asyncio.to_thread(
            self._agreements.invoice, request.organisation_number, request.year, request.population
        )
        return pb.ComputeInvoiceResponse(invoice=invoice_to_proto(invoice))
