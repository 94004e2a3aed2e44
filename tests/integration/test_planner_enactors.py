"""Normal operation on the real lab: the Planner turns front-end health into DNSPlans and three
Enactors apply them to the record store that CoreDNS serves."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from bench import measure
from kubernetes import client

from dnsrace.core.plans import DEFAULT_ENDPOINTS, Plan, newest
from dnsrace.core.records import Target
from dnsrace.lab import commands, local, objects
from dnsrace.scenarios.control import LabControl, wait_for
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.allocation import create_next_plan
from dnsrace.stores.plans import KubePlanStore
from dnsrace.stores.records import EtcdRecordStore
from tests.conftest import set_health

pytestmark = pytest.mark.integration
NS = "dnsrace"


def plans_now(api: client.ApiClient) -> list[Plan]:
    return KubePlanStore(api, NS).list()


def newest_plan(api: client.ApiClient) -> Plan:
    plan = newest(plans_now(api))
    assert plan is not None
    return plan


def all_endpoints_serve(state: local.LabState, targets: tuple[Target, ...]) -> bool:
    want = tuple(sorted(t.address for t in targets))
    return all(resolve(name, state.dns).addresses == want for name in DEFAULT_ENDPOINTS)


def test_every_endpoint_resolves_to_the_newest_plan(
    lab_defaults: local.LabState, api: client.ApiClient
) -> None:
    first = newest_plan(api)
    later = wait_for(
        lambda: (p := newest_plan(api)).generation > first.generation and p, 30, "a new plan"
    )
    store = EtcdRecordStore(lab_defaults.record_store)

    def applied_everywhere() -> bool:
        seen = store.read_all(DEFAULT_ENDPOINTS).values()
        return all(o.record and o.record.generation >= later.generation for o in seen)

    wait_for(applied_everywhere, 15, f"every endpoint to carry g{later.generation} or newer")
    wait_for(
        lambda: all_endpoints_serve(lab_defaults, later.targets),
        15,
        f"every endpoint to answer g{later.generation}'s targets through CoreDNS",
    )


def test_unhealthy_front_end_leaves_the_plan_and_the_answers_then_returns(
    lab_defaults: local.LabState, api: client.ApiClient
) -> None:
    sick = objects.FRONTEND_ADDRESSES[1]
    set_health(lab_defaults, sick, False)
    without = wait_for(
        lambda: (p := newest_plan(api)) and sick not in {t.address for t in p.targets} and p,
        15,
        "a plan without the unhealthy front-end",
    )
    assert len(without.targets) == 2
    wait_for(
        lambda: all_endpoints_serve(lab_defaults, without.targets),
        15,
        "answers without the unhealthy front-end",
    )
    set_health(lab_defaults, sick, True)
    back = wait_for(
        lambda: (p := newest_plan(api)) and len(p.targets) == 3 and p,
        15,
        "the front-end back in a plan",
    )
    wait_for(lambda: all_endpoints_serve(lab_defaults, back.targets), 15, "answers with it again")


def test_cleanup_keeps_newest_keep_and_no_endpoint_ever_empties(
    lab_defaults: local.LabState, api: client.ApiClient
) -> None:
    empties: list[str] = []
    served: set[str] = set()
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            for name in DEFAULT_ENDPOINTS:
                answer = resolve(name, lab_defaults.dns)
                if not answer.empty:
                    served.add(name)
                elif name in served:  # once applied, never empty again
                    empties.append(name)
            stop.wait(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    start = newest_plan(api).generation
    try:
        wait_for(lambda: newest_plan(api).generation >= start + 8, 30, "eight more plans")
    finally:
        stop.set()
        prober.join()
    store = EtcdRecordStore(lab_defaults.record_store)

    def kept_window() -> bool:
        gens = sorted(p.generation for p in plans_now(api))
        applied = min(
            o.record.generation for o in store.read_all(DEFAULT_ENDPOINTS).values() if o.record
        )
        return gens[0] >= applied - 3 - 1 and len(gens) <= 3 + 3

    wait_for(kept_window, 10, "only the newest generations kept")
    assert empties == [], f"endpoints answered empty: {sorted(set(empties))}"


def test_killed_enactor_does_not_stop_the_others_and_catches_up(
    lab_defaults: local.LabState, api: client.ApiClient, crd: client.CustomObjectsApi
) -> None:
    local.kill(lab_defaults.dir, "enactor-a", hold=True)
    base = newest_plan(api).generation
    wait_for(lambda: newest_plan(api).generation >= base + 3, 20, "three newer plans")
    target = newest_plan(api)
    store = EtcdRecordStore(lab_defaults.record_store)

    def applied() -> bool:
        seen = store.read_all(DEFAULT_ENDPOINTS).values()
        return all(o.record and o.record.generation >= target.generation for o in seen)

    # by generation, not by addresses: every plan has the same addresses
    wait_for(applied, 15, f"b and c to apply g{target.generation} without a")
    writers = {o.record.enactor for o in store.read_all(DEFAULT_ENDPOINTS).values() if o.record}
    assert writers <= {"b", "c"}, writers  # a was down before that plan existed

    local.release(lab_defaults.dir, "enactor-a")

    def caught_up() -> bool:
        obj: Any = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "enactors", "a")
        applied = int(obj.get("status", {}).get("lastAppliedGeneration", 0))
        return applied >= target.generation

    wait_for(caught_up, 30, "enactor a to catch up after its restart")


def test_supervisor_restarts_a_crashed_operator_and_logs_it(lab_defaults: local.LabState) -> None:
    before = local.LabState.load(lab_defaults.dir)
    assert before is not None
    old = before.components["enactor-c"]
    local.kill(lab_defaults.dir, "enactor-c", hold=False)

    def restarted() -> local.ComponentState | None:
        now = local.LabState.load(lab_defaults.dir)
        c = now.components["enactor-c"] if now else None
        return c if c and c.restarts == old.restarts + 1 and c.pid != old.pid else None

    new = wait_for(restarted, 20, "enactor-c restarted")
    log = (lab_defaults.dir / "logs" / "supervisor.log").read_text().splitlines()
    restarts = [json.loads(line) for line in log if '"restart"' in line]
    assert any(r["component"] == "enactor-c" for r in restarts)
    # forked again from the supervisor, as at the lab's start (dnsrace.lab.forking)
    respawned = [json.loads(line) for line in log if '"respawned"' in line]
    assert [r["how"] for r in respawned if r["pid"] == new.pid] == ["forked"]
    assert process_of(new.pid) == ("enactor-c", lab_defaults.supervisor_pid)


OPERATORS = ("planner", "scenario-controller", "enactor-a", "enactor-b", "enactor-c")


def process_of(pid: int) -> tuple[str, int]:
    """A process's name (its comm: 15 bytes at most) and its parent's pid."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.index("(") + 1 : stat.rindex(")")], int(stat.rsplit(")", 1)[1].split()[1])


