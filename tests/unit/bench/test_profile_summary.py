"""The profile summary counts each sample once, in the innermost part its stack passes."""

from __future__ import annotations

from pathlib import Path

from bench.profile import OTHER, summarise

SAGA = "main (infrastructure/cli.py:1);Queries._aggregate (application/queries.py:300)"
FAN_OUT = f"{SAGA};FanOut._call (application/fan_out.py:120)"
FETCH = f"{FAN_OUT};SimulatedBaseService.fetch (adapters/providers/simulated/service.py:61)"


def test_nested_parts_count_once_and_the_rest_is_other(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "\n".join(
            [
                f"{FETCH};rng (adapters/providers/simulated/rules.py:61) 6",
                f"{FAN_OUT};timeout_at (asyncio/timeouts.py:1) 2",
                "main (infrastructure/cli.py:1);Handle._run (asyncio/events.py:80) 2",
            ]
        )
        + "\n"
    )
    lines = summarise(raw)
    assert lines[0] == "10 samples"
    assert "| simulated providers (L1 does the same) | 60.0 % |" in lines
    assert "| fan-out tasks and time limits | 20.0 % |" in lines
    assert f"| {OTHER} | 20.0 % |" in lines
    assert "- 20.0 % main;Handle._run" in lines


def test_an_empty_profile_says_so(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text("")
    assert summarise(raw) == ["no samples"]
