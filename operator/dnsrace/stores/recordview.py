"""A live copy of the record store kept by one watch stream: what the scenario probes read
every round. Reading a snapshot transaction per round instead cost the record-store etcd and
the scenario controller a transaction every 20 ms for a store that changes a few times a
second; the copy costs one read at the start and one message per change.

The copy is one read of every key at a revision R, then every put and delete from R + 1 on,
applied in revision order: at any moment it is the store as of the last revision delivered.
While the stream is broken (the store restarting) and no fresh read succeeds, `snapshot` says
so (None) rather than answering from a copy that may be behind; a quiet stream is re-read
every `quiet_seconds` (a stream that stopped without closing looks the same as a quiet one).
A failure that is not a passing one ends the view: every later `snapshot` raises it."""

from __future__ import annotations

import contextvars
import threading
from typing import Self

from dnsrace.core.requests import Snapshot
from dnsrace.stores.etcd import KeyValue
from dnsrace.stores.records import EtcdRecordStore
from dnsrace.stores.transient import transient


class RecordView:
    def __init__(self, store: EtcdRecordStore, quiet_seconds: float = 5.0) -> None:
        self.store = store
        self.quiet_seconds = quiet_seconds
        self._lock = threading.Lock()
        self._kvs: dict[bytes, KeyValue] = {}
        self._revision = 0
        self._current = False
        self._built: Snapshot | None = None  # the copy as a Snapshot, built at its first read
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self._synced = threading.Event()
        self.resyncs = 0  # fresh reads after the first: breaks and quiet spells
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._follow,), name="record-view", daemon=True
        )

    def start(self, timeout: float = 5.0) -> Self:
        """Start following; returns once the first read is in (or `timeout` passed)."""
        self._thread.start()
        self._synced.wait(timeout)
        return self

    def stop(self) -> None:
        """Stop following (the stream's thread ends at its next message or quiet spell)."""
        self._stop.set()

    def snapshot(self) -> Snapshot | None:
        """The store as of the last revision delivered; None while the store cannot be read."""
        with self._lock:
            if self._failure is not None:
                raise RuntimeError(f"the record view stopped: {self._failure}") from self._failure
            if not self._current:
                return None
            # the probes read every 20 ms, the copy changes a few times a second: built once
            # per change, not decoded again each round
            if self._built is None:
                self._built = self.store.snapshot_of(self._revision, self._kvs.values())
            return self._built

    def _follow(self) -> None:
        try:
            self._follow_until_stopped()
        except BaseException as exc:  # not a passing failure: every later read raises it
            with self._lock:
                self._failure, self._current = exc, False
            self._synced.set()
            raise

    def _follow_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                revision, kvs = self.store.raw()
            except Exception as exc:
                if not transient(exc):
                    raise
                with self._lock:
                    self._current = False
                self._stop.wait(0.2)
                continue
            with self._lock:
                self._kvs = {kv.key: kv for kv in kvs}
                self._revision, self._current, self._built = revision, True, None
            if self._synced.is_set():
                self.resyncs += 1
            self._synced.set()
            self._apply_from(revision + 1)

    def _apply_from(self, start: int) -> None:
        """Apply the stream from `start` until it breaks, goes quiet or the view stops."""
        prefixes = self.store.prefixes()
        try:
            for batch in self.store.client.watch(b"\x00", start, self.quiet_seconds, True):
                with self._lock:
                    for event in batch:
                        self._revision = max(self._revision, event.revision)
                        if not event.key.startswith(prefixes):
                            continue
                        self._built = None
                        if event.value is None:
                            self._kvs.pop(event.key, None)
                        else:
                            self._kvs[event.key] = KeyValue(
                                event.key, event.value, event.revision, 0, 0
                            )
                if self._stop.is_set():
                    return
        except Exception as exc:
            if not transient(exc):
                raise
