"""The Scenario controller (kopf, one instance): runs one Scenario at a time on the lab.

For each Scenario a daemon: waits (condition Waiting) while another one runs; then Running:
set-up, the steps of `dnsrace.scenarios.engine`, DNS probes all along, a bounded timeline (in
status and as Events on the Scenario), and finally the verdict, checked against spec.expect.
Progress (step index, probe tallies, timeline) lives in the Scenario's status, so a restarted
controller resumes the run where it stopped and reaches the same verdict. A scenario that
cannot run as written fails with a condition that says why; the controller never crashes on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core import schema
from dnsrace.core.names import GROUP, VERSION, Plural
from dnsrace.core.resources.scenario import ScenarioSpec, ScenarioSpecAftermath, ScenarioSpecProbes
from dnsrace.core.times import iso, iso_in, now_iso, timestamp_of
from dnsrace.core.vocabulary import Condition, Phase, Reason, Result
from dnsrace.operators import telemetry
from dnsrace.scenarios import configmaps, history, wording
from dnsrace.scenarios.control import LabControl, LabTimeout, Stopped
from dnsrace.scenarios.dependents import (
    ServiceMonitor,
    ServicesClient,
    ServicesUnavailable,
    locations,
    read_samples,
    services_configmap,
)
from dnsrace.scenarios.engine import Run, ScenarioInvalid, StepEngine, prepare
from dnsrace.scenarios.oracle import PlanPoll
from dnsrace.scenarios.probe import resolve
from dnsrace.scenarios.sampling import PeriodicSampler
from dnsrace.scenarios.verdict import compute_verdict
from dnsrace.stores import kube
from dnsrace.stores.etcd import EtcdError
from dnsrace.stores.recordview import RecordView
from dnsrace.stores.transient import describe, transient

T = TypeVar("T")
DNS_ENV = "DNSRACE_DNS"
TIMELINE_LIMIT = 200
# the enactors' Events that go into a run's timeline when it ends: each fault firing (every
# crash and pause, a delay's first), a restart after a crash, a CAS the store refused
INJECTION_EVENTS = ("FaultFired", "Restarted", "CASConflict", "RetireRefused")
PLURAL = Plural.SCENARIOS


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    telemetry.configure_operator(settings, "scenario-controller")
    memo.api = kube.api_client()
    memo.lock = threading.Lock()
    memo.dns = os.environ[DNS_ENV]
    memo.record_store = os.environ["DNSRACE_RECORD_STORE"]
    telemetry.start_metrics()


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=10, backoff=telemetry.DAEMON_BACKOFF)
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
    ns = namespace or kube.namespace()
    runner = ScenarioRun(memo, ns, name, dict(spec), dict(status), int(meta["generation"]), body)
    try:
        if not Phase(status.get("phase") or Phase.WAITING).finished:
            runner.run(stopped)
        elif not status.get("labRestored") and runner.take_the_lab():
            try:
                runner.end(stopped)  # a restart during the aftermath window, or before the restore
            finally:
                memo.lock.release()
    finally:
        runner.control.close()


def deleted(stopped: kopf.DaemonStopped) -> bool:
    """Stopped because the Scenario was deleted (not because the controller exits)."""
    return bool(stopped.reason and kopf.DaemonStoppingReason.RESOURCE_DELETED in stopped.reason)


class StepFailed(RuntimeError):
    """A step (or the run's end) could not complete; `reason` is the Failed condition's."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ScenarioRun:
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
        # names this run to the enactors, whose fault tallies count for it (a rerun is a new
        # object: a new uid)
        self.uid = str(body.get("metadata", {}).get("uid", ""))
        self.run_id = f"{name}/{self.uid}"
        self.crd = client.CustomObjectsApi(self.api)
        self.control = LabControl(self.api, memo.record_store, ns)
        self.lock = threading.Lock()
        self.timeline_unsaved = False  # notes taken since the timeline was last written

    @functools.cached_property
    def settings(self) -> ScenarioSpec:
        """The spec, typed and with its defaults (the API server admitted it; a spec it could
        not type is refused by `prepare` as InvalidSpec before this is read)."""
        return schema.parse(ScenarioSpec, self.spec)

    # status ------------------------------------------------------------------------------------
    def save(self, fields: Mapping[str, Any], patience: float | None = None) -> None:
        """Merge `fields` into the status, with the timeline if notes wait to be written; a
        passing failure of the API server is retried for up to `patience` seconds (SAVE_SECONDS
        by default: a restarting control plane loses no status), then raised."""
        with self.lock:
            self.status.update(fields)
            if self.timeline_unsaved:
                fields = {**fields, "timeline": self.status["timeline"]}
            retrying(
                lambda: self._patch_status(fields),
                SAVE_SECONDS if patience is None else patience,
                f"status of scenario {self.name}",
            )
            if "timeline" in fields:
                self.timeline_unsaved = False

    def _patch_status(self, fields: Mapping[str, Any]) -> None:
        try:
            self.crd.patch_namespaced_custom_object_status(
                kube.GROUP,
                kube.VERSION,
                self.ns,
                PLURAL,
                self.name,
                {"status": dict(fields)},
                field_validation=kube.STRICT,
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
        """A timeline entry and an Event. The entry is written with the next status write (the
        step's, or the probes' within FLUSH_SECONDS while they run): a run writes its status
        once per step instead of once per note; every exit path ends in a condition's write."""
        with self.lock:
            timeline = list(self.status.get("timeline", []))
            timeline.append({"time": now_iso(), "kind": kind, "message": message[:500]})
            self.status["timeline"] = timeline[-TIMELINE_LIMIT:]
            self.timeline_unsaved = True
        telemetry.emit("scenario", scenario=self.name, kind=kind, message=message)
        # the timeline entry above is the record; the Event is for kubectl describe
        telemetry.post_event(
            self.api, "Scenario", self.ns, self.name, self.uid, kind, message, "scenario-controller"
        )

    # the run -----------------------------------------------------------------------------------
    def run(self, stopped: kopf.DaemonStopped) -> None:
        self.control.stop = lambda: bool(stopped)
        try:
            run = prepare(self.spec)
        except ScenarioInvalid as exc:
            self.fail(Reason.INVALID_SPEC, str(exc))
            self.save({"labRestored": True})  # nothing was changed on the lab
            return
        while not stopped and not self._acquire():
            stopped.wait(1)
        if stopped:
            return
        try:
            try:
                self._run(run, stopped)
            except Stopped:
                pass  # deleted, or the controller exits: below
            except StepFailed as exc:
                # a step that could not complete says nothing about the race: no verdict
                self.fail(exc.reason, str(exc))
            except (
                LabTimeout,
                ApiException,
                EtcdError,
                OSError,
                ValueError,
                ServicesUnavailable,
            ) as exc:
                self.fail(Reason.RUN_ERROR, describe(exc))
            if stopped and not deleted(stopped):
                return  # the controller exits: the next one resumes the run where it stopped
            if stopped:
                self.note("Deleted", "scenario deleted while running: stopped, lab restored")
            self.end(stopped)
        finally:
            self.memo.lock.release()

    def end(self, stopped: kopf.DaemonStopped) -> None:
        """However the run ended, leave the lab converging: restore its standing settings, at
        once or after the aftermath window the spec asks for (spec.aftermath.keepSeconds)."""
        self.control.stop = lambda: bool(stopped)
        keep = (self.settings.aftermath or ScenarioSpecAftermath()).keepSeconds
        if keep > 0 and not deleted(stopped):
            until = self.status.get("aftermathUntil") or iso_in(keep)
            self.condition(
                Condition.LAB_RESTORED,
                "False",
                Reason.AFTERMATH_KEPT,
                f"the lab stays as the run left it until {until} "
                f"(spec.aftermath.keepSeconds {keep:g}); then its standing settings return",
                aftermathUntil=until,
            )
            stopped.wait(max(0.0, timestamp_of(until) - time.time()))
            if stopped and not deleted(stopped):
                return  # the controller exits: the next one waits out the rest and restores
        retrying(self.control.restore, SAVE_SECONDS, "the lab's standing settings")
        self.condition(
            Condition.LAB_RESTORED,
            "True",
            Reason.RESTORED,
            "planner at its standing cadence; enactors unpaused, no fault, no step or view gate",
            labRestored=True,
        )

    def take_the_lab(self) -> bool:
        """For a finished run still to restore the lab: only while no other scenario runs (a
        restarted controller must not undo a run in progress). Takes the process lock."""
        if any(st.get("phase") == Phase.RUNNING for st in self._others().values()):
            return False
        return bool(self.memo.lock.acquire(blocking=False))

    def _others(self) -> dict[str, dict[str, Any]]:
        """The other Scenarios' statuses, by name."""
        listed: Any = self.crd.list_namespaced_custom_object(
            kube.GROUP, kube.VERSION, self.ns, PLURAL
        )
        return {
            o["metadata"]["name"]: dict(o.get("status") or {})
            for o in listed["items"]
            if o["metadata"]["name"] != self.name
        }

    def _acquire(self) -> bool:
        """One scenario at a time: this process's lock, and no other Scenario Running."""
        running = [
            name
            for name, st in self._others().items()
            if st.get("phase") == Phase.RUNNING
            # a finished run whose aftermath is still kept holds the lab too
            or (
                st.get("phase") in (Phase.COMPLETED, Phase.FAILED)
                and st.get("aftermathUntil")
                and not st.get("labRestored")
            )
        ]
        mine_running = self.status.get("phase") == Phase.RUNNING
        acquired = False if running and not mine_running else self.memo.lock.acquire(blocking=False)
        if not acquired:
            who = running[0] if running else "another scenario"
            if self.status.get("phase") != Phase.WAITING:
                self.save({"phase": Phase.WAITING})
                self.condition(
                    Condition.WAITING,
                    "True",
                    Reason.ANOTHER_SCENARIO_RUNNING,
                    f"waiting: scenario {who} is running (one at a time)",
                )
            return False
        return True

    def _run(self, run: Run, stopped: kopf.DaemonStopped) -> None:
        """Start (or resume) the run, set the lab up, take the steps with the probes on, and
        conclude with the verdict; a stop (deletion, controller exit) leaves it where it is."""
        deadline = self._start_or_resume(run)
        dependents = Dependents(self)
        engine = StepEngine(
            self.control,
            run,
            self.status,
            self.save,
            self.note,
            deadline,
            dependents.client,
            dependents.watch,
            self.run_id,
        )
        if self.status.get("servicesStarted"):
            dependents.watch()
        if self.status.get("baseGeneration") is None:
            self._set_up(engine, deadline)
        # probes start on the reset lab (or resume their saved tallies after a restart)
        probe = ScenarioProbe(self, run).start()
        try:
            self._take_steps(engine, run, deadline, stopped)
        finally:
            probe.stop()
            dependents.stop(idle=not stopped)
        if stopped:
            return
        self._conclude(run, dependents.watched)

    def _start_or_resume(self, run: Run) -> float:
        """Mark the run Running (or note that it resumes); its deadline, which counts from the
        run's start across controller restarts (a time.monotonic instant)."""
        resumed = self.status.get("phase") == Phase.RUNNING
        timeout = self.settings.durationSeconds
        started = timestamp_of(self.status["startTime"]) if resumed else time.time()
        if not resumed:
            for cm in (series_configmap(self.name), services_configmap(self.name)):
                configmaps.delete(self.api, self.ns, cm)  # a rerun starts with no old samples
            self.save({"phase": Phase.RUNNING, "startTime": now_iso(), "timeline": []})
            self.condition(Condition.WAITING, "False", Reason.STARTED, "running")
            self.condition(Condition.RUNNING, "True", Reason.STARTED, f"{len(run.steps)} steps")
        else:
            self.note(
                "Resumed",
                f"controller restarted; resuming at step {self.status.get('stepIndex', 0)}",
            )
        return time.monotonic() + timeout - (time.time() - started)

    def _set_up(self, engine: StepEngine, deadline: float) -> None:
        """Reset the lab, set the enactors' starting faults and the planner's cadence."""
        self.retry_step(engine.setup, deadline, "the set-up (reset)")
        self.retry_step(
            lambda: engine.start_faults(self.spec.get("enactors") or []),
            deadline,
            "the set-up (faults)",
        )
        if self.settings.planner is not None:
            cadence = self.settings.planner.cadenceSeconds
            self.retry_step(
                lambda: self.control.planner(cadenceSeconds=cadence),
                deadline,
                "the set-up (planner cadence)",
            )

    def _take_steps(
        self, engine: StepEngine, run: Run, deadline: float, stopped: kopf.DaemonStopped
    ) -> None:
        """Every step from the saved index on, then the run's end; StepFailed names the step."""
        base = int(self.status["baseGeneration"])
        first = int(self.status.get("stepIndex", 0))
        self.save({"step": wording.progress(run.steps, first, base)})
        for index in range(first, len(run.steps)):
            if stopped:
                return
            what = f"spec.steps[{index}] {json.dumps(run.steps[index], sort_keys=True)}"
            if time.monotonic() > deadline:
                duration = self.settings.durationSeconds
                raise StepFailed(
                    Reason.DURATION_EXCEEDED, f"durationSeconds {duration:g} exceeded before {what}"
                )
            try:
                self.retry_step(functools.partial(engine.execute, index), deadline, what)
            except LabTimeout as exc:
                raise StepFailed(Reason.STEP_TIMED_OUT, f"{what}: {exc}") from exc
            if "grant" not in run.steps[index] or index + 1 == len(run.steps):
                # a grant's own first write (its pendingGrant, with stepIndex at it) already
                # makes it resume as a wait for the step it granted: the next write moves on
                self.save(
                    {"stepIndex": index + 1, "step": wording.progress(run.steps, index + 1, base)}
                )
        if stopped:
            return
        try:
            self.retry_step(engine.finish, deadline, "the run's end")
        except LabTimeout as exc:
            raise StepFailed(
                Reason.STEP_TIMED_OUT, f"the run's end (enactors settling): {exc}"
            ) from exc

    def _conclude(self, run: Run, monitored: bool) -> None:
        """The verdict (record-store history, plans, probes, services) and the final conditions."""
        samples = read_samples(self.api, self.ns, self.name) if monitored else None
        verdict = retrying(
            lambda: compute_verdict(
                self.control, self.memo.dns, self.spec, self.status, run, samples, self.run_id
            ),
            SAVE_SECONDS,
            "the verdict (record store history and plans)",
        )
        self.save({"verdict": verdict})
        self.add_to_timeline(self.injections(verdict["faults"]))
        self.note("Verdict", verdict["summary"])
        passed = verdict["passed"]
        self.conditions(
            (
                (
                    Condition.VERDICT_PASSED,
                    "True" if passed else "False",
                    Reason.EXPECTATIONS_MET if passed else Reason.EXPECTATIONS_NOT_MET,
                    "; ".join(verdict["failures"]) or "every expectation holds",
                ),
                (Condition.RUNNING, "False", Reason.FINISHED, "run finished"),
                (Condition.COMPLETED, "True", Reason.FINISHED, verdict["summary"]),
            ),
            phase=Phase.COMPLETED,
            result=verdict["word"],
            completionTime=now_iso(),
        )

    def injections(self, faults: list[dict[str, Any]]) -> list[dict[str, str]]:
        """The run's faults as they fired, its crashes and restarts and CAS refusals (the
        enactors' Events since the run began), and each fault that never fired."""
        since = timestamp_of(str(self.status["startTime"]))
        entries = [
            {"time": iso(dt.datetime.fromisoformat(e.time)), "kind": e.reason, "message": e.message}
            for e in self.control.events_since(since, set(INJECTION_EVENTS))
        ]
        entries += [
            {
                "time": now_iso(),
                "kind": "FaultNeverFired",
                "message": f"fault {f['enactor']} {f['fault']}: never fired",
            }
            for f in faults
            if not f["fired"]
        ]
        return entries

    def add_to_timeline(self, entries: list[dict[str, str]]) -> None:
        """Entries merged into the timeline in time order (written with the next status
        write); the newest TIMELINE_LIMIT are kept."""
        if not entries:
            return
        with self.lock:
            merged = [*self.status.get("timeline", []), *entries]
            merged.sort(key=lambda e: timestamp_of(e["time"]))  # stable: notes first on a tie
            self.status["timeline"] = merged[-TIMELINE_LIMIT:]
            self.timeline_unsaved = True

    def retry_step(self, step: Callable[[], Any], deadline: float, what: str) -> None:
        """Run `step` (idempotent) until it goes through or the run's deadline passes; a
        passing failure still there at the deadline is a LabTimeout that names it."""
        try:
            retrying(step, deadline - time.monotonic(), what, self.control.stop)
        except Exception as exc:
            if transient(exc):
                raise LabTimeout(f"control plane unavailable: {describe(exc)}") from exc
            raise

    def fail(self, reason: str, message: str) -> None:
        self.conditions(
            (
                (Condition.RUNNING, "False", reason, message),
                (Condition.COMPLETED, "False", reason, message),
                (Condition.FAILED, "True", reason, message),
            ),
            phase=Phase.FAILED,
            result=Result.FAILED,
            completionTime=now_iso(),
        )
        telemetry.emit("scenario-failed", scenario=self.name, reason=reason, message=message)


class Dependents:
    """The cascade's dependent services for one run: their client (None when the lab has
    none), the monitor of their figures once they are started, and stopping both."""

    def __init__(self, run: ScenarioRun) -> None:
        self.run = run
        urls = locations()
        self.client = ServicesClient(urls) if urls else None
        self.monitor: ServiceMonitor | None = None

    @property
    def watched(self) -> bool:
        return self.monitor is not None

    def watch(self) -> None:
        """Start the monitor (once): called when a step starts the services, or on resume."""
        if self.client is not None and self.monitor is None:
            r = self.run
            self.monitor = ServiceMonitor(
                self.client, r.memo.dns, r.api, r.ns, r.name, r.note
            ).start()

    def stop(self, idle: bool) -> None:
        """Stop the monitor; with `idle`, the services too (their state stays readable)."""
        if self.monitor is not None:
            self.monitor.stop()
        if idle and self.client is not None and self.run.status.get("servicesStarted"):
            with contextlib.suppress(ServicesUnavailable):
                self.client.stop()


class ScenarioProbe(PeriodicSampler):
    """DNS probes and a record-store monitor; tallies saved to status every second (so a
    restart keeps them), series samples to a ConfigMap for the report."""

    def __init__(self, runner: ScenarioRun, run: Run) -> None:
        probes = runner.settings.probes or ScenarioSpecProbes()
        super().__init__("scenario-probe", probes.intervalMilliseconds / 1000)
        self.runner, self.run = runner, run
        self.names = tuple(probes.names or run.endpoints)
        saved = runner.status.get("probes") or {}
        self.tally: dict[str, Any] = {
            "samples": int(saved.get("samples", 0)),
            "emptySamples": dict(saved.get("emptySamples", {})),
            "emptySeconds": float(saved.get("emptySeconds", 0.0)),
            "firstEmpty": saved.get("firstEmpty"),
            "lastGenerations": dict(saved.get("lastGenerations", {})),
            "lastAnswers": dict(saved.get("lastAnswers", {})),
            # rounds the DNS server did not answer, or the record store or the API could not be
            # read (a control-plane fault, not the race's empty answer)
            "unanswered": int(saved.get("unanswered", 0)),
            "unreadRounds": int(saved.get("unreadRounds", 0)),
        }
        # the history oracle's evidence: where the record store's history starts, and plans
        etcd = runner.control.records.client
        self.start_saved = bool(saved.get("startRevision"))
        self.tally["startRevision"] = int(saved.get("startRevision") or etcd.revision())
        self.polls = history.PlanPolls(
            etcd.revision, lambda: [p.name for p in runner.control.plans.list()]
        )
        self.polls.kept = [
            PlanPoll(int(b), frozenset(plans), int(a)) for b, plans, a in saved.get("planPolls", [])
        ]
        self.next_plan_poll = 0.0  # time.monotonic(): the first round polls
        self.series: list[list[Any]] = []
        self.log = configmaps.ConfigMapLog(runner.api, runner.ns, series_configmap(runner.name))
        self.last = time.monotonic()
        # the record store as of its last change, from one watch stream (not a read a round)
        self.view = RecordView(runner.control.records)

    def start(self) -> Self:
        if not self.start_saved:
            # saved before any step runs (not at the first flush): a controller restarted
            # within that first second would take a later start and judge part of the history
            self.runner.save({"probes": dict(self.tally)})
            self.start_saved = True
        self.view.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        self.view.stop()

    def sample(self) -> None:
        now = time.monotonic()
        gap = min(now - self.last, 5 * self.interval)
        self.last = now
        seen = self.tally["lastGenerations"]
        try:
            if now >= self.next_plan_poll:
                self.next_plan_poll = now + PLAN_POLL_SECONDS
                self.polls.poll()
            snapshot = self.view.snapshot()
        except Exception as exc:
            if not transient(exc):
                raise
            snapshot = None
        if snapshot is None:
            self.tally["unreadRounds"] += 1  # the stores are restarting: this round is skipped
            return
        for name in self.names:
            answer = resolve(name, self.runner.memo.dns)
            obs = snapshot.observed(name)
            gen = obs.record.generation if obs.record else 0
            writer = obs.record.enactor if obs.record else ""
            self.tally["samples"] += 1
            self.tally["lastAnswers"][name] = answer.rcode
            if not answer.answered:
                self.tally["unanswered"] += 1
            if answer.empty and int(seen.get(name, 0)) > 0:
                self.tally["emptySamples"][name] = self.tally["emptySamples"].get(name, 0) + 1
                if name == self.names[0]:
                    self.tally["emptySeconds"] += gap
                self.tally["firstEmpty"] = self.tally["firstEmpty"] or now_iso()
            if gen:
                seen[name] = gen
            self.series.append(
                [time.time(), name, answer.rcode, len(answer.addresses), gen, writer]
            )

    def write(self) -> None:
        """Save the tallies and append the series (kept for the next flush until appended)."""
        self.tally["planPolls"] = [[p.before, sorted(p.plans), p.after] for p in self.polls.all()]
        self.runner.save({"probes": {k: v for k, v in self.tally.items()}}, patience=0)
        if self.series:
            self.log.append([json.dumps(r) for r in self.series])
            self.series = []


SAVE_SECONDS = 60  # how long a status write or the lab's restore retries a passing failure


def retrying(
    call: Callable[[], T], seconds: float, what: str, stop: Callable[[], bool] = lambda: False
) -> T:
    """`call()`, retried every half second while it fails in passing (noted once), for up to
    `seconds`: then the last failure is raised; Stopped if `stop` says so meanwhile."""
    deadline = time.monotonic() + seconds
    noted = False
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc) or time.monotonic() >= deadline:
                raise
            if stop():
                raise Stopped(f"stopped while retrying {what}") from exc
            if not noted:
                telemetry.emit("retry", what=what, error=describe(exc))
                noted = True
            time.sleep(0.5)


# the plans are listed at the first probe round 100 ms or more after the last list, whatever the
# probe interval (the history oracle's evidence of when a plan was deleted)
PLAN_POLL_SECONDS = 0.1


def series_configmap(name: str) -> str:
    return f"scenario-{name}-series"


def main() -> None:
    telemetry.run_operator("scenario-controller")


if __name__ == "__main__":
    main()
