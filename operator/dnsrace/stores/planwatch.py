"""The enactors' plan reflector: list the DNSPlans once, then watch from that listing's
resourceVersion, in one ordered stream, into the enactor's `CachedPlanStore`.

One stream, read by one thread, is what the checker assumes of a view: a prefix of the one log
of creations and deletions, advancing in order. Listing and watching from the same
resourceVersion leaves no gap, so a plan deleted while the enactor starts is seen deleted (kopf's
own listing, after a listing of ours, left such a plan in the view for good). When the watch
expires (410 Gone: the resourceVersion was compacted away) the reflector lists again and the
cache takes the listing as a whole (`CachedPlanStore.replace`); any other failure of a watch is
retried from the last resourceVersion seen, after a pause.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import GROUP, VERSION
from dnsrace.stores.plans import PLURAL, CachedPlanStore
from dnsrace.stores.streams import json_lines

LOG = logging.getLogger(__name__)

WATCH_SECONDS = 20  # one watch request's server-side timeout; the next resumes where it ended
RETRY_SECONDS = 1.0  # pause after a failed watch or listing before the next try


class WatchExpired(Exception):
    """The resourceVersion to watch from is gone (410): only a new listing can go on."""


class PlanSource(Protocol):
    """Where plans are listed and watched: the API server, or an in-memory log in tests."""

    def list(self) -> tuple[list[Mapping[str, Any]], str]:
        """Every plan, and the resourceVersion the listing was taken at."""
        ...

    def watch(self, since: str, stop: threading.Event) -> Iterator[Mapping[str, Any]]:
        """Raw watch events after `since`, in order, until the request ends; WatchExpired if
        `since` is too old."""
        ...

    def interrupt(self) -> None:
        """End the watch request in flight, from another thread."""
        ...


class KubePlanSource:
    """DNSPlans of one namespace, listed and watched through the API server."""

    def __init__(
        self, api: client.ApiClient, namespace: str, watch_seconds: int = WATCH_SECONDS
    ) -> None:
        self.crd = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.watch_seconds = watch_seconds
        self._response: Any = None  # the watch request in flight, if any

    def list(self) -> tuple[list[Mapping[str, Any]], str]:
        raw: Any = self.crd.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
        return list(raw["items"]), str(raw["metadata"]["resourceVersion"])

    def watch(self, since: str, stop: threading.Event) -> Iterator[Mapping[str, Any]]:
        try:
            response: Any = self.crd.list_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                PLURAL,
                watch=True,
                resource_version=since,
                allow_watch_bookmarks=True,
                timeout_seconds=self.watch_seconds,
                _preload_content=False,
            )
        except ApiException as exc:
            if exc.status == 410:
                raise WatchExpired(str(exc.reason)) from exc
            raise
        self._response = response
        try:
            for event in json_lines(response.stream(65536)):
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    if status.get("code") == 410:
                        raise WatchExpired(str(status.get("message", "410 Gone")))
                    raise RuntimeError(f"plan watch: {status.get('message', status)}")
                yield event
                if stop.is_set():
                    return
        finally:
            self._response = None
            response.release_conn()

    def interrupt(self) -> None:
        """End a watch request blocked on the server now (stop() calls it from another
        thread), instead of when its timeout runs out."""
        response = self._response
        if response is not None:
            response.shutdown()


class PlanWatch:
    """List, then watch from the listing's resourceVersion, into `cache`; list again on 410."""

    def __init__(
        self, source: PlanSource, cache: CachedPlanStore, retry_seconds: float = RETRY_SECONDS
    ) -> None:
        self.source = source
        self.cache = cache
        self.retry_seconds = retry_seconds
        self.since: str | None = None  # the resourceVersion the view is at (None: not listed)
        self.relists = 0  # listings after an expired watch
        self.failures = 0  # watch requests or listings that failed otherwise
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prime(self) -> None:
        """List and take the listing as the view (at start, and after the watch expired)."""
        items, version = self.source.list()
        self.cache.replace(items)
        self.since = version

    def follow(self) -> None:
        """One watch request from `since`: feed each event to the cache in order."""
        if self.since is None:
            self.prime()
        assert self.since is not None
        for event in self.source.watch(self.since, self._stop):
            obj = event.get("object")
            if not isinstance(obj, Mapping):
                continue
            version = obj.get("metadata", {}).get("resourceVersion")
            if event.get("type") != "BOOKMARK":
                self.cache.observe(str(event.get("type")), obj)
            if version:
                self.since = str(version)

    def step(self) -> None:
        """One watch request, its failure handled: 410 lists again on the next step, anything
        else waits `retry_seconds` and resumes from the same resourceVersion."""
        try:
            self.follow()
        except WatchExpired:
            LOG.info("plan watch expired at resourceVersion %s; listing again", self.since)
            self.since = None
            self.relists += 1
        except Exception as exc:  # any failure: retry; the thread never dies
            if self._stop.is_set():
                return  # stop() interrupted the request
            LOG.warning("plan watch failed (%s); retrying in %ss", exc, self.retry_seconds)
            self.failures += 1
            self._stop.wait(self.retry_seconds)

    def run(self) -> None:
        while not self._stop.is_set():
            self.step()

    def start(self) -> None:
        """List now unless listed already (the caller's first view), then follow in a daemon
        thread."""
        if self.since is None:
            self.prime()
        self._thread = threading.Thread(target=self.run, name="plan-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """End the thread: a watch request blocked on the server is interrupted."""
        self._stop.set()
        self.source.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)


class MemoryPlanSource:
    """The in-memory twin of the API server's list and watch: an event log numbered by
    resourceVersion, compaction, and a failure to inject into the next watch request."""

    def __init__(self) -> None:
        self.version = 0
        self.objects: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[int, str, dict[str, Any]]] = []
        self.compacted = 0  # watching from a version below this is 410
        self.fail_next: Exception | None = None

    def _record(self, kind: str, obj: dict[str, Any]) -> None:
        self.version += 1
        stamped = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.version)}}
        self.log.append((self.version, kind, stamped))
        if kind == "DELETED":
            self.objects.pop(obj["metadata"]["name"], None)
        else:
            self.objects[obj["metadata"]["name"]] = stamped

    def create(self, obj: dict[str, Any]) -> None:
        self._record("ADDED", obj)

    def delete(self, name: str) -> None:
        self._record("DELETED", self.objects[name])

    def compact(self) -> None:
        self.compacted = self.version

    def interrupt(self) -> None:
        """Nothing to interrupt: a watch here ends by itself at once."""

    def list(self) -> tuple[list[Mapping[str, Any]], str]:
        return list(self.objects.values()), str(self.version)

    def watch(self, since: str, stop: threading.Event) -> Iterator[Mapping[str, Any]]:
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        if int(since) < self.compacted:
            raise WatchExpired(f"too old resource version: {since} ({self.compacted})")
        for version, kind, obj in list(self.log):
            if version > int(since):
                yield {"type": kind, "object": obj}
        stop.wait(0.01)  # a request ends by timeout on the server; this one ends soon

    def bookmark(self) -> None:
        """A BOOKMARK: the version moves on with no change to any plan."""
        self.version += 1
        marker = {"metadata": {"resourceVersion": str(self.version)}}
        self.log.append((self.version, "BOOKMARK", marker))
