"""The race, live: unguarded enactors under the incident's timing leave the regional endpoint
answering NXDOMAIN through the real CoreDNS, and it stays so; guarded enactors under the same
faults never empty an endpoint, never move one backwards, and converge on the newest plan."""

from __future__ import annotations

import re

import pytest
from kubernetes import client

from dnsrace.controlplane import lab
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT
from dnsrace.labcontrol import LabControl
from dnsrace.probe import resolve
from dnsrace.race import RaceResult, run_race
from dnsrace.repair import repair
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def control(lab_defaults: lab.LabState, api: client.ApiClient) -> LabControl:
    return LabControl(api, lab_defaults.record_store)


def _normalised(result: RaceResult) -> list[str]:
    """The run's notable events with generations made relative to the stalled plan G."""
    base = result.stalled_generation

    def rel(match: re.Match[str]) -> str:
        offset = int(match.group(1)) - base
        return "G" if offset == 0 else f"G{offset:+d}"

    keep = {"StaleOverwrite", "ActivePlanDeleted", "RecordCleared"}
    return [re.sub(r"g0*(\d+)", rel, e.message) for e in result.events if e.reason in keep]


def test_unguarded_race_reproduces_the_outage_every_run(
    control: LabControl, lab_defaults: lab.LabState
) -> None:
    first = run_race(control, lab_defaults.dns, "unguarded")
    g, ahead = first.stalled_generation, first.ahead_generation
    # observed through real DNS queries, and it stays so after newer plans
    assert first.outage
    assert first.regional_addresses == ()
    assert first.empty_samples.get(REGIONAL_ENDPOINT, 0) > 0
    assert first.final_generation >= ahead + 3
    assert resolve(REGIONAL_ENDPOINT, lab_defaults.dns).nxdomain
    # the record of what happened names the stale overwrite and the active plan's deletion
    messages = [e.message for e in first.events]
    assert (
        f"STALE OVERWRITE: enactor a writes g{g} on {REGIONAL_ENDPOINT}, replacing g{ahead} (by b)"
        in messages
    )
    assert (
        f"enactor b clean-up deletes plan us-east-1-g{g:06d}; it is ACTIVE on {REGIONAL_ENDPOINT}"
        in messages
    )
    assert any(e.reason == "RecordCleared" and REGIONAL_ENDPOINT in e.message for e in first.events)
    assert any(e.reason == "EndpointStuck" for e in first.events)
    assert f"{REGIONAL_ENDPOINT}: g{ahead} -> g{g} (by a)" in first.regressions
    # the same interleaving again
    second = run_race(control, lab_defaults.dns, "unguarded")
    assert second.outage
    assert _normalised(second) == _normalised(first)

    # the operators' manual fix brings the endpoint back, and the automation moves it on
    repaired = repair(control.plans, control.records)
    assert {r.endpoint for r in repaired} == set(DEFAULT_ENDPOINTS)
    assert not resolve(REGIONAL_ENDPOINT, lab_defaults.dns).empty
    control.planner(paused=False, cadenceSeconds=0.5)
    after = max(r.after for r in repaired)
    wait_for(
        lambda: (o := control.records.read(REGIONAL_ENDPOINT).record) and o.generation > after,
        20,
        "an enactor to apply a plan newer than the repair",
    )


def test_guarded_race_holds(control: LabControl, lab_defaults: lab.LabState) -> None:
    result = run_race(control, lab_defaults.dns, "guarded")
    assert not result.outage
    assert result.empty_samples == {}
    assert result.regressions == []
    assert result.count("StaleOverwrite") == 0
    assert result.count("ActivePlanDeleted") == 0
    assert result.count("RecordCleared") == 0
    assert any(
        e.reason == "SkippedNewer" and REGIONAL_ENDPOINT in e.message and "enactor a" in e.message
        for e in result.events
    )
    for name, record in result.records.items():
        assert record["generation"] == result.final_generation, name
        assert record["served"], name
    answer = resolve(REGIONAL_ENDPOINT, lab_defaults.dns)
    assert answer.rcode == "NOERROR"
    assert answer.addresses
