"""A replay's grant resumed after a controller restart: the grant is saved before the enactor is
written, so a restart between the two leaves a saved grant the enactor never got. The resumed
step writes the enactor again with the target and the plan view that were saved (the plans
may have changed since), and a grant the enactor did get is not taken twice."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from dnsrace.scenarios.control import LabTimeout
from dnsrace.scenarios.engine import Run, StepEngine


class Lab:
    """An in-memory twin of what a grant touches: the enactors' specs and stepsTaken (an
    enactor takes steps up to its stepGate), and the plans' generations."""

    def __init__(self, steps_taken: int, generations: list[int]) -> None:
        self.steps_taken = {"a": steps_taken}
        self.specs: dict[str, dict[str, Any]] = {"a": {}}
        self.plans = SimpleNamespace(
            list=lambda: [SimpleNamespace(generation=g) for g in generations]
        )

    def enactor(self, name: str, **spec: Any) -> None:
        self.specs[name].update(spec)
        gate = self.specs[name].get("stepGate")
        if gate is not None:
            self.steps_taken[name] = max(self.steps_taken[name], int(gate))

    def enactor_status(self, name: str) -> dict[str, Any]:
        return {"stepsTaken": self.steps_taken[name]}

    def wait(self, predicate: Any, timeout: float, what: str, every: float = 0.02) -> Any:
        found = predicate()
        if not found:
            raise LabTimeout(f"waiting for {what}")
        return found


def engine(lab: Lab, progress: dict[str, Any], saved: list[dict[str, Any]]) -> StepEngine:
    run = Run("guarded", 2, ("x.example.com",), ({"grant": "a", "view": "current"},), True)
    return StepEngine(
        lab,  # type: ignore[arg-type]
        run,
        progress,
        saved.append,
        lambda kind, message: None,
        time.monotonic() + 60,
    )


def test_a_grant_saved_but_never_written_is_written_on_resume() -> None:
    # before the restart: the grant of step 0 saved (target 5, view g3-g4), the Enactor not
    # written; since then the planner made g5
    lab = Lab(steps_taken=4, generations=[3, 4, 5])
    progress = {"baseGeneration": 0, "pendingGrant": {"index": 0, "target": 5, "viewGate": [3, 4]}}
    saved: list[dict[str, Any]] = []
    engine(lab, progress, saved).execute(0)
    assert lab.steps_taken["a"] == 5
    assert lab.specs["a"] == {"stepGate": 5, "viewGate": [3, 4], "paused": False}
    assert saved == []  # the saved grant stands


def test_a_grant_the_enactor_took_is_not_taken_twice() -> None:
    lab = Lab(steps_taken=5, generations=[3, 4])
    progress = {"baseGeneration": 0, "pendingGrant": {"index": 0, "target": 5, "viewGate": [3, 4]}}
    engine(lab, progress, []).execute(0)
    assert lab.steps_taken["a"] == 5


def test_a_fresh_grant_is_saved_with_its_view_before_the_enactor_is_written() -> None:
    lab = Lab(steps_taken=2, generations=[7, 8])
    saved: list[dict[str, Any]] = []
    progress: dict[str, Any] = {"baseGeneration": 6}
    engine(lab, progress, saved).execute(0)
    grant = {"index": 0, "target": 3, "viewGate": [7, 8]}
    assert saved == [{"pendingGrant": grant, "stepIndex": 0}]
    assert lab.specs["a"] == {"stepGate": 3, "viewGate": [7, 8], "paused": False}


def test_the_twin_fails_a_wait_that_cannot_end() -> None:
    """The twin's wait raises when its condition does not hold (so the tests above could fail)."""
    with pytest.raises(LabTimeout):
        Lab(0, []).wait(lambda: False, 1, "nothing")
