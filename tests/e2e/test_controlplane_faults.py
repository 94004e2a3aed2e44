"""The lab's own processes killed while a guarded scenario runs: for each of etcd (API),
kube-apiserver, kube-controller-manager, the record-store etcd and CoreDNS, the supervisor
restarts it and calls it ready only once its probe answers, the operators carry on without a
restart of their own, the run completes with its verdict (the guard held), and nothing written
before the kill is lost."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import yaml
from kubernetes import client

from dnsrace.lab import local
from dnsrace.scenarios.control import wait_for
from dnsrace.stores.records import EtcdRecordStore
from tests.conftest import Kubectl
from tests.e2e.test_scenarios import NS, condition, status_of

pytestmark = pytest.mark.integration

COMPONENTS = ("etcd-api", "kube-apiserver", "kube-controller-manager", "etcd-records", "coredns")


def guarded_run(name: str) -> dict[str, Any]:
    """Three guarded enactors run freely while the planner makes 16 plans, one every 0.5 s: a
    window of about 8 s that a killed API server or its etcd stretches, since no plan is made
    until it is back (the window ends only once the planner has carried on)."""
    return {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": name},
        "spec": {
            "protocol": "guarded",
            "keep": 2,
            "durationSeconds": 120,
            "planner": {"cadenceSeconds": 0.5},
            "steps": [
                {"enactor": "a", "set": {"paused": False}},
                {"enactor": "b", "set": {"paused": False}},
                {"enactor": "c", "set": {"paused": False}},
                {"planner": {"run": True}},
                {"waitFor": {"generation": 16}},
                {"planner": {"run": False}},
                {"waitFor": {"settled": True}},
            ],
            "expect": {"oracle": {"I1": {"max": 0}, "I2": {"max": 0}, "I3": {"max": 0}}},
        },
    }


def supervisor_lines(state: local.LabState, component: str, since: int) -> list[dict[str, Any]]:
    lines = (state.dir / "logs" / "supervisor.log").read_text().splitlines()[since:]
    return [r for r in map(json.loads, lines) if r.get("component") == component]


def log_length(state: local.LabState) -> int:
    return len((state.dir / "logs" / "supervisor.log").read_text().splitlines())


def records_at(store: EtcdRecordStore, revision: int) -> list[Any]:
    return store.client.everything_at(revision)


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_control_plane_process_killed_mid_run(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi, component: str
) -> None:
    state = lab_quiet
    name = f"killed-{component}"
    kubectl("delete", "scenario", name, "-n", NS, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(guarded_run(name)))
    # inside the window: enactors and planner busy
    wait_for(lambda: status_of(crd, name).get("stepIndex", 0) >= 4, 60, "the run's window")
    store = EtcdRecordStore(state.record_store)
    revision = store.client.revision()
    before = records_at(store, revision)
    timeline = status_of(crd, name)["timeline"]
    old = local.LabState.load(state.dir)
    assert old is not None
    mark = log_length(state)
    local.kill(state.dir, component, hold=False)

    def back() -> bool:
        now = local.LabState.load(state.dir)
        c = now.components[component] if now else None
        return bool(c and c.ready and c.pid != old.components[component].pid)

    wait_for(back, 90, f"{component} restarted and ready")
    events = [r["event"] for r in supervisor_lines(state, component, mark)]
    # restarted, then called ready only when its probe answered
    assert events[:3] == ["restart", "respawned", "ready"], events

    kubectl("wait", "-n", NS, "--for=condition=Completed", f"scenario/{name}", "--timeout=150s")
    st = status_of(crd, name)
    assert st["phase"] == "Completed", condition(st, "Failed")
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    assert st["verdict"]["regressions"] == 0
    assert not st["verdict"]["emptyRecordObserved"]
    if component == "coredns":
        # the probes did meet the fault: as unanswered queries, not as empty answers (a short
        # record-store restart, by contrast, is usually bridged by the clients' own retries)
        assert st["verdict"]["unansweredSamples"] > 0, st["verdict"]
    # nothing written before the kill is lost: the record store's history at the revision read
    # before it, and the scenario's timeline up to the kill
    assert records_at(store, revision) == before
    assert st["timeline"][: len(timeline)] == timeline or len(timeline) > 150
    kubectl("wait", "-n", NS, "--for=condition=LabRestored", f"scenario/{name}", "--timeout=60s")


def test_operators_resume_within_seconds_of_the_api_server_coming_back(
    lab_defaults: local.LabState, crd: client.CustomObjectsApi
) -> None:
    """The planner makes its next plan a few seconds after kube-apiserver is ready again, not
    after kopf's default minute of daemon back-off."""
    state = lab_defaults
    plans = crd.list_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "dnsplans")
    newest = max(int(p["spec"]["generation"]) for p in plans["items"])
    old = local.LabState.load(state.dir)
    assert old is not None
    local.kill(state.dir, "kube-apiserver", hold=False)

    def api_ready() -> bool:
        now = local.LabState.load(state.dir)
        c = now.components["kube-apiserver"] if now else None
        return bool(c and c.ready and c.pid != old.components["kube-apiserver"].pid)

    wait_for(api_ready, 90, "kube-apiserver restarted and ready")
    ready_at = time.monotonic()

    def newer_plan() -> bool:
        items = crd.list_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "dnsplans")
        return max(int(p["spec"]["generation"]) for p in items["items"]) > newest

    wait_for(newer_plan, 30, "a plan made after the API server came back")
    assert time.monotonic() - ready_at < 15  # kopf's default daemon back-off alone is 60 s


