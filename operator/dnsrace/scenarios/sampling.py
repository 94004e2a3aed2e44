"""A periodic sampler: a daemon thread that takes a sample every `interval` seconds and flushes
what it gathered every second and once more when stopped (a write that fails in passing is
tried again at the next flush). Its last sample begins after the stop
was asked, so the samples span the whole time it ran, however long one sample takes. It runs in
the context of the thread that created it (kopf's, inside a scenario daemon), so a sampler may
post Events. The scenario's DNS probes and its service monitor are samplers."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Self

from dnsrace.stores.transient import transient

FLUSH_SECONDS = 1.0


class PeriodicSampler:
    def __init__(self, name: str, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name=name, daemon=True
        )

    def sample(self) -> None:
        raise NotImplementedError

    def write(self) -> None:
        """Save what was gathered, and forget it only once saved."""
        raise NotImplementedError

    def flush(self) -> None:
        """`write()`; while the API server is away (a passing failure) what was gathered waits
        for the next flush and the sampling goes on."""
        try:
            self.write()
        except Exception as exc:
            if not transient(exc):
                raise

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()

    def _loop(self) -> None:
        last_flush = time.monotonic()
        while True:
            # a sample already under way when the stop comes began before it: one more, then
            final = self._stop.is_set()
            self.sample()
            if final:
                return
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                self.flush()
                last_flush = time.monotonic()
            self._stop.wait(self.interval)
