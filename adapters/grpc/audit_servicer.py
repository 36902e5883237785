"""``GrpcAuditServicer``: thin. Translate the request, make one audit call, translate back.

Verification and the report read whole logs, so they run in a worker thread; the replay
reads a batch at a time in worker threads. Who may call is checked before the servicer
runs (``authorisation.AuditorsOnly``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from functools import partial
from typing import Final

import grpc

from adapters.grpc import audit_translation as translation
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from adapters.grpc.interceptors import Context
from adapters.grpc.server import ServiceRegistration
from adapters.reporting.report_json import report_json, report_to_dict
from application.audit.replay import POLL_INTERVAL_S
from application.audit.report_model import MonthlyReport
from application.audit.trail import AuditTrail

AUDIT_SERVICE: Final = pb.DESCRIPTOR.services_by_name["AuditService"].full_name


class GrpcAuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(
        self,
        trail: AuditTrail,
        *,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._trail = trail
        self._poll_interval_s = poll_interval_s

    async def ReplayEvents(
        self, request: pb.ReplayEventsRequest, context: Context
    ) -> AsyncIterator[pb.ReplayEventsResponse]:
        chosen, after = translation.replay_filter(request)
        events = self._trail.stream(
            chosen, after, follow=request.follow, poll_interval_s=self._poll_interval_s
        )
        async with aclosing(events):
            async for event in events:
                yield pb.ReplayEventsResponse(event=translation.event_to_proto(event))

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        anchors = translation.anchors_from_proto(request.anchors)
        verdict = await asyncio.to_thread(
            partial(self._trail.verify, list(request.applications), anchors, resume=request.resume)
        )
        return translation.verdict_to_proto(verdict)

    async def GetReport(
        self, request: pb.GetReportRequest, context: Context
    ) -> pb.GetReportResponse:
        month = translation.month_from_proto(request)
        report = await asyncio.to_thread(self._trail.report, month)
        html = await asyncio.to_thread(_html, report) if request.include_html else ""
        return pb.GetReportResponse(
            report=translation.struct_of(report_to_dict(report)),
            html=html,
            report_json=report_json(report),
        )


def register_audit_service(
    trail: AuditTrail,
    *,
    poll_interval_s: float = POLL_INTERVAL_S,
) -> ServiceRegistration:
    """``build_server(..., services=[register_audit_service(trail)])``."""

    def audit_service(server: grpc.aio.Server) -> str:
        servicer = GrpcAuditServicer(trail, poll_interval_s=poll_interval_s)
        pb_grpc.add_AuditServiceServicer_to_server(servicer, server)
        return AUDIT_SERVICE

    return audit_service


def _html(report: MonthlyReport) -> str:
    """The report's page; its charts' library is imported here, in the worker thread, only
    when a page is asked for."""
    from adapters.reporting.html_report import render_html

    return render_html(report)
