"""Network Manager's propagation queue: FIFO, a fixed number of propagations per second. An
item is a key (`instance:i-7`, `droplet:12`); while it waits, whatever it names has no network
connectivity. A burst of work (every re-established droplet, launches that were held back) builds
a backlog, and the delay of each propagation is the time it waited."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mockaws.settings import NetworkManagerSettings


@dataclass
class PropagationQueue:
    settings: NetworkManagerSettings
    queue: deque[tuple[str, float]] = field(default_factory=deque)
    pending: dict[str, int] = field(default_factory=dict)  # key -> items queued for it
    budget: float = 0.0
    propagated: int = 0
    last_delay: float = 0.0
    max_delay: float = 0.0
    max_backlog: int = 0

    def enqueue(self, key: str, now: float) -> None:
        self.queue.append((key, now))
        self.pending[key] = self.pending.get(key, 0) + 1
        self.max_backlog = max(self.max_backlog, len(self.queue))

    def is_pending(self, key: str) -> bool:
        return key in self.pending

    def tick(self, now: float, dt: float) -> list[str]:
        """Propagate as many items as the rate allows in `dt`; returns the keys done."""
        self.budget = min(
            self.budget + self.settings.propagationsPerSecond * dt, 1.0 + len(self.queue)
        )
        done = []
        while self.queue and self.budget >= 1.0:
            key, queued_at = self.queue.popleft()
            self.budget -= 1.0
            left = self.pending[key] - 1
            if left:
                self.pending[key] = left
            else:
                del self.pending[key]
            self.last_delay = now - queued_at
            self.max_delay = max(self.max_delay, self.last_delay)
            self.propagated += 1
            done.append(key)
        if not self.queue:
            self.budget = min(self.budget, 1.0)
        return done

    def backlog(self) -> int:
        return len(self.queue)

    def oldest_wait(self, now: float) -> float:
        return now - self.queue[0][1] if self.queue else 0.0
