"""However a Scenario's run ends (completed, failed, out of time, deleted), the lab is left
converging: planner at its standing cadence, enactors unpaused with no fault and no gate;
unless the spec keeps the aftermath, for a bounded time, and says so in a condition. The run's
deadline holds inside waits; two Scenarios created at once run one after the other; `dnsrace
run` refuses to replace one that runs."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from kubernetes import client

from dnsrace.core.times import timestamp_of
from dnsrace.lab import local, objects
from dnsrace.scenarios.control import wait_for
from tests.conftest import Kubectl, dnsrace
from tests.e2e.test_scenarios import NS, condition, status_of

pytestmark = pytest.mark.integration


def scenario(name: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": name},
        "spec": {"protocol": "guarded", "durationSeconds": 60, "steps": steps, **spec},
    }


# a run that leaves the lab far from its standing settings: planner paused, enactors a and c
# paused (a set-up pauses every enactor), b with a fault
DISTURB: list[dict[str, Any]] = [
    {"planner": {"run": False}},
    {"enactor": "b", "set": {"paused": False, "faults": [{"at": "write", "delaySeconds": 0.1}]}},
    {"enactor": "c", "set": {"paused": True}},
]


def apply(kubectl: Kubectl, *docs: dict[str, Any]) -> None:
    for doc in docs:
        kubectl(
            "delete",
            "scenario",
            doc["metadata"]["name"],
            "-n",
            NS,
            "--ignore-not-found",
            "--wait=true",
        )
    kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump_all(docs))


def standing(crd: client.CustomObjectsApi) -> bool:
    """Planner and enactors in the lab's standing settings (protocol and keep aside)."""
    want = objects.planner()["spec"]
    planner: Any = crd.get_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", NS, "planners", "us-east-1"
    )
    ok = all(planner["spec"].get(k) == want[k] for k in ("paused", "cadenceSeconds"))
    for ident in objects.ENACTORS:
        e: Any = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "enactors", ident)
        s = e["spec"]
        ok = ok and not s.get("paused") and not s.get("faults") and s.get("stepGate") is None
        ok = ok and s.get("viewGate") is None
    return ok


def test_a_failed_run_leaves_the_lab_converging(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    doc = scenario("fails", [*DISTURB, {"waitFor": {"generation": 10000}}], durationSeconds=5)
    apply(kubectl, doc)
    kubectl("wait", "-n", NS, "--for=condition=Failed", "scenario/fails", "--timeout=60s")
    kubectl("wait", "-n", NS, "--for=condition=LabRestored", "scenario/fails", "--timeout=30s")
    assert standing(crd)

    # and it converges: the planner makes plans again and every enactor applies the newest
    def newest() -> int:
        return max((int(p["spec"]["generation"]) for p in _plans(crd)), default=0)

    first = newest()
    wait_for(lambda: newest() > first, 30, "a new plan from the restored planner")


def _plans(crd: client.CustomObjectsApi) -> list[Any]:
    items: Any = crd.list_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "dnsplans")
    return list(items["items"])


def test_the_deadline_holds_inside_waits(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    """A window longer than the whole run: the run fails when its durationSeconds are used up,
    inside that window, not when the window ends (the deadline was checked between steps only).
    The window is far longer than the run, so where the deadline falls does not hang on how
    long the set-up took (a 5 s window in an 8 s run failed in the window, not the wait after
    it, once the set-up took over 3 s on a busy CI host)."""
    doc = scenario(
        "out-of-time",
        [
            {"planner": {"run": False}},
            {"waitFor": {"seconds": 30}},
            {"waitFor": {"generation": 10000}},
        ],
        durationSeconds=8,
    )
    apply(kubectl, doc)
    kubectl("wait", "-n", NS, "--for=condition=Failed", "scenario/out-of-time", "--timeout=60s")
    st = status_of(crd, "out-of-time")
    took = timestamp_of(st["completionTime"]) - timestamp_of(st["startTime"])
    failed = condition(st, "Failed")
    assert failed["reason"] == "StepTimedOut"
    assert failed["message"] == (
        'spec.steps[1] {"waitFor": {"seconds": 30}}: durationSeconds used up during a 30s window'
    )
    assert took < 8 + 3, took  # 30 s or more if the window ran its length


def test_a_kept_aftermath_is_bounded_and_said_in_a_condition(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    doc = scenario("aftermath", DISTURB, aftermath={"keepSeconds": 6})
    apply(kubectl, doc)
    kubectl("wait", "-n", NS, "--for=condition=Completed", "scenario/aftermath", "--timeout=60s")
    kept = wait_for(
        lambda: (c := condition(status_of(crd, "aftermath"), "LabRestored")) and c,
        10,
        "the LabRestored condition",
    )
    assert (kept["status"], kept["reason"]) == ("False", "AftermathKept")
    assert "spec.aftermath.keepSeconds 6" in kept["message"]
    assert not standing(crd)  # as the run left it: planner paused, b faulty, a and c paused
    kubectl("wait", "-n", NS, "--for=condition=LabRestored", "scenario/aftermath", "--timeout=30s")
    assert standing(crd)


def test_deleting_a_running_scenario_stops_it_and_restores_the_lab(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    doc = scenario("deleted", [*DISTURB, {"waitFor": {"seconds": 50}}])
    apply(kubectl, doc)
    wait_for(lambda: status_of(crd, "deleted").get("stepIndex", 0) >= 3, 30, "the long wait")
    assert not standing(crd)
    started = time.monotonic()
    kubectl("delete", "scenario", "deleted", "-n", NS, "--wait=true", "--timeout=30s")
    assert time.monotonic() - started < 20  # stopped, not waited out (50 s)
    assert standing(crd)


def test_two_scenarios_created_at_once_run_one_at_a_time(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    short: list[dict[str, Any]] = [{"planner": {"run": True}}, {"waitFor": {"generation": 2}}]
    apply(kubectl, scenario("twin-1", short), scenario("twin-2", short))
    both_running = 0
    deadline = time.monotonic() + 120
    phases: tuple[Any, ...] = ()
    while time.monotonic() < deadline:
        phases = tuple(status_of(crd, n).get("phase") for n in ("twin-1", "twin-2"))
        both_running += phases == ("Running", "Running")
        if all(p in ("Completed", "Failed") for p in phases):
            break
        time.sleep(0.05)
    assert phases == ("Completed", "Completed")
    assert both_running == 0
    first, second = (status_of(crd, n) for n in ("twin-1", "twin-2"))
    a, b = sorted((first, second), key=lambda s: s["startTime"])
    assert a["completionTime"] <= b["startTime"]


def test_dnsrace_run_refuses_to_replace_a_running_scenario(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi, tmp_path: Any
) -> None:
    doc = scenario("busy", [{"planner": {"run": False}}, {"waitFor": {"seconds": 20}}])
    apply(kubectl, doc)
    wait_for(lambda: status_of(crd, "busy").get("phase") == "Running", 30, "busy running")
    uid = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "scenarios", "busy")[
        "metadata"
    ]["uid"]
    file = tmp_path / "busy.yaml"
    file.write_text(yaml.safe_dump(doc))
    res = dnsrace(lab_quiet.dir, "run", str(file))
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "dnsrace: scenario busy is running now; nothing changed "
        "(wait for it, or stop it: kubectl delete scenario busy -n dnsrace)"
    ]
    still: Any = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "scenarios", "busy")
    assert still["metadata"]["uid"] == uid
    assert still["status"]["phase"] == "Running"
    kubectl("delete", "scenario", "busy", "-n", NS, "--wait=true")
