"""Generation allocation, shared by the Planner and by scenarios that produce plans: the next
generation is taken by creating the DNSPlan whose name carries it (create-if-absent: two
allocators racing get unique, gap-free generations) and recorded as the Planner's high-water
mark with a resourceVersion precondition, so a generation is never reused even after its plan
is deleted. No kopf here: importing this never registers operator handlers."""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from dnsrace import kube
from dnsrace.core.plans import Plan, next_generation, plan_name
from dnsrace.core.records import Target
from dnsrace.stores.plans import KubePlanStore


class AllocationFailed(RuntimeError):
    pass


def create_next_plan(
    api: client.ApiClient,
    ns: str,
    planner: str,
    region: str,
    endpoints: tuple[str, ...],
    targets: tuple[Target, ...],
    attempts: int = 50,
) -> Plan:
    """Allocate the next generation and create its DNSPlan (both compare-and-swap)."""
    store = KubePlanStore(api, ns)
    crd = client.CustomObjectsApi(api)
    for _ in range(attempts):
        obj: Any = crd.get_namespaced_custom_object(
            kube.GROUP, kube.VERSION, ns, "planners", planner
        )
        watermark = int((obj.get("status") or {}).get("lastGeneration", 0) or 0)
        generation = next_generation(store.list(), watermark)
        plan = Plan(plan_name(region, generation), generation, endpoints, targets)
        if not store.create(plan, region):
            continue  # another planner took this generation: re-read, take the next
        kube.update_status_cas(api, "planners", ns, planner, _advance(generation))
        return plan
    raise AllocationFailed(f"could not allocate a generation in {attempts} attempts")


def _advance(generation: int) -> Any:
    def mutate(status: dict[str, Any]) -> bool:
        if int(status.get("lastGeneration", 0) or 0) >= generation:
            return False
        status["lastGeneration"] = generation
        status["lastPlanTime"] = kube_now()
        return True

    return mutate


def kube_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
