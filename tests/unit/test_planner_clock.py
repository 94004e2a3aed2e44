"""The Planner's clock: plans at its cadence even when that is shorter than the health
interval, without drift, without a burst after falling behind, and never a busy loop."""

from __future__ import annotations

import itertools

import pytest

from dnsrace.core.cadence import PlannerClock


def run(
    clock: PlannerClock, cadence: float, interval: float, work: float, until: float
) -> list[float]:
    """Drive the clock as the planner loop does, each plan taking `work` seconds: the plans'
    instants."""
    now, plans = 0.0, []
    while now < until:
        if clock.health_due(now):
            clock.checked(now, interval)
        if clock.plan_due(now, cadence):
            now += work
            plans.append(now)
            clock.planned(now, cadence, on_cadence=True)
        pause = clock.sleep(now)
        assert pause > 0 or clock.health_due(now) or clock.plan_due(now, cadence)
        now += max(pause, 1e-9)
    return plans


def test_a_cadence_shorter_than_the_health_interval_is_honoured() -> None:
    plans = run(PlannerClock(), cadence=0.3, interval=0.5, work=0.04, until=30.0)
    gaps = [b - a for a, b in itertools.pairwise(plans)]
    # 0.3 s apart, not 0.5 (the health interval) nor 0.34 (cadence plus a plan's work)
    assert len(plans) == pytest.approx(100, abs=1)
    assert max(gaps) == pytest.approx(0.3, abs=1e-6)


def test_a_planner_that_fell_behind_does_not_burst() -> None:
    clock = PlannerClock()
    assert not clock.plan_due(0.0, 1.0)
    assert clock.plan_due(5.0, 1.0)  # four cadences late (a slow API server)
    clock.planned(5.0, 1.0, on_cadence=True)
    assert not clock.plan_due(5.5, 1.0)
    assert clock.plan_due(6.0, 1.0)


def test_a_plan_for_health_restarts_the_cadence() -> None:
    clock = PlannerClock()
    clock.plan_due(0.0, 2.0)
    clock.planned(1.5, 2.0, on_cadence=False)
    assert not clock.plan_due(3.0, 2.0)
    assert clock.plan_due(3.5, 2.0)


def test_no_cadence_wakes_only_for_health() -> None:
    clock = PlannerClock()
    clock.checked(0.0, 0.5)
    assert not clock.plan_due(100.0, 0)
    assert clock.sleep(0.1) == pytest.approx(0.4)
