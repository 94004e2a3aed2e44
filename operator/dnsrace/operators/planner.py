"""The Planner operator (kopf, one active instance): health-checks the LoadBalancer pool and
creates the next DNSPlan on every change of the healthy set and on a steady cadence (the real
planner kept producing plans); paused, it does neither (status.phase says which). Generations
are allocated by create-if-absent on the plan's name (which carries the generation) plus a
resourceVersion-guarded high-water mark in the Planner's status: two planners racing get
unique, gap-free generations and never reuse one."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import kopf
import prometheus_client as prom
from kubernetes import client

from dnsrace.core import schema
from dnsrace.core.cadence import PlannerClock
from dnsrace.core.names import GROUP, VERSION, Plural
from dnsrace.core.plans import Plan, PoolMember, newest, targets_from_pool
from dnsrace.core.records import Target
from dnsrace.core.resources.loadbalancer import LoadBalancerSpec
from dnsrace.core.resources.planner import PlannerSpec
from dnsrace.core.times import now_iso
from dnsrace.operators import telemetry
from dnsrace.stores import kube
from dnsrace.stores.allocation import AllocationFailed, create_next_plan
from dnsrace.stores.plans import KubePlanStore

PLANS = prom.Counter("dnsrace_planner_plans_total", "DNSPlans created", ["reason"])
HEALTHY = prom.Gauge("dnsrace_planner_healthy_targets", "Healthy load balancers in the pool")
GENERATION = prom.Gauge("dnsrace_planner_last_generation", "Last generation created")
CHECKS = prom.Counter("dnsrace_planner_health_checks_total", "Health checks of load balancers")


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    telemetry.configure_operator(settings, os.environ.get("DNSRACE_PLANNER_ID", "planner"))
    memo.api = kube.api_client()
    memo.pool = {}
    port = telemetry.start_metrics()
    telemetry.emit("planner-started", metrics_port=port)


@kopf.on.event(GROUP, VERSION, Plural.LOADBALANCERS)
def pool_event(type: str | None, name: str, spec: kopf.Spec, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED":
        memo.pool.pop(name, None)
    else:
        memo.pool[name] = schema.parse(LoadBalancerSpec, spec)


def check_health(lb: LoadBalancerSpec, timeout: float = 0.5) -> tuple[bool, str]:
    CHECKS.inc()
    url = f"http://{lb.address}:{lb.port}{lb.healthPath}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, f"GET {url}: {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"GET {url}: {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"GET {url}: {exc}"


@kopf.daemon(
    GROUP, VERSION, Plural.PLANNERS, cancellation_timeout=5, backoff=telemetry.DAEMON_BACKOFF
)
def planner_loop(
    stopped: kopf.DaemonStopped,
    spec: kopf.Spec,
    name: str,
    namespace: str | None,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    ns = namespace or kube.namespace()
    api: client.ApiClient = memo.api
    health: dict[str, bool] = {}
    latest = newest(KubePlanStore(api, ns).list())
    last_targets = latest.targets if latest else None
    last_endpoints = latest.endpoints if latest else None
    clock = PlannerClock()
    targets: tuple[Target, ...] = ()
    changed = False
    reported_healthy: int | None = None
    reported_phase = ""
    while not stopped:
        settings = schema.parse(PlannerSpec, spec)  # the live spec, typed, once per round
        interval = settings.healthIntervalSeconds
        phase = "Paused" if settings.paused else "Running"
        if phase != reported_phase:
            kube.patch_status(api, "planners", ns, name, {"phase": phase})
            reported_phase = phase
        if phase == "Paused":
            # no plan and no health check (the LoadBalancers keep their last status): a paused
            # planner does no work; unpaused, it checks at once and plans at once
            clock = PlannerClock(next_plan=0.0)
            stopped.wait(interval)
            continue
        if clock.health_due(time.monotonic()):
            targets, found = check_pool(api, ns, memo.pool, health)
            changed = changed or found
            clock.checked(time.monotonic(), interval)
            HEALTHY.set(len(targets))
        cadence = settings.cadenceSeconds
        due = clock.plan_due(time.monotonic(), cadence)
        if memo.pool:
            if not targets:
                if changed:
                    telemetry.emit(
                        "no-plan",
                        reason="no healthy load balancer; an empty plan is never produced",
                    )
            elif targets != last_targets or tuple(settings.endpoints) != last_endpoints or due:
                reason = (
                    "health-change"
                    if targets != last_targets
                    else "cadence"
                    if due
                    else "endpoints-change"
                )
                plan = make_plan(api, ns, name, settings, targets, reason)
                clock.planned(time.monotonic(), cadence, on_cadence=reason == "cadence")
                last_targets, last_endpoints = targets, plan.endpoints
                due = False
        if due:
            # the cadence's slot passed with nothing to plan (no pool, no healthy target)
            clock.planned(time.monotonic(), cadence, on_cadence=True)
        changed = False
        if len(targets) != reported_healthy:
            # on change only: a status write every health interval wakes every watcher of
            # Planners (kopf included) for nothing
            kube.patch_status(api, "planners", ns, name, {"healthyTargets": len(targets)})
            reported_healthy = len(targets)
        stopped.wait(clock.sleep(time.monotonic()))


def check_pool(
    api: client.ApiClient,
    ns: str,
    pool: Mapping[str, LoadBalancerSpec],
    health: dict[str, bool],
) -> tuple[tuple[Target, ...], bool]:
    """Health-check every LoadBalancer of the pool (a changed one's status is written): the
    healthy targets, and whether any health changed or a member left."""
    members, changed = [], False
    for lb, lb_spec in sorted(dict(pool).items()):
        ok, detail = check_health(lb_spec)
        if health.get(lb) != ok:
            changed = True
            health[lb] = ok
            kube.patch_status(
                api,
                "loadbalancers",
                ns,
                lb,
                {"healthy": ok, "lastCheckTime": now_iso(), "message": detail},
            )
            telemetry.emit("health", load_balancer=lb, healthy=ok, detail=detail)
        members.append(PoolMember(lb, lb_spec.address, lb_spec.weight, ok))
    for gone in set(health) - set(pool):
        del health[gone]
        changed = True
    return targets_from_pool(members), changed


def make_plan(
    api: client.ApiClient,
    ns: str,
    name: str,
    settings: PlannerSpec,
    targets: tuple[Target, ...],
    reason: str,
) -> Plan:
    """Allocate and create the next plan (a failed allocation is retried by kopf)."""
    try:
        plan = create_next_plan(api, ns, name, settings.region, tuple(settings.endpoints), targets)
    except AllocationFailed as exc:
        raise kopf.TemporaryError(str(exc), delay=1) from exc
    summary = f"{len(targets)}: " + ",".join(t.address for t in targets)
    kube.patch_status(api, "dnsplans", ns, plan.name, {"targets": summary})
    PLANS.labels(reason).inc()
    GENERATION.set(plan.generation)
    telemetry.emit(
        "plan-created",
        plan=plan.name,
        generation=plan.generation,
        reason=reason,
        targets=[t.address for t in targets],
    )
    return plan


def main() -> None:
    telemetry.run_operator("planner")


if __name__ == "__main__":
    main()
