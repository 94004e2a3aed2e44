"""The Scenario controller (kopf, one instance): runs one Scenario at a time on the lab.

For each Scenario a daemon: waits (condition Waiting) while another one runs; then Running:
set-up, the steps of `dnsrace.scenario_engine`, DNS probes all along, a bounded timeline (in
status and as Events on the Scenario), and finally the verdict, checked against spec.expect.
Progress (step index, probe tallies, timeline) lives in the Scenario's status, so a restarted
controller resumes the run where it stopped and reaches the same verdict. A scenario that
cannot run as written fails with a condition that says why; the controller never crashes on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace import configmaps, history, kube, telemetry
from dnsrace.labcontrol import LabControl, LabTimeout
from dnsrace.oracle import PlanPoll
from dnsrace.probe import resolve
from dnsrace.sampling import PeriodicSampler
from dnsrace.scenario_engine import Engine, Run, ScenarioInvalid, prepare
from dnsrace.services import (
    ServiceMonitor,
    ServicesClient,
    ServicesUnavailable,
    locations,
    read_samples,
    services_configmap,
)
from dnsrace.verdict import compute_verdict

DNS_ENV = "DNSRACE_DNS"
TIMELINE_LIMIT = 200
PLURAL = "scenarios"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    telemetry.configure_operator(settings, "scenario-controller")
    memo.api = kube.api_client()
    memo.lock = threading.Lock()
    memo.dns = os.environ[DNS_ENV]
    memo.record_store = os.environ["DNSRACE_RECORD_STORE"]
    telemetry.start_metrics()


@kopf.daemon("dnsrace.io", "v1alpha1", PLURAL, cancellation_timeout=10)
def scenario_daemon(
    stopped: kopf.DaemonStopped,
    name: str,
    namespace: str | None,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    body: kopf.Body,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    if status.get("phase") in ("Completed", "Failed"):
        return
    ns = namespace or kube.namespace()
    runner = ScenarioRunner(memo, ns, name, dict(spec), dict(status), int(meta["generation"]), body)
    runner.run(stopped)


class StepFailed(RuntimeError):
    """A step (or the run's end) could not complete; `reason` is the Failed condition's."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ScenarioRunner:
    def __init__(
        self,
        memo: kopf.Memo,
        ns: str,
        name: str,
        spec: dict[str, Any],
        status: dict[str, Any],
        generation: int,
        body: kopf.Body,
    ) -> None:
        self.api: client.ApiClient = memo.api
        self.memo, self.ns, self.name, self.spec = memo, ns, name, spec
        self.status = json.loads(json.dumps(status))  # plain, mutable copy
        self.generation, self.body = generation, body
        self.crd = client.CustomObjectsApi(self.api)
        self.control = LabControl(self.api, memo.record_store, ns)
        self.lock = threading.Lock()

    # status ------------------------------------------------------------------------------------
    def save(self, fields: Mapping[str, Any]) -> None:
        with self.lock:
            self.status.update(fields)
            try:
                self.crd.patch_namespaced_custom_object_status(
                    kube.GROUP, kube.VERSION, self.ns, PLURAL, self.name, {"status": dict(fields)}
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise

    def condition(self, type_: str, status: str, reason: str, message: str, **also: Any) -> None:
        """Set one condition (keyed by type; lastTransitionTime moves only when its status does),
        saved in one write together with any other status fields given."""
        self.conditions(((type_, status, reason, message),), **also)

    def conditions(self, updates: tuple[tuple[str, str, str, str], ...], **also: Any) -> None:
        conds = {c["type"]: c for c in self.status.get("conditions", [])}
        for type_, status, reason, message in updates:
            old = conds.get(type_)
            moved = old is None or old["status"] != status
            conds[type_] = {
                "type": type_,
                "status": status,
                "reason": reason,
                "message": message[:1000],
                "observedGeneration": self.generation,
                "lastTransitionTime": now_iso()
                if moved or old is None
                else old["lastTransitionTime"],
            }
        self.save({"conditions": sorted(conds.values(), key=lambda c: c["type"]), **also})

    def note(self, kind: str, message: str) -> None:
        timeline = list(self.status.get("timeline", []))
        timeline.append({"time": now_iso(), "kind": kind, "message": message[:500]})
        self.save({"timeline": timeline[-TIMELINE_LIMIT:]})
        kopf.event(self.body, type="Normal", reason=kind, message=message[:1000])
        telemetry.emit("scenario", scenario=self.name, kind=kind, message=message)

    # the run -----------------------------------------------------------------------------------
    def run(self, stopped: kopf.DaemonStopped) -> None:
        try:
            run = prepare(self.spec)
        except ScenarioInvalid as exc:
            self.fail("InvalidSpec", str(exc))
            return
        while not stopped and not self._acquire():
            stopped.wait(1)
        if stopped:
            return
        try:
            self._run(run, stopped)
        except StepFailed as exc:
            # a step that could not complete says nothing about the race: no verdict
            self.fail(exc.reason, str(exc))
        except (LabTimeout, ApiException, OSError, ValueError, ServicesUnavailable) as exc:
            self.fail("RunError", f"{type(exc).__name__}: {exc}")
        finally:
            self.memo.lock.release()

    def _acquire(self) -> bool:
        """One scenario at a time: this process's lock, and no other Scenario Running."""
        others: Any = self.crd.list_namespaced_custom_object(
            kube.GROUP, kube.VERSION, self.ns, PLURAL
        )
        running = [
            o["metadata"]["name"]
            for o in others["items"]
            if (o.get("status") or {}).get("phase") == "Running"
            and o["metadata"]["name"] != self.name
        ]
        mine_running = self.status.get("phase") == "Running"
        acquired = False if running and not mine_running else self.memo.lock.acquire(blocking=False)
        if not acquired:
            who = running[0] if running else "another scenario"
            if self.status.get("phase") != "Waiting":
                self.save({"phase": "Waiting"})
                self.condition(
                    "Waiting",
                    "True",
                    "AnotherScenarioRunning",
                    f"waiting: scenario {who} is running (one at a time)",
                )
            return False
        return True

    def _run(self, run: Run, stopped: kopf.DaemonStopped) -> None:
        resumed = self.status.get("phase") == "Running"
        timeout = float(self.spec.get("durationSeconds", 120))
        if not resumed:
            for cm in (series_configmap(self.name), services_configmap(self.name)):
                configmaps.delete(self.api, self.ns, cm)  # a rerun starts with no old samples
            self.save({"phase": "Running", "startTime": now_iso(), "timeline": []})
            self.condition("Waiting", "False", "Started", "running")
            self.condition("Running", "True", "Started", f"{len(run.steps)} steps")
        else:
            self.note(
                "Resumed",
                f"controller restarted; resuming at step {self.status.get('stepIndex', 0)}",
            )
        urls = locations()
        services = ServicesClient(urls) if urls else None
        monitor: list[ServiceMonitor] = []

        def start_monitor() -> None:
            if services is not None and not monitor:
                monitor.append(
                    ServiceMonitor(
                        services, self.memo.dns, self.api, self.ns, self.name, self.note
                    ).start()
                )

        engine = Engine(
            self.control, run, self.status, self.save, self.note, timeout, services, start_monitor
        )
        if self.status.get("servicesStarted"):
            start_monitor()
        deadline = time.monotonic() + timeout
        if self.status.get("baseGeneration") is None:
            engine.setup()
            engine.start_faults(self.spec.get("enactors") or [])
            if self.spec.get("planner", {}).get("cadenceSeconds"):
                self.control.planner(cadenceSeconds=self.spec["planner"]["cadenceSeconds"])
        # probes start on the reset lab (or resume their saved tallies after a restart)
        probe = ScenarioProbe(self, run).start()
        try:
            for index in range(int(self.status.get("stepIndex", 0)), len(run.steps)):
                if stopped:
                    return
                what = f"spec.steps[{index}] {json.dumps(run.steps[index], sort_keys=True)}"
                if time.monotonic() > deadline:
                    raise StepFailed(
                        "DurationExceeded", f"durationSeconds {timeout:g} exceeded before {what}"
                    )
                try:
                    engine.execute(index)
                except LabTimeout as exc:
                    raise StepFailed("StepTimedOut", f"{what}: {exc}") from exc
                self.save({"stepIndex": index + 1})
            try:
                engine.finish()
            except LabTimeout as exc:
                raise StepFailed(
                    "StepTimedOut", f"the run's end (enactors settling): {exc}"
                ) from exc
        finally:
            probe.stop()
            for m in monitor:
                m.stop()
            if services is not None and self.status.get("servicesStarted") and not stopped:
                with contextlib.suppress(ServicesUnavailable):
                    services.stop()  # idle again; their state stays readable
        if stopped:
            return
        samples = read_samples(self.api, self.ns, self.name) if monitor else None
        verdict = compute_verdict(self.control, self.memo.dns, self.spec, self.status, run, samples)
        self.save({"verdict": verdict})
        self.note("Verdict", verdict["summary"])
        passed = verdict["passed"]
        self.conditions(
            (
                (
                    "VerdictPassed",
                    "True" if passed else "False",
                    "ExpectationsMet" if passed else "ExpectationsNotMet",
                    "; ".join(verdict["failures"]) or "every expectation holds",
                ),
                ("Running", "False", "Finished", "run finished"),
                ("Completed", "True", "Finished", verdict["summary"]),
            ),
            phase="Completed",
            completionTime=now_iso(),
        )

    def fail(self, reason: str, message: str) -> None:
        self.conditions(
            (
                ("Running", "False", reason, message),
                ("Completed", "False", reason, message),
                ("Failed", "True", reason, message),
            ),
            phase="Failed",
            completionTime=now_iso(),
        )
        telemetry.emit("scenario-failed", scenario=self.name, reason=reason, message=message)


class ScenarioProbe(PeriodicSampler):
    """DNS probes and a record-store monitor; tallies saved to status every second (so a
    restart keeps them), series samples to a ConfigMap for the report."""

    def __init__(self, runner: ScenarioRunner, run: Run) -> None:
        probes = runner.spec.get("probes") or {}
        super().__init__("scenario-probe", float(probes.get("intervalMilliseconds", 20)) / 1000)
        self.runner, self.run = runner, run
        self.names = tuple(probes.get("names") or run.endpoints)
        saved = runner.status.get("probes") or {}
        self.tally: dict[str, Any] = {
            "samples": int(saved.get("samples", 0)),
            "emptySamples": dict(saved.get("emptySamples", {})),
            "emptySeconds": float(saved.get("emptySeconds", 0.0)),
            "firstEmpty": saved.get("firstEmpty"),
            "regressions": list(saved.get("regressions", [])),
            "lastGenerations": dict(saved.get("lastGenerations", {})),
            "lastAnswers": dict(saved.get("lastAnswers", {})),
        }
        # the history oracle's evidence: where the record store's history starts, and plans
        etcd = runner.control.records.client
        self.tally["startRevision"] = int(saved.get("startRevision") or etcd.revision())
        self.polls = history.PlanPolls(
            etcd.revision, lambda: [p.name for p in runner.control.plans.list()]
        )
        self.polls.kept = [
            PlanPoll(int(b), frozenset(plans), int(a)) for b, plans, a in saved.get("planPolls", [])
        ]
        self.samples_taken = 0
        self.series: list[list[Any]] = []
        self.last = time.monotonic()

    def sample(self) -> None:
        now = time.monotonic()
        gap = min(now - self.last, 5 * self.interval)
        self.last = now
        seen = self.tally["lastGenerations"]
        if self.samples_taken % PLAN_POLL_EVERY == 0:
            self.polls.poll()
        self.samples_taken += 1
        observed = self.runner.control.records.read_all(self.names)
        for name in self.names:
            answer = resolve(name, self.runner.memo.dns)
            obs = observed[name]
            gen = obs.record.generation if obs.record else 0
            writer = obs.record.enactor if obs.record else ""
            self.tally["samples"] += 1
            self.tally["lastAnswers"][name] = answer.rcode
            if answer.empty and int(seen.get(name, 0)) > 0:
                self.tally["emptySamples"][name] = self.tally["emptySamples"].get(name, 0) + 1
                if name == self.names[0]:
                    self.tally["emptySeconds"] += gap
                self.tally["firstEmpty"] = self.tally["firstEmpty"] or now_iso()
            if gen and gen < int(seen.get(name, 0)):
                self.tally["regressions"].append(f"{name}: g{seen[name]} -> g{gen} (by {writer})")
            if gen:
                seen[name] = gen
            self.series.append(
                [time.time(), name, answer.rcode, len(answer.addresses), gen, writer]
            )

    def flush(self) -> None:
        self.tally["planPolls"] = [[p.before, sorted(p.plans), p.after] for p in self.polls.all()]
        self.runner.save({"probes": {k: v for k, v in self.tally.items()}})
        if self.series:
            configmaps.append_lines(
                self.runner.api,
                self.runner.ns,
                series_configmap(self.runner.name),
                [json.dumps(r) for r in self.series],
            )
            self.series = []


PLAN_POLL_EVERY = 5  # samples: the plans are listed every 5th probe round (100 ms by default)


def series_configmap(name: str) -> str:
    return f"scenario-{name}-series"


def main() -> None:
    telemetry.run_operator("scenario-controller")


if __name__ == "__main__":
    main()