def test_a_crash_loop_backs_off_and_others_restart_meanwhile(lab_quiet: local.LabState) -> None:
    """CoreDNS killed three times as soon as it is back: each wait doubles. Then, with etcd-api
    held down, kube-apiserver is restarted but cannot get ready: it stays not ready (the old
    supervisor called a respawned child ready at once) while CoreDNS, killed meanwhile, is
    restarted and ready (no restart waits on another)."""
    state = lab_quiet
    mark = log_length(state)
    for _ in range(3):
        current = local.LabState.load(state.dir)
        assert current is not None
        pid = current.components["coredns"].pid
        local.kill(state.dir, "coredns", hold=False)

        def respawned(pid: int = pid) -> bool:
            now = local.LabState.load(state.dir)
            return bool(now and now.components["coredns"].pid != pid)

        wait_for(respawned, 30, "coredns respawned")
    waits = [r["in_seconds"] for r in supervisor_lines(state, "coredns", mark) if "in_seconds" in r]
    assert waits == sorted(waits)
    assert waits[-1] >= 2 * waits[0]

    def ready(component: str) -> bool:
        now = local.LabState.load(state.dir)
        return bool(now and now.components[component].ready)

    wait_for(lambda: ready("coredns"), 30, "coredns ready")
    local.kill(state.dir, "etcd-api", hold=True)
    try:
        mark = log_length(state)
        local.kill(state.dir, "kube-apiserver", hold=False)
        wait_for(
            lambda: (
                "respawned" in [r["event"] for r in supervisor_lines(state, "kube-apiserver", mark)]
            ),
            30,
            "kube-apiserver respawned",
        )
        local.kill(state.dir, "coredns", hold=False)
        wait_for(
            lambda: "ready" in [r["event"] for r in supervisor_lines(state, "coredns", mark)],
            30,
            "coredns ready again",
        )
        assert not ready("kube-apiserver")  # respawned, but its etcd is down: not ready
        assert "ready" not in [r["event"] for r in supervisor_lines(state, "kube-apiserver", mark)]
    finally:
        local.release(state.dir, "etcd-api")
    wait_for(lambda: ready("etcd-api") and ready("kube-apiserver"), 120, "the API back")
