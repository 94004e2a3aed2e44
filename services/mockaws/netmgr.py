"""Network Manager: propagates network state from a FIFO queue (`models.propagation`).
`POST /enqueue {"keys": [...]}` adds work; `POST /pending {"keys": [...]}` answers which of the
keys still wait (no connectivity yet)."""

from __future__ import annotations

import sys
from typing import Any

from mockaws.models.propagation import PropagationQueue
from mockaws.service import MockService, Reply, serve


class NetworkManager(MockService):
    name = "netmgr"

    def __init__(self) -> None:
        super().__init__()
        self.queue = PropagationQueue(self.settings.netmgr)
        self.backlogged = False

    def reset(self, now: float) -> None:
        self.queue = PropagationQueue(self.settings.netmgr)
        self.backlogged = False

    def tick(self, now: float, dt: float) -> None:
        self.queue.settings = self.settings.netmgr
        self.queue.tick(now, dt)
        waiting = self.queue.oldest_wait(now)
        if waiting >= 1.0 and not self.backlogged:
            self.backlogged = True
            self.event(
                "Backlog",
                f"propagation backlog {self.queue.backlog()} items; the oldest has waited "
                f"{waiting:.1f}s",
            )
        elif not self.queue.backlog() and self.backlogged:
            self.backlogged = False
            self.event(
                "Drained",
                f"backlog drained; the slowest propagation took {self.queue.max_delay:.1f}s",
            )

    def status(self, now: float) -> dict[str, Any]:
        q = self.queue
        return {
            "backlog": q.backlog(),
            "oldestWaitSeconds": round(q.oldest_wait(now), 3),
            "lastDelaySeconds": round(q.last_delay, 3),
            "maxDelaySeconds": round(q.max_delay, 3),
            "maxBacklog": q.max_backlog,
            "propagated": q.propagated,
        }

    def routes(self, method: str, path: str, body: Any) -> Reply | None:
        if method == "POST" and path in ("/enqueue", "/pending"):
            keys = body.get("keys") if isinstance(body, dict) else None
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                return 400, {"error": 'send {"keys": ["instance:i-00001", "droplet:3", ...]}'}
            if path == "/enqueue":
                now = self.clock()
                for key in keys:
                    self.queue.enqueue(key, now)
                return 200, {"backlog": self.queue.backlog()}
            return 200, {"pending": [k for k in keys if self.queue.is_pending(k)]}
        return None


def main(argv: list[str] | None = None) -> int:
    return serve(NetworkManager(), argv)


if __name__ == "__main__":
    sys.exit(main())
