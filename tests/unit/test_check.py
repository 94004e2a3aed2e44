"""`dnsrace check`: the explorer over the core steps finds the incident under the unguarded
protocol, finds nothing under the guarded one (3 enactors, 5 plans, and larger), and shows
that guarding clean-up alone is not enough. Seeded random fault schedules too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dnsrace.check.explorer import Config, explore
from dnsrace.check.schedules import ScheduleConfig, run_many, simulate
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.protocol import Protocol


@pytest.fixture(scope="module")
def unguarded() -> dict[str, object]:
    return explore(Config(Protocol.UNGUARDED, enactors=3, plans=5, keep=1)).as_json()


def test_unguarded_violates_every_invariant_with_an_incident_trace(
    unguarded: dict[str, object],
) -> None:
    assert unguarded["complete"] is True
    violations = {v["invariant"]: v for v in unguarded["violations"]}  # type: ignore[attr-defined]
    assert set(violations) == {"I1", "I2", "I3"}
    i1 = [line for step in violations["I1"]["trace"] for line in step["did"]]
    assert any(line.startswith("STALE OVERWRITE: enactor a writes g1") for line in i1)
    assert any("clean-up deletes plan us-east-1-g000001; it is ACTIVE on" in line for line in i1)
    assert any(line.endswith("record EMPTY") for line in i1)
    # I2's shortest trace is the stale overwrite itself: six steps
    assert len(violations["I2"]["trace"]) == 6


def test_guarded_explores_3_enactors_5_plans_completely_without_violation() -> None:
    result = explore(Config(Protocol.GUARDED, enactors=3, plans=5, keep=1))
    assert result.complete
    assert result.violations == []
    assert result.states > 10_000


@pytest.mark.parametrize(
    "config",
    [
        Config(Protocol.GUARDED, enactors=3, plans=6, keep=1),
        Config(Protocol.GUARDED, enactors=3, plans=5, keep=2, endpoints=DEFAULT_ENDPOINTS[:3]),
    ],
    ids=["3x6", "3x5-3endpoints"],
)
def test_guarded_holds_in_larger_configurations(config: Config) -> None:
    result = explore(config)
    assert result.complete
    assert result.violations == []


def test_guarding_cleanup_alone_is_not_enough() -> None:
    result = explore(Config(Protocol.CLEANUP_ONLY, enactors=2, plans=4, keep=1))
    assert result.complete
    assert "I2" in {v.invariant for v in result.violations}
    assert "I1" not in {v.invariant for v in result.violations}


def test_fifty_seeded_random_schedules() -> None:
    seeds = range(50)
    guarded = run_many(seeds, ScheduleConfig(Protocol.GUARDED))
    assert [o.seed for o in guarded if o.violations] == []
    unguarded = run_many(seeds, ScheduleConfig(Protocol.UNGUARDED))
    outages = [o.seed for o in unguarded if o.outage_at_end]
    violating = [o.seed for o in unguarded if o.violations]
    print(f"unguarded: {len(violating)}/50 violate, {len(outages)}/50 end in the outage {outages}")
    assert violating
    assert outages


def test_a_seed_is_the_same_interleaving_every_run() -> None:
    cfg = ScheduleConfig(Protocol.UNGUARDED)
    first, second = simulate(7, cfg), simulate(7, cfg)
    assert (first.violations, first.steps, first.stale_overwrites) == (
        second.violations,
        second.steps,
        second.stale_overwrites,
    )


def test_cli_json_and_export(tmp_path: object) -> None:
    out = tmp_path / "trace.yaml"  # type: ignore[operator]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "check",
            "--enactors",
            "2",
            "--plans",
            "3",
            "--json",
            "--export",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1
    data = json.loads(res.stdout)
    for key in ("states", "transitions", "depth", "seconds", "complete", "violations"):
        assert key in data
    assert data["violations"][0]["invariant"] == "I1"
    text = out.read_text()
    assert "kind: Scenario" in text
    assert "STALE OVERWRITE" in text
    bad = subprocess.run(
        [sys.executable, "-m", "dnsrace.cli", "check", "--enactors", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == "dnsrace: --enactors must be 1 to 10"
