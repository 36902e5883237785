"""`make run` serves the SSBTEK v10 SOAP contract beside gRPC: an unchanged v10 client
(zeep, from the published WSDL) asks the demo municipality's question and is answered;
health and metrics cover the endpoint, the metrics labelled by entry point."""

from __future__ import annotations

import datetime as dt
import urllib.request

import pytest
import zeep

from tests.e2e.conftest import RunningServer

pytestmark = pytest.mark.e2e

BLOCKS = ("AF", "CSN", "FK", "SKV", "SO", "TNS", "MIV")


def test_a_v10_client_is_answered_by_the_service_make_run_starts(server: RunningServer) -> None:
    client = zeep.Client(f"{server.soap_url}?wsdl")  # type: ignore[no-untyped-call]
    answer = client.service.hamtaBastjanstInformation(
        generellaFrageparametrar={
            "korrelationsid": "e2e-1",
            "fraganSkallInkluderasISvaret": False,
            "ingivare": {
                "organisationsnummer": "162120000142",
                "namn": "Demo kommun",
                "handlaggare": "HL000001",
            },
            "personidentitet": "191212121212",
            "arendeidentitet": "EKB-2026-0001",
            "tidsperiod": {"fromDatum": dt.date(2026, 1, 1), "tomDatum": dt.date(2026, 6, 30)},
            "syfte": "Beslut om eller kontroll av Ekonomisk försörjningsstöd",
            "lagtext": "11 kap. 11 a § socialtjänstlagen (2001:453)",
        },
        specifikaFrageparametrar={tag: {"inkludera": tag != "TNS"} for tag in BLOCKS},
    )
    assert answer.korrelationsid == "e2e-1"
    for tag in ("AF", "CSN", "FK", "SKV", "SO", "MIV"):
        block = getattr(answer.svarsdata, tag)
        assert block.data is not None or block.error.kalla in ("SSBT", "BT")
    assert answer.svarsdata.TNS is None
    tested = client.service.testaBastjanstInformation()
    assert all(getattr(tested, tag).anropad for tag in BLOCKS)

    health_url = server.soap_url.rsplit("/", 1)[0] + "/health"
    with urllib.request.urlopen(health_url, timeout=5) as response:
        assert response.read() == b"SERVING\n"
    with urllib.request.urlopen(server.metrics_url, timeout=5) as response:
        scraped = response.read().decode()
    assert 'ssbtek_queries_total{entry_point="SOAP_V10",outcome="ANSWERED"}' in scraped
    assert (
        'ssbtek_soap_requests_total{operation="testaBastjanstInformation",outcome="OK"} 1.0'
        in scraped
    )
    # admission control (ADR 26) runs in the product: nothing in progress now, its limit shown
    assert "\nssbtek_queries_in_progress 0.0\n" in scraped
    (limit,) = [
        float(line.split()[1])
        for line in scraped.splitlines()
        if line.startswith("ssbtek_admission_limit ")
    ]
    assert 8 <= limit <= 360
