"""Scenarios as resources, end to end on the live lab: kubectl apply and kubectl wait, the
verdict each scenario's comment promises, `dnsrace run --json`, refusals with clear messages,
one scenario at a time, and a controller restart mid-run that changes nothing in the verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, watch

from dnsrace.core.plans import generation_of
from dnsrace.core.times import timestamp_of
from dnsrace.lab import local
from dnsrace.scenarios.control import wait_for
from tests.conftest import Kubectl

pytestmark = pytest.mark.integration
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
NS = "dnsrace"
# the timeline's entries taken from the enactors' Events when a run ends
INJECTED = {"FaultFired", "Restarted", "CASConflict", "RetireRefused", "FaultNeverFired"}


def status_of(crd: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    obj: Any = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "scenarios", name)
    return dict(obj.get("status") or {})


def statuses_from(
    crd: client.CustomObjectsApi, name: str, resource_version: str, seconds: int = 60
) -> Iterator[dict[str, Any]]:
    """Every status the scenario `name` has had since `resource_version`, in order."""
    w = watch.Watch()
    stream = w.stream(
        crd.list_namespaced_custom_object,
        "dnsrace.io",
        "v1alpha1",
        NS,
        "scenarios",
        field_selector=f"metadata.name={name}",
        resource_version=resource_version,
        timeout_seconds=seconds,
    )
    try:
        for event in stream:
            yield dict(event["object"].get("status") or {})
    finally:
        w.stop()
    raise AssertionError(f"scenario {name}: the watch ended after {seconds} s")


def condition(st: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in st.get("conditions", []) if c["type"] == type_), {})


def apply_and_wait(kubectl: Kubectl, file: Path, timeout: str = "240s") -> str:
    name = yaml.safe_load(file.read_text())["metadata"]["name"]
    kubectl("delete", "scenario", name, "-n", NS, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-n", NS, "-f", str(file))
    kubectl(
        "wait", "-n", NS, "--for=condition=Completed", f"scenario/{name}", f"--timeout={timeout}"
    )
    return str(name)


@pytest.mark.parametrize(
    ("file", "outage"),
    [
        ("race-unguarded.yaml", True),
        ("race-guarded.yaml", False),
        ("random-delays.yaml", True),
        ("enactor-crash.yaml", False),
    ],
)
def test_each_scenario_keeps_its_promise(
    lab_quiet: local.LabState,
    kubectl: Kubectl,
    crd: client.CustomObjectsApi,
    file: str,
    outage: bool,
) -> None:
    name = apply_and_wait(kubectl, SCENARIOS / file)
    st = status_of(crd, name)
    assert st["phase"] == "Completed"
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    assert (verdict["finalRecord"]["answer"] == "NXDOMAIN") is outage
    assert verdict["emptyRecordObserved"] is outage
    if outage:
        assert verdict["staleOverwrites"] >= 1
        assert verdict["activePlanDeletions"] >= 1
    else:
        assert verdict["regressions"] == 0
    assert condition(st, "Completed")["observedGeneration"] == 1
    assert st["timeline"], "the timeline is recorded in status"
    # every fault the scenario sets fired, each firing and crash on the timeline
    fired = {(f["enactor"], f["fault"]): f for f in verdict["faults"]}
    assert all(f["fired"] >= 1 for f in fired.values()), fired
    if file == "enactor-crash.yaml":
        crash = fired["c", "before-write dynamodb-fips.us-east-1.amazonaws.com crash"]
        assert (crash["fired"], crash["restarted"]) == (1, 1)
        kinds = [e["kind"] for e in st["timeline"]]
        assert "FaultFired" in kinds
        assert "Restarted" in kinds
    printed = kubectl("get", "scenario", name, "-n", NS).stdout
    assert ("OUTAGE" if outage else "HELD") in printed
    # kubectl describe shows the run's Events in the order they happened: the timeline's
    # notes (the enactors' Events are on their own objects)
    described = kubectl("describe", "scenario", name, "-n", NS).stdout
    rows = described.split("\nEvents:\n", 1)[1].splitlines()[2:]
    reasons = [row.split()[1] for row in rows if row.strip()]
    notes = [e["kind"] for e in st["timeline"] if e["kind"] not in INJECTED]
    assert reasons == notes


def test_dnsrace_run_exit_status_follows_the_expectations(
    lab_quiet: local.LabState, tmp_path: Path
) -> None:
    """`dnsrace run` exits 0 when the verdict meets spec.expect and 1 when it does not, naming
    the unmet expectation: the same guarded run, once with an expectation it cannot meet."""

    def run(file: Path) -> subprocess.CompletedProcess[str]:
        state = ["--state-dir", str(lab_quiet.dir)]
        return subprocess.run(
            [sys.executable, "-m", "dnsrace.cli", *state, "run", str(file), "--json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    held = run(SCENARIOS / "race-guarded.yaml")
    assert held.returncode == 0, held.stderr
    verdict = json.loads(held.stdout)["verdict"]
    assert verdict["failures"] == []
    assert verdict["oracle"]["violations"] == {"I1": 0, "I2": 0, "I3": 0}
    doc = yaml.safe_load((SCENARIOS / "race-guarded.yaml").read_text())
    doc["metadata"]["name"] = "race-guarded-wrong"
    doc["spec"]["expect"]["staleOverwrites"] = {"min": 1}
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(doc))
    unmet = run(wrong)
    assert unmet.returncode == 1, unmet.stderr
    assert json.loads(unmet.stdout)["verdict"]["failures"] == [
        "expected staleOverwrites >= 1, saw 0"
    ]


def test_malformed_scenario_is_refused_naming_the_field(
    kubectl: Kubectl, local_lab: local.LabState
) -> None:
    doc = yaml.safe_load((SCENARIOS / "race-guarded.yaml").read_text())
    doc["metadata"]["name"] = "malformed"
    doc["spec"]["protocol"] = "optimistic"
    res = kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(doc), check=False)
    assert res.returncode != 0
    assert 'spec.protocol: Unsupported value: "optimistic"' in res.stderr
    doc["spec"]["protocol"] = "guarded"
    doc["spec"]["replay"] = [{"actor": "planner"}]
    res = kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(doc), check=False)
    assert "set exactly one of spec.steps" in res.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "--state-dir",
            str(local_lab.dir),
            "run",
            "/nonexistent.yaml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    assert "cannot read /nonexistent.yaml" in bad.stderr


def test_unknown_enactor_fails_with_a_clear_condition(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    doc = yaml.safe_load((SCENARIOS / "race-guarded.yaml").read_text())
    doc["metadata"]["name"] = "ghost-enactor"
    doc["spec"]["enactors"] = [{"name": "z", "faults": [{"at": "after-pick", "pause": True}]}]
    st = refused_by_the_controller(kubectl, crd, doc)
    failed = condition(st, "Failed")
    assert failed["reason"] == "InvalidSpec"
    assert (
        failed["message"] == "spec.enactors[0].name: no enactor 'z' in this lab (there are a, b, c)"
    )


def refused_by_the_controller(
    kubectl: Kubectl, crd: client.CustomObjectsApi, doc: dict[str, Any]
) -> dict[str, Any]:
    """Apply `doc` with kubectl (no dnsrace run to check it first), wait for it to fail, and
    return its status (the Scenario is deleted)."""
    name = doc["metadata"]["name"]
    kubectl("delete", "scenario", name, "-n", NS, "--ignore-not-found")
    kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(doc))
    kubectl("wait", "-n", NS, "--for=condition=Failed", f"scenario/{name}", "--timeout=60s")
    st = status_of(crd, name)
    kubectl("delete", "scenario", name, "-n", NS)
    return st


def test_a_wait_that_could_only_time_out_fails_before_the_first_step(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    """Applied with kubectl (no dnsrace run to check it first): a pausedAt that no pause fault
    of the enactor has is refused by the controller as InvalidSpec, naming the field and what
    to write, before it takes the lab (no start time, no base generation): never after a
    timeout."""
    doc = yaml.safe_load((SCENARIOS / "race-guarded.yaml").read_text())
    doc["metadata"]["name"] = "bad-pause-key"
    doc["spec"]["steps"][2]["waitFor"]["pausedAt"] = "after-pick"
    st = refused_by_the_controller(kubectl, crd, doc)
    failed = condition(st, "Failed")
    assert failed["reason"] == "InvalidSpec"
    assert failed["message"].startswith(
        "spec.steps[2].waitFor.pausedAt: enactor a has no pause fault at 'after-pick' "
        "(its pause faults so far: after-pick:*); write AT:ENDPOINT"
    )
    assert "startTime" not in st
    assert "baseGeneration" not in st
    assert st["result"] == "FAILED"


def assert_held_with_the_guard_engaged(st: dict[str, Any], min_changes: int) -> None:
    """A guarded run's verdict: its promise kept, the CAS refused at least one write, the oracle
    found nothing over at least `min_changes` record changes."""
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    assert verdict["casConflicts"] >= 1
    assert verdict["oracle"]["violations"] == {"I1": 0, "I2": 0, "I3": 0}
    assert verdict["oracle"]["changes"] >= min_changes
    assert verdict["word"] == "HELD"


def test_a_guarded_cas_refuses_a_write_that_landed_after_its_read(
    lab_quiet: local.LabState,
    kubectl: Kubectl,
    crd: client.CustomObjectsApi,
    api: client.ApiClient,
) -> None:
    """cas-live: a is held between its read of the regional endpoint and its CAS while b writes
    it; the CAS is refused (a CASConflict event on the regional endpoint, by a) and the oracle
    finds no endpoint going back at any revision."""
    regional = "dynamodb.us-east-1.amazonaws.com"
    name = apply_and_wait(kubectl, SCENARIOS / "cas-live.yaml")
    st = status_of(crd, name)
    assert_held_with_the_guard_engaged(st, min_changes=1)
    events = client.CoreV1Api(api).list_namespaced_event(NS, field_selector="reason=CASConflict")
    # this run's: on a plan of this run (generations are never reused), not an earlier test's
    refused = [
        e.message
        for e in events.items
        if generation_of(e.involved_object.name) > int(st["baseGeneration"])
    ]
    assert any(regional in m and "enactor a" in m for m in refused), refused


def test_free_running_guarded_enactors_hold_with_the_guard_engaged(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    """free-run-guarded: no choreography, wall-clock faults and a kill; the oracle finds nothing
    on any endpoint at any revision, and the CAS refused writes along the way."""
    name = apply_and_wait(kubectl, SCENARIOS / "free-run-guarded.yaml")
    # several plans really went through the store
    assert_held_with_the_guard_engaged(status_of(crd, name), min_changes=8)


def test_a_step_that_cannot_complete_fails_the_run_with_no_verdict(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    """A wait for a generation that never comes (the planner paused) is a failed run naming the
    step and what it waited for, never a verdict about the race."""
    doc = {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "never-arrives"},
        "spec": {
            "protocol": "unguarded",
            "durationSeconds": 8,
            "steps": [{"planner": {"run": False}}, {"waitFor": {"generation": 10000}}],
        },
    }
    kubectl("delete", "scenario", "never-arrives", "-n", NS, "--ignore-not-found")
    kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(doc))
    kubectl("wait", "-n", NS, "--for=condition=Failed", "scenario/never-arrives", "--timeout=90s")
    st = status_of(crd, "never-arrives")
    failed = condition(st, "Failed")
    assert failed["reason"] == "StepTimedOut"
    assert failed["message"].startswith('spec.steps[1] {"waitFor": {"generation": 10000}}: ')
    assert "waiting for the newest plan to reach g10" in failed["message"]
    took = timestamp_of(st["completionTime"]) - timestamp_of(st["startTime"])
    assert took < 8 + 3, took  # the wait had what was left of durationSeconds, no more
    assert st["phase"] == "Failed"
    assert "verdict" not in st
    kubectl("delete", "scenario", "never-arrives", "-n", NS)


def test_a_second_scenario_waits_for_the_first(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    for name in ("race-guarded", "enactor-crash"):
        kubectl("delete", "scenario", name, "-n", NS, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-n", NS, "-f", str(SCENARIOS / "race-guarded.yaml"))
    wait_for(lambda: status_of(crd, "race-guarded").get("phase") == "Running", 30, "first running")
    kubectl("apply", "-n", NS, "-f", str(SCENARIOS / "enactor-crash.yaml"))
    waiting = wait_for(
        lambda: (
            condition(status_of(crd, "enactor-crash"), "Waiting").get("status") == "True"
            and status_of(crd, "enactor-crash")
        ),
        30,
        "second waiting",
    )
    assert "scenario race-guarded is running" in condition(waiting, "Waiting")["message"]
    kubectl(
        "wait", "-n", NS, "--for=condition=Completed", "scenario/race-guarded", "--timeout=240s"
    )
    kubectl(
        "wait", "-n", NS, "--for=condition=Completed", "scenario/enactor-crash", "--timeout=240s"
    )
    assert condition(status_of(crd, "enactor-crash"), "VerdictPassed")["status"] == "True"


def test_controller_restart_mid_run_gives_the_same_verdict(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    before = apply_and_wait(kubectl, SCENARIOS / "race-unguarded.yaml")
    reference = status_of(crd, before)["verdict"]
    kubectl("delete", "scenario", before, "-n", NS, "--wait=true")
    created = kubectl(
        "apply",
        "-n",
        NS,
        "-f",
        str(SCENARIOS / "race-unguarded.yaml"),
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ).stdout
    # every status from the first step on already names where the history starts (a restart
    # before it was saved judged only the history after the restart)
    for st in statuses_from(crd, before, created):
        if int(st.get("stepIndex", 0)) >= 1:
            assert (st.get("probes") or {}).get("startRevision"), st
        if int(st.get("stepIndex", 0)) >= 4:
            break
    local.kill(lab_quiet.dir, "scenario-controller", hold=False)
    kubectl("wait", "-n", NS, "--for=condition=Completed", f"scenario/{before}", "--timeout=240s")
    st = status_of(crd, before)
    again = st["verdict"]
    assert any(t["kind"] == "Resumed" for t in st["timeline"])
    for key in (
        "emptyRecordObserved",
        "staleOverwrites",
        "activePlanDeletions",
        "regressions",
        "passed",
        "word",
        "summary",
    ):
        if key == "summary":
            assert again[key].split(";")[0] == reference[key].split(";")[0]
        else:
            assert again[key] == reference[key], key
    assert again["finalRecord"]["answer"] == reference["finalRecord"]["answer"] == "NXDOMAIN"


def test_report_is_self_contained_with_its_plots(
    lab_quiet: local.LabState, kubectl: Kubectl, tmp_path: Path
) -> None:
    apply_and_wait(kubectl, SCENARIOS / "race-unguarded.yaml")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "--state-dir",
            str(lab_quiet.dir),
            "report",
            "race-unguarded",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    out = tmp_path / "race-unguarded"
    for png in ("generations.png", "answers.png", "timeline.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "STALE OVERWRITE" in page
    assert "OUTAGE" in page
    # the faults the run injected, each with how often it fired, as tables a reader sees
    assert "<h2>Faults injected</h2>" in page
    assert "<td>a</td><td>after-pick pause</td><td>1</td>" in page
    assert "<td>FaultFired</td><td>enactor b: before-cleanup pause" in page
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "--state-dir",
            str(lab_quiet.dir),
            "report",
            "nope",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "dnsrace: no scenario 'nope' in namespace dnsrace; run one with 'dnsrace run'"
    )


def test_an_exported_check_trace_replays_on_the_live_lab(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.yaml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "check",
            "--enactors",
            "2",
            "--plans",
            "3",
            "--export",
            str(trace),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    name = apply_and_wait(kubectl, trace)
    st = status_of(crd, name)
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    # I1's shortest trace, replayed step for step: the regional endpoint ends empty
    assert verdict["finalRecord"]["answer"] == "NXDOMAIN"
    assert verdict["emptyRecordObserved"] is True
    assert verdict["activePlanDeletions"] == 1
    kubectl("delete", "scenario", name, "-n", NS)


def test_the_first_fix_lag_counterexample_replays_live(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi, tmp_path: Path
) -> None:
    """`dnsrace check --protocol guarded-v1` finds a, whose plan view has not been delivered
    g2, "repairing" the regional endpoint back to g1. Replayed request for request, with a's
    view held at {g1} by the replay, the live guarded-v1 enactor does the same."""
    trace = tmp_path / "lag.yaml"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnsrace.cli",
            "check",
            "--protocol",
            "guarded-v1",
            "--first",
            "--export",
            str(trace),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1, res.stderr
    assert "view: [1]" in trace.read_text()
    name = apply_and_wait(kubectl, trace)
    st = status_of(crd, name)
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    # the record store's history has the regional endpoint going back a generation (the
    # oracle reads every revision; a probe samples and may miss a moment's regression), and
    # the enactor said why
    assert verdict["oracle"]["violations"]["I2"] >= 1
    assert verdict["staleOverwrites"] >= 1
    assert verdict["finalRecord"]["answer"] == "NOERROR"
    kubectl("delete", "scenario", name, "-n", NS)


def test_a_fault_that_never_fired_fails_the_run(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi
) -> None:
    """Each fault's firings are counted by its enactor for this run. a's stall is set but a
    never moves: the verdict says it never fired and the run fails, though nothing else went
    wrong; c's crash may never fire (mayNeverFire) and does not fail it; b's late clean-up
    fired and is on the timeline."""
    doc = {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "unfired-fault"},
        "spec": {
            "protocol": "guarded",
            "enactors": [
                {"name": "a", "faults": [{"at": "after-pick", "delaySeconds": 0.2}]},
                {
                    "name": "c",
                    "faults": [{"at": "before-cleanup", "crash": True, "mayNeverFire": True}],
                },
            ],
            "steps": [
                {
                    "enactor": "b",
                    "set": {
                        "paused": False,
                        "faults": [{"at": "before-cleanup", "delaySeconds": 0.1}],
                    },
                },
                {"planner": {"produceUntil": 1}},
                {"waitFor": {"enactor": "b", "applied": 1}},
            ],
            "expect": {"oracle": {"I1": {"max": 0}}},
        },
    }
    kubectl("delete", "scenario", "unfired-fault", "-n", NS, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(doc))
    kubectl(
        "wait", "-n", NS, "--for=condition=Completed", "scenario/unfired-fault", "--timeout=120s"
    )
    st = status_of(crd, "unfired-fault")
    verdict = st["verdict"]
    assert verdict["failures"] == ["fault a after-pick delay 0.2s: never fired"]
    assert condition(st, "VerdictPassed")["status"] == "False"
    assert "faults fired 1/3 (fault a after-pick delay 0.2s: never fired)" in verdict["summary"]
    assert verdict["summary"].endswith("NOT AS EXPECTED")
    fired = {(f["enactor"], f["fault"]): f["fired"] for f in verdict["faults"]}
    assert fired[("b", "before-cleanup delay 0.1s")] >= 1
    assert fired[("a", "after-pick delay 0.2s")] == 0
    assert fired[("c", "before-cleanup crash")] == 0
    timeline = [(e["kind"], e["message"]) for e in st["timeline"]]
    assert ("FaultNeverFired", "fault a after-pick delay 0.2s: never fired") in timeline
    assert any(
        k == "FaultFired" and "enactor b: before-cleanup delay 0.1s" in m for k, m in timeline
    )
    kubectl("delete", "scenario", "unfired-fault", "-n", NS)


def test_dnsrace_run_checks_before_it_applies(local_lab: local.LabState, tmp_path: Path) -> None:
    """`dnsrace run --dry-run` (and `dnsrace run` before it applies anything): the API server's
    strict dry run, then the controller's own checks; one line per problem, exit 1, nothing
    applied. A scenario that would run says so and exits 0."""

    def dry(doc: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        path = tmp_path / f"{doc['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(doc))
        state = ["--state-dir", str(local_lab.dir)]
        return subprocess.run(
            [sys.executable, "-m", "dnsrace.cli", *state, "run", "--dry-run", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    doc = yaml.safe_load((SCENARIOS / "race-unguarded.yaml").read_text())
    doc["metadata"]["name"] = "dry-misspelt"
    doc["spec"]["steps"][0]["set"]["faults"] = [{"at": "after-pick", "delaySecond": 2}]
    doc["spec"]["steps"][1] = {"waitFor": {"enactor": "a", "seen": 1, "applied": 1}}
    misspelt = dry(doc)
    assert misspelt.returncode == 1
    lines = misspelt.stderr.splitlines()
    assert any("spec.steps[0].set.faults[0].delaySecond" in line for line in lines), lines
    assert not misspelt.stdout
    good = yaml.safe_load((SCENARIOS / "race-unguarded.yaml").read_text())
    good["metadata"]["name"] = "dry-wait"
    good["spec"]["steps"][2]["waitFor"]["pausedAt"] = "after-pick"
    waits = dry(good)
    assert waits.returncode == 1
    assert waits.stderr.splitlines() == [
        f"{tmp_path}/dry-wait.yaml: spec.steps[2].waitFor.pausedAt: enactor a has no pause "
        "fault at 'after-pick' (its pause faults so far: after-pick:*); write AT:ENDPOINT of a "
        "pause fault an earlier step sets, such as after-pick:* or "
        "before-write:dynamodb-fips.us-east-1.amazonaws.com"
    ]
    good["metadata"]["name"] = "dry-good"
    good["spec"]["steps"][2]["waitFor"]["pausedAt"] = "after-pick:*"
    fine = dry(good)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout == f"{tmp_path}/dry-good.yaml: scenario dry-good would run as written\n"
    api = config.new_client_from_config(config_file=str(local_lab.kubeconfig))
    listed: Any = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", NS, "scenarios"
    )
    assert not [o for o in listed["items"] if o["metadata"]["name"].startswith("dry-")]
