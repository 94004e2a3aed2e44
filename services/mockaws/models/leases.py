"""DWFM's droplet leases. A lease is valid until it expires; renewing needs DynamoDB (the
process does the write and reports the result). An expired lease is queued for
re-establishment. Re-establishing is work done by DWFM itself, shared by every admitted item
(processor sharing); an item not finished within its timeout is abandoned and queued again.
Admitting the whole queue at once makes every item too slow to finish: congestive collapse,
which persists after its trigger is gone. Admitting a bounded number (queue-size throttling)
lets items finish at DWFM's full rate."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mockaws.settings import DwfmSettings


@dataclass
class InFlight:
    droplet: int
    admitted_at: float
    work_done: float = 0.0


@dataclass
class LeaseCounters:
    expired: int = 0
    established: int = 0
    timeouts: int = 0
    write_failures: int = 0
    renewals: int = 0
    renewal_failures: int = 0


@dataclass
class LeaseTable:
    settings: DwfmSettings
    now: float
    expires_at: dict[int, float] = field(default_factory=dict)
    queue: deque[int] = field(default_factory=deque)
    in_flight: dict[int, InFlight] = field(default_factory=dict)
    counters: LeaseCounters = field(default_factory=LeaseCounters)
    completions: deque[float] = field(default_factory=deque)  # times of establishments

    @classmethod
    def steady(cls, settings: DwfmSettings, now: float) -> LeaseTable:
        """Every droplet leased: the state before anything happens."""
        table = cls(settings, now)
        for d in range(settings.droplets):
            table.expires_at[d] = now + settings.leaseSeconds
        return table

    # leases ------------------------------------------------------------------------------------
    def leased(self, now: float) -> list[int]:
        return sorted(d for d, t in self.expires_at.items() if t > now)

    def renewed(self, droplets: list[int], now: float) -> None:
        """A renewal write succeeded for these droplets."""
        for d in droplets:
            if self.expires_at.get(d, 0.0) > now:
                self.expires_at[d] = now + self.settings.leaseSeconds
        self.counters.renewals += 1

    def expire(self, now: float) -> list[int]:
        """Leases past their expiry are lost and queued for re-establishment."""
        lost = sorted(d for d, t in self.expires_at.items() if t <= now)
        for d in lost:
            del self.expires_at[d]
            self.queue.append(d)
        self.counters.expired += len(lost)
        return lost

    # re-establishment --------------------------------------------------------------------------
    def admit(self, now: float) -> int:
        limit = self.settings.maxInFlight
        admitted = 0
        while self.queue and (limit == 0 or len(self.in_flight) < limit):
            d = self.queue.popleft()
            self.in_flight[d] = InFlight(d, now)
            admitted += 1
        return admitted

    def work(self, now: float, dt: float) -> tuple[list[int], list[int]]:
        """Advance the admitted items by `dt` seconds of DWFM's capacity, shared equally.
        Returns (finished, timed_out); finished items still need their lease written."""
        if not self.in_flight:
            return [], []
        share = self.settings.capacityPerSecond * dt / len(self.in_flight)
        finished, timed_out = [], []
        for d, item in list(self.in_flight.items()):
            item.work_done += share
            if item.work_done >= self.settings.workPerLease:
                finished.append(d)
                del self.in_flight[d]
            elif now - item.admitted_at >= self.settings.itemTimeoutSeconds:
                timed_out.append(d)
                del self.in_flight[d]
                self.queue.append(d)
        self.counters.timeouts += len(timed_out)
        return finished, timed_out

    def established(self, droplets: list[int], now: float) -> None:
        """The lease writes for these finished items succeeded."""
        for d in droplets:
            self.expires_at[d] = now + self.settings.leaseSeconds
            self.completions.append(now)
        self.counters.established += len(droplets)

    def write_failed(self, droplets: list[int]) -> None:
        """The lease writes failed (DynamoDB unreachable): the work is lost, queue them again."""
        self.queue.extend(droplets)
        self.counters.write_failures += len(droplets)

    def goodput(self, now: float, window: float = 1.0) -> float:
        """Leases established per second over the last `window` seconds."""
        while self.completions and self.completions[0] < now - window:
            self.completions.popleft()
        return len(self.completions) / window

    def tick(self, now: float, dt: float) -> tuple[list[int], list[int], list[int]]:
        """expire, admit, work: returns (lost, finished, timed_out)."""
        lost = self.expire(now)
        self.admit(now)
        finished, timed_out = self.work(now, dt)
        self.admit(now)
        return lost, finished, timed_out
