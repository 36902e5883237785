"""``KIND/STORE`` names a benchmark server, as ``bench.compare`` and ``bench.profile`` take it."""

from __future__ import annotations

import pytest

from bench.servers import ServerSpec


def test_the_full_service_runs_as_ssbtek_serve_and_the_bare_rungs_from_the_launcher() -> None:
    service = ServerSpec.parse("service/postgres", (("SSBTEK_LOG_LEVEL", "INFO"),))
    assert (service.kind, service.store, service.via) == ("service", "postgres", "cli")
    assert service.extra_env == (("SSBTEK_LOG_LEVEL", "INFO"),)
    proxy = ServerSpec.parse("proxy/memory")
    assert (proxy.kind, proxy.store, proxy.via) == ("proxy", "memory", "launcher")


@pytest.mark.parametrize("text", ["service", "service/mysql", "gateway/memory", ""])
def test_an_unknown_server_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="unknown server"):
        ServerSpec.parse(text)