def test_the_operators_are_forked_from_the_supervisor_and_named(
    lab_quiet: local.LabState,
) -> None:
    """The kopf operators are forked from the supervisor, which has imported their libraries
    once, and carry their component's name; every other process is executed as its program.
    (`lab_quiet`: every process ready, none halfway through a restart another test caused.)"""
    state = local.LabState.load(lab_quiet.dir)
    assert state is not None
    for name, component in state.components.items():
        comm, parent = process_of(component.pid)
        assert parent == state.supervisor_pid, name
        program = Path(os.readlink(f"/proc/{component.pid}/exe")).name
        assert comm == (name if name in OPERATORS else program)[:15], (name, comm, program)
        # what runs, in state.json: ps shows the supervisor's command line for a forked one
        assert Path(component.command[0]).name == program, (name, component.command)
    planner = state.components["planner"]
    assert planner.command[1:] == ["-m", "dnsrace.operators.planner"]
    assert planner.env["KUBECONFIG"].endswith("kubeconfig-planner")  # its ServiceAccount's


def test_the_api_server_runs_with_the_labs_gc_pacing(api: client.ApiClient) -> None:
    """The Go runtime of the lab's kube-apiserver reports the GOGC `commands` gives it (its own
    /metrics: what the running process uses, not what was meant to be passed)."""
    given = int(commands.kube_apiserver_env(os.environ)["GOGC"])
    assert measure.go_runtime(api)["gogc"] == given  # what `make bench` reports


