"""Generation allocation, shared by the Planner and by scenarios that produce plans: the next
generation is taken by creating the DNSPlan whose name carries it (create-if-absent: two
allocators racing get unique, gap-free generations) and recorded as the Planner's high-water
mark with a resourceVersion precondition, so a generation is never reused even after its plan
is deleted. No kopf here: importing this never registers operator handlers."""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.plans import Plan, next_generation, plan_name
from dnsrace.core.records import Target
from dnsrace.core.times import now_iso
from dnsrace.stores import kube
from dnsrace.stores.plans import KubePlanStore

NOT_NEXT = "spec.generation must be the next one"  # admission/dnsplans.yaml's refusal


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
        if generation != watermark + 1:
            # a plan exists past the mark (its allocator stopped between the create and the
            # mark, or a racing allocator is there now): move the mark up to it first, so the
            # plan created next is the mark + 1, the one the admission policy accepts
            kube.update_status_cas(api, "planners", ns, planner, _advance(generation - 1))
            continue
        plan = Plan(plan_name(region, generation), generation, endpoints, targets)
        try:
            created = store.create(plan, region)
        except ApiException as exc:
            if exc.status == 422 and NOT_NEXT in (exc.body or ""):
                # the admission policy reads the mark from the API server's cache, which can
                # lag the write just made by a moment: ask again
                time.sleep(0.05)
                continue
            raise
        if not created:
            continue  # another planner took this generation: re-read, take the next
        kube.update_status_cas(api, "planners", ns, planner, _advance(generation))
        return plan
    raise AllocationFailed(f"could not allocate a generation in {attempts} attempts")


def _advance(generation: int) -> Any:
    def mutate(status: dict[str, Any]) -> bool:
        if int(status.get("lastGeneration", 0) or 0) >= generation:
            return False
        status["lastGeneration"] = generation
        status["lastPlanTime"] = now_iso()
        return True

    return mutate
