"""When the lab supervisor restarts a child and when it calls it ready again: one small state
machine per child, pure (it takes `now`), so the supervisor's loop never sleeps for one child.

A child that exits waits out a back-off that doubles with each crash in a row (from `base` up to
`cap`), then is started again and is *starting* until its readiness probe answers: only then is
it ready. A child that stays ready for `healthy_after` seconds has its crash count reset, so the
next crash is restarted quickly again. A child that is not ready within its start timeout is
stopped, which counts as a crash. A held child (the `kill --hold` of the CLI) is not restarted
until released; its exit is not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Phase(Enum):
    STARTING = "starting"  # spawned, readiness not seen yet
    READY = "ready"
    BACKING_OFF = "backing-off"  # exited, waiting until `next_start`
    HELD = "held"  # exited while held: not restarted until released


@dataclass(frozen=True)
class RestartPolicy:
    base: float = 0.5  # seconds before the first restart after a healthy run
    cap: float = 8.0  # the longest wait between restarts of a crash-looping child
    healthy_after: float = 30.0  # ready this long: the next crash counts as the first again

    def delay(self, crashes: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(0, crashes - 1)))


@dataclass
class ChildLife:
    """One child's restart state; every method takes the time it is called at."""

    phase: Phase
    since: float  # when the phase began
    crashes: int = 0  # crashes in a row (reset after a healthy period)
    next_start: float = 0.0

    @classmethod
    def ready_at(cls, now: float) -> ChildLife:
        return cls(Phase.READY, now)

    def healthy(self, now: float, policy: RestartPolicy) -> bool:
        return self.phase is Phase.READY and now - self.since >= policy.healthy_after

    def exited(self, now: float, policy: RestartPolicy, held: bool) -> float | None:
        """The process is gone: the delay before its restart, or None when held."""
        if self.healthy(now, policy):
            self.crashes = 0
        if held:
            self.phase, self.since = Phase.HELD, now
            return None
        self.crashes += 1
        wait = policy.delay(self.crashes)
        self.phase, self.since, self.next_start = Phase.BACKING_OFF, now, now + wait
        return wait

    def released(self, now: float) -> None:
        """The hold is gone: start at once (a hold is not a crash)."""
        self.phase, self.since, self.next_start = Phase.BACKING_OFF, now, now

    def due(self, now: float) -> bool:
        return self.phase is Phase.BACKING_OFF and now >= self.next_start

    def spawned(self, now: float) -> None:
        self.phase, self.since = Phase.STARTING, now

    def became_ready(self, now: float) -> None:
        self.phase, self.since = Phase.READY, now

    def start_timed_out(self, now: float, timeout: float) -> bool:
        return self.phase is Phase.STARTING and now - self.since > timeout
