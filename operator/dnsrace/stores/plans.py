"""The plan store: DNSPlan objects in Kubernetes (list, create-if-absent, delete with a uid
precondition), an in-memory twin that keeps the watch log (creations and deletions, in order),
and the operators' watch-fed view, which a replay can hold and deliver event by event so an
enactor's view lags exactly as a checker trace says."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import API_VERSION, GROUP, VERSION, Plural
from dnsrace.core.plans import Plan
from dnsrace.core.records import Target
from dnsrace.stores import kube

PLURAL = Plural.DNSPLANS


def plan_from_object(obj: Mapping[str, Any]) -> Plan:
    spec = obj["spec"]
    return Plan(
        name=str(obj["metadata"]["name"]),
        generation=int(spec["generation"]),
        endpoints=tuple(spec["endpoints"]),
        targets=tuple(
            sorted(
                Target(str(t["address"]), int(t["weight"]), str(t["loadBalancer"]))
                for t in spec["targets"]
            )
        ),
        uid=str(obj["metadata"].get("uid", "")),
    )


def plan_object(plan: Plan, region: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "DNSPlan",
        "metadata": {"name": plan.name, "labels": dict(labels or {})},
        "spec": {
            "generation": plan.generation,
            "region": region,
            "endpoints": list(plan.endpoints),
            "targets": [
                {"address": t.address, "weight": t.weight, "loadBalancer": t.load_balancer}
                for t in plan.targets
            ],
        },
    }


class KubePlanStore:
    """DNSPlans of one namespace, read and deleted through the API server."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.crd = client.CustomObjectsApi(api)
        self.namespace = namespace

    def list(self) -> list[Plan]:
        raw: Any = self.crd.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
        return [plan_from_object(o) for o in raw["items"]]

    def create(self, plan: Plan, region: str) -> bool:
        """Create-if-absent: False when a plan of that name (generation) already exists."""
        try:
            self.crd.create_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                PLURAL,
                plan_object(plan, region),
                field_validation=kube.STRICT,
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def delete(self, plan: Plan, precondition: bool) -> bool:
        """Delete; with `precondition`, only the very object seen (its uid; 409 otherwise).
        False when refused or already gone."""
        body = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=plan.uid)
            if precondition and plan.uid
            else None
        )
        try:
            self.crd.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, plan.name, body=body
            )
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True


class CachedPlanStore:
    """The enactors' view: a cache fed by one ordered list-then-watch stream (`PlanWatch`),
    deletes through the API.

    list() costs nothing, so a 1,000-endpoint walk does not list plans 1,000 times. While
    `held` (a replay single-steps the enactor), creations and deletions queue instead of
    applying, and `deliver_until` applies them in order until the view is what a trace says.
    A delete does not touch the view: the DELETED watch event does, as in the checker. A
    listing (`replace`) is the one other source: what it lacks was deleted meanwhile."""

    def __init__(self, backend: KubePlanStore) -> None:
        self.backend = backend
        self._plans: dict[str, Plan] = {}  # the view
        self._queue: list[tuple[str, Plan]] = []  # events not yet in the view (held)
        self._latest: dict[str, Plan] = {}  # the view once the queue is applied
        self.held = False
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def observe(self, event_type: str | None, obj: Mapping[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED, DELETED)."""
        plan = _parsed(obj)
        if plan is None:
            return
        with self._lock:
            self._event("DELETED" if event_type == "DELETED" else "PRESENT", plan)
        self.changed.set()

    def replace(self, objs: Iterable[Mapping[str, Any]]) -> None:
        """A fresh listing, at start or after the watch expired: the plans it lacks were deleted
        since (each gets its DELETED, in the queue if held), the ones it has are present."""
        listed = {p.name: p for p in map(_parsed, objs) if p is not None}
        with self._lock:
            for name, plan in list(self._latest.items()):
                if name not in listed:
                    self._event("DELETED", plan)
            for plan in listed.values():
                self._event("PRESENT", plan)
        self.changed.set()

    def _event(self, kind: str, plan: Plan) -> None:
        """Apply (or, held, queue) one event that changes the view; others are dropped."""
        known = self._latest.get(plan.name)
        if (known is None) if kind == "DELETED" else (known == plan):
            return
        _apply(self._latest, kind, plan)
        if self.held:
            self._queue.append((kind, plan))
        else:
            _apply(self._plans, kind, plan)

    def hold(self) -> None:
        with self._lock:
            self.held = True

    def release(self) -> None:
        with self._lock:
            for kind, plan in self._queue:
                _apply(self._plans, kind, plan)
            self._queue.clear()
            self.held = False

    def deliver_until(self, generations: set[int]) -> bool:
        """Apply queued events in order until the view holds exactly `generations`; False if
        the queue runs out first (the events have not arrived yet)."""
        with self._lock:
            while {p.generation for p in self._plans.values()} != generations:
                if not self._queue:
                    return False
                _apply(self._plans, *self._queue.pop(0))
            return True

    def list(self) -> list[Plan]:
        with self._lock:
            return list(self._plans.values())

    def delete(self, plan: Plan, precondition: bool) -> bool:
        return self.backend.delete(plan, precondition)


def _parsed(obj: Mapping[str, Any]) -> Plan | None:
    """The plan an object is, or None: a malformed object is not a plan (the API server's
    schema rejects most)."""
    try:
        return plan_from_object(obj)
    except (KeyError, TypeError, ValueError):
        return None


def _apply(plans: dict[str, Plan], kind: str, plan: Plan) -> None:
    if kind == "DELETED":
        plans.pop(plan.name, None)
    else:
        plans[plan.name] = plan


@dataclass
class MemoryPlanStore:
    """In-memory twin: uids per object, deletes honour the precondition, and the watch log of
    creations and deletions from which each enactor's view is a prefix."""

    plans: dict[str, Plan] = field(default_factory=dict)
    log: list[tuple[str, Plan]] = field(default_factory=list)  # ("ADDED" | "DELETED", plan)

    def add(self, plan: Plan) -> bool:
        if plan.name in self.plans:
            return False
        self.plans[plan.name] = plan if plan.uid else replace(plan, uid=f"uid-{plan.name}")
        self.log.append(("ADDED", self.plans[plan.name]))
        return True

    def list(self) -> list[Plan]:
        return list(self.plans.values())

    def delete(self, plan: Plan, precondition: bool) -> bool:
        current = self.plans.get(plan.name)
        if current is None or (precondition and current.uid != plan.uid):
            return False
        del self.plans[plan.name]
        self.log.append(("DELETED", current))
        return True


def view_at(log: Iterable[tuple[str, Plan]], position: int) -> list[Plan]:
    """The plans a watch that has delivered the first `position` events of `log` shows."""
    plans: dict[str, Plan] = {}
    for kind, plan in list(log)[:position]:
        if kind == "DELETED":
            plans.pop(plan.name, None)
        else:
            plans[plan.name] = plan
    return list(plans.values())
