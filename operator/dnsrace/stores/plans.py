"""The plan store: DNSPlan objects in Kubernetes, behind the small `PlanStore` interface of
`dnsrace.core.protocol`, with an in-memory twin and a watch-fed cache for the operators."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.plans import Plan
from dnsrace.core.records import Target

GROUP, VERSION, PLURAL = "dnsrace.io", "v1alpha1", "dnsplans"


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
        version=str(obj["metadata"].get("resourceVersion", "")),
    )


def plan_object(plan: Plan, region: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
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
                GROUP, VERSION, self.namespace, PLURAL, plan_object(plan, region)
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def delete(self, plan: Plan, precondition: bool) -> bool:
        """Delete; with `precondition`, only if the object is still at `plan.version` (409
        otherwise). False when refused or already gone."""
        body = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(resource_version=plan.version)
            if precondition and plan.version
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
    """The operators' view: a cache fed by watch events (kopf), deletes through the API.

    list() costs nothing, so a 1,000-endpoint walk does not list plans 1,000 times."""

    def __init__(self, backend: KubePlanStore) -> None:
        self.backend = backend
        self._plans: dict[str, Plan] = {}
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def observe(self, event_type: str | None, obj: Mapping[str, Any]) -> None:
        name = str(obj["metadata"]["name"])
        with self._lock:
            if event_type == "DELETED":
                self._plans.pop(name, None)
            else:
                try:
                    self._plans[name] = plan_from_object(obj)
                except (KeyError, TypeError, ValueError):
                    return  # a malformed object is not a plan; the API server's schema rejects most
        self.changed.set()

    def resync(self) -> None:
        fresh = {p.name: p for p in self.backend.list()}
        with self._lock:
            self._plans = fresh

    def list(self) -> list[Plan]:
        with self._lock:
            return list(self._plans.values())

    def delete(self, plan: Plan, precondition: bool) -> bool:
        current = self._plans.get(plan.name, plan)
        ok = self.backend.delete(current, precondition)
        if ok:
            with self._lock:
                self._plans.pop(plan.name, None)
        return ok


@dataclass
class MemoryPlanStore:
    """In-memory twin: versions are a counter, deletes honour the precondition."""

    plans: dict[str, Plan] = field(default_factory=dict)
    counter: int = 0

    def add(self, plan: Plan) -> bool:
        if plan.name in self.plans:
            return False
        self.counter += 1
        self.plans[plan.name] = Plan(
            plan.name, plan.generation, plan.endpoints, plan.targets, str(self.counter)
        )
        return True

    def list(self) -> list[Plan]:
        return list(self.plans.values())

    def delete(self, plan: Plan, precondition: bool) -> bool:
        current = self.plans.get(plan.name)
        if current is None or (precondition and current.version != plan.version):
            return False
        del self.plans[plan.name]
        return True
