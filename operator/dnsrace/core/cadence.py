"""When the Planner next acts: its health checks every `healthIntervalSeconds` and its plans
every `cadenceSeconds`, kept apart, so a cadence shorter than the health interval is honoured
(plans 0.3 s apart when it says 0.3) and a plan's own time does not stretch the next gap.
Pure: the caller gives `now` (time.monotonic) and sleeps for what `sleep` answers."""

from __future__ import annotations

from dataclasses import dataclass

# the shortest cadence the Planner admits (0 turns the cadence off): a plan is three API
# requests, a few tens of milliseconds on a busy lab
MIN_CADENCE_SECONDS = 0.1


@dataclass
class PlannerClock:
    """`next_health` and `next_plan` are instants (time.monotonic); `next_plan` is None when
    the cadence is off."""

    next_health: float = 0.0
    next_plan: float | None = None

    def health_due(self, now: float) -> bool:
        return now >= self.next_health

    def checked(self, now: float, interval: float) -> None:
        self.next_health = now + interval

    def plan_due(self, now: float, cadence: float) -> bool:
        if cadence <= 0:
            self.next_plan = None
            return False
        if self.next_plan is None:
            self.next_plan = now + cadence
        return now >= self.next_plan

    def planned(self, now: float, cadence: float, on_cadence: bool) -> None:
        """A plan was made at `now`. One the cadence asked for: the next is one cadence after
        the one that was due (no drift), or one cadence from now when the planner fell a whole
        cadence behind (no burst of plans to catch up). One for another reason (health, the
        endpoints): the cadence counts from it."""
        if cadence <= 0:
            self.next_plan = None
            return
        due = self.next_plan if on_cadence and self.next_plan is not None else now
        self.next_plan = due + cadence if now - due < cadence else now + cadence

    def sleep(self, now: float) -> float:
        """Seconds until the next health check or plan, whichever is sooner."""
        wake = self.next_health if self.next_plan is None else min(self.next_health, self.next_plan)
        return max(0.0, wake - now)
