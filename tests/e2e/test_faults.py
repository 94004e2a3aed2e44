"""Faults injected at the store boundaries of a live enactor: slow writes with retries, a
crash at a named step (fires once; the supervisor restarts the enactor), a pause until
released. Faults are data on the Enactor object, not code edits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT
from dnsrace.lab import local
from dnsrace.scenarios.control import LabControl, wait_for

pytestmark = pytest.mark.integration


def _protocol_lines(state: local.LabState, component: str, event: str) -> list[dict[str, Any]]:
    lines = (state.dir / "logs" / f"{component}.log").read_text().splitlines()
    out = []
    for line in lines:
        if f'"event": "{event}"' in line:
            out.append(json.loads(line))
    return out


def test_slow_writes_retry_then_land(lab_defaults: local.LabState, control: LabControl) -> None:
    control.reset("unguarded", 3)
    control.enactor(
        "b",
        paused=False,
        faults=[{"at": "write", "endpoint": REGIONAL_ENDPOINT, "retries": 3, "delaySeconds": 0.1}],
    )
    before = len(_protocol_lines(lab_defaults, "enactor-b", "slow-write"))
    plan = control.create_plan(*_targets_and_endpoints(control))
    control.wait_applied("b", plan.generation)
    slow = _protocol_lines(lab_defaults, "enactor-b", "slow-write")[before:]
    assert [s["attempt"] for s in slow] == [1, 2, 3]
    assert {s["endpoint"] for s in slow} == {REGIONAL_ENDPOINT}
    record = control.records.read(REGIONAL_ENDPOINT).record
    assert record is not None
    assert record.generation == plan.generation


def test_crash_fault_fires_once_and_the_enactor_comes_back(
    lab_defaults: local.LabState, control: LabControl
) -> None:
    control.reset("guarded", 3)
    state = local.LabState.load(lab_defaults.dir)
    assert state is not None
    restarts = state.components["enactor-c"].restarts
    control.enactor("c", paused=False, faults=[{"at": "before-cleanup", "crash": True}])
    first = control.create_plan(*_targets_and_endpoints(control))

    def restarted() -> bool:
        now = local.LabState.load(lab_defaults.dir)
        return bool(now and now.components["enactor-c"].restarts == restarts + 1)

    wait_for(restarted, 30, "enactor-c to crash at before-cleanup and be restarted")
    assert "before-cleanup:*" in control.enactor_status("c").get("firedCrashes", [])
    # the fault stays in the spec but has fired: the restarted enactor walks on
    control.wait_applied("c", first.generation, timeout=60)
    second = control.create_plan(*_targets_and_endpoints(control))
    control.wait_applied("c", second.generation, timeout=60)
    now = local.LabState.load(lab_defaults.dir)
    assert now is not None
    assert now.components["enactor-c"].restarts == restarts + 1
    # a reset clears the faults and with them the fired crash: the same fault, set again by
    # the next scenario, crashes the enactor again (found on kind, where scenarios run one
    # after another: enactor-crash after free-run had no crash, its wait passed on the old one)
    control.reset("guarded", 3)
    assert control.enactor_status("c").get("firedCrashes") == []
    control.enactor("c", paused=False, faults=[{"at": "before-cleanup", "crash": True}])
    control.create_plan(*_targets_and_endpoints(control))
    restarts += 1
    wait_for(restarted, 30, "enactor-c to crash again after the reset")


def test_pause_holds_until_released(lab_defaults: local.LabState, control: LabControl) -> None:
    control.reset("guarded", 3)
    control.enactor(
        "a",
        paused=False,
        faults=[{"at": "before-write", "endpoint": REGIONAL_ENDPOINT, "pause": True}],
    )
    plan = control.create_plan(*_targets_and_endpoints(control))
    control.wait_paused_at("a", f"before-write:{REGIONAL_ENDPOINT}")
    assert control.records.read(REGIONAL_ENDPOINT).record is None
    control.enactor("a", faults=[])
    control.wait_applied("a", plan.generation)
    assert control.enactor_status("a").get("pausedAt") == ""


def _targets_and_endpoints(control: LabControl) -> tuple[Any, Any]:
    return control.pool_targets(), DEFAULT_ENDPOINTS