def metric_value(state: local.LabState, component: str, metric: str) -> float:
    """The sum of `metric`'s samples on `component`'s Prometheus endpoint."""
    port = state.ports[f"metrics_{component}"]
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith(metric) and not line.startswith("#")
    )


def test_a_paused_planner_checks_no_health_and_makes_no_plan(
    lab_defaults: local.LabState, api: client.ApiClient, control: LabControl
) -> None:
    """Paused, the planner makes no plan and asks no front-end for its health (an idle lab does
    no work), and says so in status.phase; unpaused, it checks again and makes the next plan."""

    def phase() -> str:
        obj: Any = control.crd.get_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", NS, "planners", "us-east-1"
        )
        return str((obj.get("status") or {}).get("phase", ""))

    def checks() -> float:
        return metric_value(lab_defaults, "planner", "dnsrace_planner_health_checks_total")

    wait_for(lambda: phase() == "Running", 10, "the planner to report Running")
    control.planner(paused=True)
    wait_for(lambda: phase() == "Paused", 10, "the planner to report Paused")
    before, newest_before = checks(), newest_plan(api).generation
    # three health intervals (0.5 s): running, it would have asked each front-end three times
    time.sleep(1.5)
    assert checks() == before
    assert newest_plan(api).generation == newest_before
    control.planner(paused=False)
    wait_for(lambda: phase() == "Running", 10, "the planner to report Running again")
    wait_for(lambda: checks() > before, 10, "a health check after the pause")
    wait_for(lambda: newest_plan(api).generation > newest_before, 10, "a plan after the pause")


def test_operators_expose_prometheus_metrics(
    lab_defaults: local.LabState, api: client.ApiClient
) -> None:
    """The counters follow what the operators do: a new plan raises the planner's plan count
    and enactor b's event count."""
    counters = (
        ("enactor-b", "dnsrace_enactor_events_total"),
        ("planner", "dnsrace_planner_plans_total"),
    )
    before = {name: metric_value(lab_defaults, name, metric) for name, metric in counters}
    base = newest_plan(api).generation
    wait_for(lambda: newest_plan(api).generation > base + 1, 30, "two more plans")

    def grew(name: str, metric: str) -> bool:
        return metric_value(lab_defaults, name, metric) > before[name]

    for name, metric in counters:
        wait_for(
            partial(grew, name, metric),
            15,
            f"{metric} on {name} to grow past {before[name]:g}",
        )


def test_two_planners_racing_get_unique_gap_free_generations(
    api: client.ApiClient, namespace: str
) -> None:
    crd = client.CustomObjectsApi(api)
    planner = objects.planner()
    planner["spec"]["cadenceSeconds"] = 0
    crd.create_namespaced_custom_object("dnsrace.io", "v1alpha1", namespace, "planners", planner)
    targets = (Target("127.0.0.11", 100, "lb-1"),)
    made: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(10):
            plan = create_next_plan(
                api, namespace, "us-east-1", "us-east-1", DEFAULT_ENDPOINTS, targets
            )
            with lock:
                made.append(plan.generation)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(made) == list(range(1, 21))
    obj: Any = crd.get_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "planners", "us-east-1"
    )
    assert obj["status"]["lastGeneration"] == 20
