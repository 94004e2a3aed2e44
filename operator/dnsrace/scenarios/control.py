"""Driving the live lab from outside, as an operator with kubectl would: pause and resume the
Planner and Enactors, set an enactor's protocol and faults, wait for an observed state (never a
sleep), reset plans and records, and read back what happened (Events, records)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from kubernetes import client

from dnsrace.core import schema
from dnsrace.core.names import NAMESPACE
from dnsrace.core.plans import REGION, Plan, PoolMember, newest, targets_from_pool
from dnsrace.core.records import Target
from dnsrace.core.resources.loadbalancer import LoadBalancerSpec
from dnsrace.lab import objects
from dnsrace.stores import kube
from dnsrace.stores.allocation import create_next_plan
from dnsrace.stores.plans import KubePlanStore
from dnsrace.stores.records import EtcdRecordStore
from dnsrace.stores.transient import describe, transient

T = TypeVar("T")


class LabTimeout(RuntimeError):
    """An awaited state was not observed in time; the message says which."""


SLOWEST_POLL = 0.2  # seconds: the longest pause between two polls of a wait


def wait_for(
    predicate: Callable[[], T | Literal[False] | None],
    timeout: float,
    what: str,
    every: float = 0.02,
    stop: Callable[[], bool] = lambda: False,
    slowest: float = SLOWEST_POLL,
) -> T:
    """Poll `predicate` until it holds: soon (after `every`), then less often, each pause half
    as long again as the one before, up to `slowest`: a state that comes quickly is seen
    quickly, and a long wait (a scenario's run) does not read the API 50 times a second. A
    passing failure of the control plane (`transient`) counts as "not yet" and is named in the
    timeout's message; `stop` ends the wait early (a deleted Scenario, an exiting operator)
    with `Stopped`."""
    deadline = time.monotonic() + timeout
    last_error = ""
    pause = every
    while time.monotonic() < deadline:
        if stop():
            raise Stopped(f"stopped while waiting for {what}")
        try:
            value = predicate()
        except Exception as exc:
            if not transient(exc):
                raise
            last_error, value = describe(exc), None
        if value:
            return value
        time.sleep(pause if not last_error else max(pause, 0.2))
        pause = min(pause * 1.5, max(every, slowest))
    also = f" (last error: {last_error})" if last_error else ""
    raise LabTimeout(f"timed out after {timeout:.0f}s waiting for {what}{also}")


class Stopped(RuntimeError):
    """A wait was asked to stop before its state was seen."""


@dataclass(frozen=True)
class LabEvent:
    time: str
    reason: str
    type: str
    message: str
    plan: str


def events_since(
    core: client.CoreV1Api, ns: str, since: float, reasons: set[str] | None = None
) -> list[LabEvent]:
    """The namespace's Events from `since` on (by eventTime, to the microsecond), oldest first."""
    out = []
    for ev in core.list_namespaced_event(ns).items:
        stamp = ev.event_time or ev.first_timestamp or ev.metadata.creation_timestamp
        if stamp is None or stamp.timestamp() < since:
            continue
        if reasons is not None and ev.reason not in reasons:
            continue
        out.append(
            LabEvent(
                stamp.isoformat(),
                ev.reason or "",
                ev.type or "",
                ev.message or "",
                ev.involved_object.name or "",
            )
        )
    return sorted(out, key=lambda e: e.time)


class LabControl:
    def __init__(
        self,
        api: client.ApiClient,
        record_store: str,
        ns: str = NAMESPACE,
        allocator: client.ApiClient | None = None,
    ) -> None:
        """`allocator`: the client plans are created with (only the planner's and the scenario
        controller's ServiceAccounts may: admission/dnsplans.yaml); `api` by default."""
        self.api, self.ns = api, ns
        self.allocator = allocator or api
        self.crd = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.plans = KubePlanStore(api, ns)
        self.records = EtcdRecordStore(record_store)
        self.stop: Callable[[], bool] = lambda: False  # ends every wait early (see wait_for)

    def close(self) -> None:
        """Close the record store's connections (the API client is the caller's)."""
        self.records.client.close()

    # objects ---------------------------------------------------------------------------------
    def _patch(self, plural: str, name: str, spec: dict[str, Any]) -> None:
        self.crd.patch_namespaced_custom_object(
            kube.GROUP,
            kube.VERSION,
            self.ns,
            plural,
            name,
            {"spec": spec},
            field_validation=kube.STRICT,
        )

    def enactor(self, name: str, **spec: Any) -> None:
        self._patch("enactors", name, spec)

    def planner(self, **spec: Any) -> None:
        self._patch("planners", REGION, spec)

    def enactor_status(self, name: str) -> dict[str, Any]:
        obj: Any = self.crd.get_namespaced_custom_object(
            kube.GROUP, kube.VERSION, self.ns, "enactors", name
        )
        return dict(obj.get("status") or {})

    def planner_spec(self) -> dict[str, Any]:
        obj: Any = self.crd.get_namespaced_custom_object(
            kube.GROUP, kube.VERSION, self.ns, "planners", REGION
        )
        return dict(obj["spec"])

    # waits ------------------------------------------------------------------------------------
    def wait(
        self,
        predicate: Callable[[], T | Literal[False] | None],
        timeout: float,
        what: str,
        every: float = 0.02,
    ) -> T:
        """`wait_for`, ended early by `self.stop`."""
        return wait_for(predicate, timeout, what, every, self.stop)

    def wait_paused_at(self, name: str, where: str, timeout: float = 30) -> None:
        self.wait(
            lambda: self.enactor_status(name).get("pausedAt") == where,
            timeout,
            f"enactor {name} to pause at {where}",
        )

    def wait_phase(self, name: str, phases: Iterable[str], timeout: float = 30) -> dict[str, Any]:
        want = set(phases)
        return self.wait(
            lambda: (s := self.enactor_status(name)).get("phase") in want and s,
            timeout,
            f"enactor {name} to be {'/'.join(sorted(want))}",
        )

    def wait_cleared(self, name: str, timeout: float = 30, run: str = "") -> None:
        """Paused with no fired crash in its status, its fault tallies those of `run`: the
        enactor has seen its faults cleared and the run begun."""

        def cleared() -> bool:
            status = self.enactor_status(name)
            return (
                status.get("phase") == "Paused"
                and not status.get("firedCrashes")
                and status.get("faultsRun", "") == run
            )

        self.wait(
            cleared,
            timeout,
            f"enactor {name} to be Paused with its faults cleared",
        )

    def wait_seen(self, name: str, generation: int, timeout: float = 30) -> None:
        self.wait(
            lambda: int(self.enactor_status(name).get("newestSeen", 0)) >= generation,
            timeout,
            f"enactor {name} to see g{generation}",
        )

    def wait_applied(self, name: str, generation: int, timeout: float = 60) -> None:
        def applied() -> bool:
            st = self.enactor_status(name)
            return int(st.get("lastAppliedGeneration", 0)) >= generation and st.get("phase") in (
                "Idle",
                "Paused",
            )

        self.wait(
            applied,
            timeout,
            f"enactor {name} to apply g{generation}",
        )

    # plans and records -------------------------------------------------------------------------
    def newest_plan(self) -> Plan | None:
        return newest(self.plans.list())

    def pool_targets(self) -> tuple[Target, ...]:
        """Every LoadBalancer of the pool as a plan target (health aside)."""
        lbs: Any = self.crd.list_namespaced_custom_object(
            kube.GROUP, kube.VERSION, self.ns, "loadbalancers"
        )
        members = []
        for o in lbs["items"]:
            lb = schema.parse(LoadBalancerSpec, o["spec"])
            members.append(PoolMember(o["metadata"]["name"], lb.address, lb.weight, True))
        return targets_from_pool(members)

    def create_plan(self, targets: tuple[Target, ...], endpoints: tuple[str, ...]) -> Plan:
        """The next plan, allocated exactly as the Planner allocates (create-if-absent + CAS)."""
        return create_next_plan(self.allocator, self.ns, REGION, REGION, endpoints, targets)

    def reset(self, protocol: str, keep: int, timeout: float = 30, run: str = "") -> None:
        """Quiesce the lab (planner and enactors paused, faults cleared), then delete every
        plan and every record: the next scenario starts from an empty record store. `run`
        names the scenario run the enactors' fault tallies count for from now on."""
        self.planner(paused=True)
        for ident in objects.ENACTORS:
            self.enactor(ident, paused=True, faults=[], protocol=protocol, keep=keep, run=run)
        for ident in objects.ENACTORS:
            self.wait_cleared(ident, timeout, run)
        for plan in self.plans.list():
            self.plans.delete(plan, precondition=False)
        for name in self.records.names():
            self.records.delete(name)
        self.records.clear_retired()

    def restore(self) -> None:
        """The lab's standing settings, as `dnsrace up` applied them: the planner unpaused at
        its cadence, every enactor unpaused with no fault and no step or view gate. Protocol
        and keep stay what the last run chose (the lab goes on showing that protocol)."""
        standing = objects.planner()["spec"]
        self.planner(
            paused=False,
            cadenceSeconds=standing["cadenceSeconds"],
            healthIntervalSeconds=standing["healthIntervalSeconds"],
        )
        for ident in objects.ENACTORS:
            self.enactor(ident, paused=False, faults=[], stepGate=None, viewGate=None)

    def events_since(self, since: float, reasons: set[str] | None = None) -> list[LabEvent]:
        return events_since(self.core, self.ns, since, reasons)
