"""The SSBTEK v10 SOAP facade, started beside the gRPC server when ``SSBTEK_SOAP_LISTEN``
is set: one function, so the composition root needs one line (ADR 19)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.loops import Runs, here
from application.admission import Admission
from application.queries import Queries
from infrastructure.settings import Settings

if TYPE_CHECKING:
    from adapters.metrics.prometheus import PrometheusMetrics
    from adapters.soap.server import SoapServer

log = logging.getLogger("ssbtek")


async def start_soap(
    queries: Queries,
    settings: Settings,
    *,
    metrics: PrometheusMetrics | None = None,
    reuse_port: bool = False,
    admission: Admission | None = None,
    application: Runs = here,
) -> SoapServer | None:
    """Start the SOAP endpoint on ``settings.soap_listen`` (mutual TLS with the gRPC port's
    files when they are set); ``None`` when it is not configured. ``application`` runs the
    queries' coroutines where ``queries`` lives (``adapters.loops``)."""
    if not settings.soap_listen:
        return None
    from adapters.soap.server import start_soap_server  # aiohttp, lxml: only now
    from adapters.soap.tls_reload import reloading_tls_context
    from infrastructure.composition import caller_identity

    cert, key, ca = settings.tls_certificate, settings.tls_private_key, settings.tls_client_ca
    tls = None
    if cert and key and ca:  # read again when the files change (ADR 25)
        tls = reloading_tls_context(cert, key, ca)
    server = await start_soap_server(
        queries,
        address=settings.soap_listen,
        tls=tls,
        reuse_port=reuse_port,
        count=metrics.soap_request_finished if metrics else None,
        identity=caller_identity(settings),
        admission=admission,
        application=application,
    )
    log.info("SSBTEK v10 SOAP on %s (WSDL at %s?wsdl)", server.url, server.url)
    return server
