"""Convergence of a plan on the live lab: from the DNSPlan's creation until every endpoint
carries its generation (record store) and answers its targets (CoreDNS), for the standing
4-endpoint plan and for a 1,000-endpoint plan, measured in one run."""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from dnsrace.core.plans import DEFAULT_ENDPOINTS, newest
from dnsrace.lab import local
from dnsrace.scenarios.probe import resolve
from dnsrace.stores import kube
from dnsrace.stores.plans import KubePlanStore
from dnsrace.stores.records import EtcdRecordStore

NS = "dnsrace"


def _converge(
    state: local.LabState, api: client.ApiClient, endpoints: list[str]
) -> tuple[float, int]:
    crd = client.CustomObjectsApi(api)
    store, plans = EtcdRecordStore(state.record_store), KubePlanStore(api, NS)
    before = newest(plans.list())
    crd.patch_namespaced_custom_object(
        kube.GROUP, kube.VERSION, NS, "planners", "us-east-1", {"spec": {"endpoints": endpoints}}
    )
    t0 = time.monotonic()
    while True:
        plan = newest(plans.list())
        if (
            plan
            and (before is None or plan.generation > before.generation)
            and plan.endpoints == tuple(endpoints)
        ):
            break
        time.sleep(0.05)
    while True:
        seen = store.read_all(endpoints).values()
        if all(o.record and o.record.generation >= plan.generation for o in seen):
            break
        time.sleep(0.05)
    want = tuple(sorted(t.address for t in plan.targets))
    for name in endpoints:
        while resolve(name, state.dns).addresses != want:
            time.sleep(0.01)
    return time.monotonic() - t0, plan.generation


def run(state: local.LabState) -> list[str]:
    api = _api(state)
    crd = client.CustomObjectsApi(api)
    crd.patch_namespaced_custom_object(
        kube.GROUP, kube.VERSION, NS, "planners", "us-east-1", {"spec": {"cadenceSeconds": 0}}
    )
    big = [f"e{i:04d}.ddb.us-east-1.amazonaws.com" for i in range(1000)]
    small_s, _ = _converge(
        state, api, [*DEFAULT_ENDPOINTS[:3], "bench.ddb.us-east-1.amazonaws.com"]
    )
    big_s, gen = _converge(state, api, big)
    per_small, per_big = small_s / 4 * 1e3, big_s / 1000 * 1e3
    return [
        f"convergence: 4-endpoint plan        {small_s:8.2f} s  ({per_small:7.1f} ms/endpoint)",
        f"convergence: 1,000-endpoint plan g{gen} {big_s:8.2f} s  ({per_big:7.1f} ms/endpoint)",
        f"convergence: 1,000 / 4 endpoints    {big_s / small_s:8.1f}x time for 250x endpoints",
    ]


def _api(state: local.LabState) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(state.kubeconfig))
