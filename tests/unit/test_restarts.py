"""When the supervisor restarts a child and calls it ready: back-off doubling over crashes in a
row up to its cap, reset after a healthy period, readiness only from the probe, a start that
times out counted as a crash, a hold that is not a crash."""

from __future__ import annotations

from dnsrace.lab.restarts import ChildLife, Phase, RestartPolicy

POLICY = RestartPolicy(base=0.5, cap=4.0, healthy_after=30.0)


def crash_and_restart(life: ChildLife, now: float) -> float:
    """The child exits at `now`, is started when due and fails again at once: its wait."""
    wait = life.exited(now, POLICY, held=False)
    assert wait is not None
    assert not life.due(now + wait - 0.01)
    assert life.due(now + wait)
    life.spawned(now + wait)
    return wait


def test_a_crash_loop_backs_off_doubling_up_to_the_cap() -> None:
    life, now, waits = ChildLife.ready_at(0.0), 100.0, []
    for _ in range(6):
        waits.append(crash_and_restart(life, now))
        now += waits[-1] + 1.0  # each restart dies a second after it was started
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_healthy_period_resets_the_back_off() -> None:
    life = ChildLife.ready_at(0.0)
    for now in (100.0, 101.0, 103.0):
        crash_and_restart(life, now)
    assert life.crashes == 3
    life.became_ready(110.0)
    assert crash_and_restart(life, 125.0) == 4.0  # ready 15 s only: still in a row
    life.became_ready(200.0)
    assert crash_and_restart(life, 230.0) == 0.5  # ready 30 s: counted from one again


def test_ready_only_when_the_probe_says_so() -> None:
    life = ChildLife.ready_at(0.0)
    crash_and_restart(life, 50.0)
    assert life.phase is Phase.STARTING  # spawned, not ready: the supervisor keeps probing
    life.became_ready(52.0)
    # (mypy keeps `phase` narrowed to STARTING across the call that changes it)
    assert life.phase is Phase.READY  # type: ignore[comparison-overlap]


def test_a_start_that_never_gets_ready_times_out() -> None:
    life = ChildLife.ready_at(0.0)
    crash_and_restart(life, 10.0)
    assert not life.start_timed_out(10.5 + 90.0, 90.0)
    assert life.start_timed_out(10.5 + 90.1, 90.0)
    life.became_ready(11.0)
    assert not life.start_timed_out(1000.0, 90.0)


def test_a_held_child_waits_for_release_and_is_not_a_crash() -> None:
    life = ChildLife.ready_at(0.0)
    assert life.exited(5.0, POLICY, held=True) is None
    assert (life.phase, life.crashes) == (Phase.HELD, 0)
    assert not life.due(1e9)
    life.released(60.0)
    assert life.due(60.0)
