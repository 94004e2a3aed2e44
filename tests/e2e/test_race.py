"""The race, live, through its Scenario: unguarded enactors under the incident's timing leave
the regional endpoint answering NXDOMAIN through the real CoreDNS and it stays so; the same
interleaving happens on every run; the manual repair brings it back. (The guarded run and the
other scenarios are in test_scenarios.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from dnsrace.cli.run import run_scenario_file
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT
from dnsrace.lab import local
from dnsrace.scenarios.control import LabControl, wait_for
from dnsrace.scenarios.probe import resolve
from dnsrace.scenarios.repair import repair

pytestmark = pytest.mark.integration
FILE = Path(__file__).resolve().parents[2] / "scenarios" / "race-unguarded.yaml"


def run_unguarded(api: client.ApiClient) -> dict[str, Any]:
    assert run_scenario_file(api, "dnsrace", FILE, as_json=True) == 0
    obj: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", "dnsrace", "scenarios", "race-unguarded"
    )
    return dict(obj["status"])


def relative(status: dict[str, Any]) -> list[str]:
    """The story with generations made relative to the scenario's base generation."""
    base = int(status["baseGeneration"])
    return [
        re.sub(r"g0*(\d+)", lambda m: f"G+{int(m.group(1)) - base}", line)
        for line in status["verdict"]["story"]
    ]


def test_unguarded_race_every_run_then_repair(
    lab_defaults: local.LabState, api: client.ApiClient, control: LabControl
) -> None:
    first = run_unguarded(api)
    verdict = first["verdict"]
    base = int(first["baseGeneration"])
    g, ahead = base + 1, base + 6
    assert verdict["finalRecord"]["answer"] == "NXDOMAIN"
    assert verdict["emptySamples"].get(REGIONAL_ENDPOINT, 0) > 0
    # it stays so: the regional endpoint is still empty after three newer plans
    assert resolve(REGIONAL_ENDPOINT, lab_defaults.dns).nxdomain
    story = verdict["story"]
    assert (
        f"STALE OVERWRITE: enactor a writes g{g} on {REGIONAL_ENDPOINT}, replacing g{ahead} (by b)"
        in story
    )
    assert (
        f"enactor b clean-up deletes plan us-east-1-g{g:06d}; it is ACTIVE on {REGIONAL_ENDPOINT}"
        in story
    )
    assert verdict["endpointsStuck"] > 0
    # the same interleaving again
    second = run_unguarded(api)
    assert relative(second) == relative(first)

    # the operators' manual fix brings the endpoint back, and the automation moves it on
    repaired = repair(control.plans, control.records)
    assert {r.endpoint for r in repaired} == set(DEFAULT_ENDPOINTS)
    assert not resolve(REGIONAL_ENDPOINT, lab_defaults.dns).empty
    for ident in ("a", "b", "c"):
        control.enactor(ident, paused=False, faults=[])
    control.planner(paused=False, cadenceSeconds=0.5)
    after = max(r.after for r in repaired)
    wait_for(
        lambda: (o := control.records.read(REGIONAL_ENDPOINT).record) and o.generation > after,
        20,
        "an enactor to apply a plan newer than the repair",
    )
