"""The Enactor operator (kopf): one replica per zone (a, b, c), all active at once.

Each process runs standalone with its own identity (`DNSRACE_ENACTOR_ID`) and its own kopf
storage prefix. It follows its `Enactor` object (protocol, keep, faults, paused) and runs the
protocol of `dnsrace.core.protocol` move by move: decide from its watch-fed plan view, send one
store request (`RecordStore.execute` on etcd, or a DNSPlan delete), absorb the answer; the very
moves the checker interleaves. Injected faults apply between moves. Single-stepped (a replay's
`stepGate`), it holds its plan view and delivers watch events only up to `viewGate`, so its view
lags exactly as the replayed trace says. Notable steps become
Kubernetes Events on the plans, JSON log lines and Prometheus metrics; its status shows the
phase and the generation it carries and last applied."""

from __future__ import annotations

import os
import threading
from typing import Any

import kopf
import prometheus_client as prom
from kubernetes import client

from dnsrace.core import schema
from dnsrace.core.faults import Fault, due, parse_faults
from dnsrace.core.names import GROUP, VERSION, Plural, walk_start
from dnsrace.core.protocol import Enactor, EnactorState, Event, Pc, Variant, move
from dnsrace.core.resources.enactor import EnactorSpec
from dnsrace.core.times import now_iso
from dnsrace.operators import telemetry
from dnsrace.stores import kube
from dnsrace.stores.plans import CachedPlanStore, KubePlanStore
from dnsrace.stores.planwatch import KubePlanSource, PlanWatch
from dnsrace.stores.records import EtcdRecordStore, executor

ENACTOR_ID_ENV = "DNSRACE_ENACTOR_ID"
RECORD_STORE_ENV = "DNSRACE_RECORD_STORE"
CRASH_EXIT_CODE = 70
# a held enactor's longest wait between looks at its spec (a change wakes it at once): only a
# missed wake-up costs this much
SPEC_WAIT_SECONDS = 0.5

STEPS = prom.Counter("dnsrace_enactor_events_total", "Variant events", ["enactor", "kind"])
STALE = prom.Counter(
    "dnsrace_enactor_stale_overwrites_total",
    "Writes that moved an endpoint to an older generation",
    ["enactor"],
)
ACTIVE_DELETED = prom.Counter(
    "dnsrace_enactor_active_plan_deletions_total",
    "Plans deleted while a record used them",
    ["enactor"],
)
APPLIED = prom.Gauge(
    "dnsrace_enactor_last_applied_generation", "Generation last applied", ["enactor"]
)

# Events on DNSPlans for these kinds (normal operation posts only `finished`).
_EVENT_REASONS = {
    "finished": ("Normal", "Applied"),
    "plan-deleted": ("Normal", "PlanDeleted"),
    "record-cleared": ("Warning", "RecordCleared"),
    "stuck": ("Warning", "EndpointStuck"),
    "repaired": ("Normal", "EndpointRepaired"),
    "cas-conflict": ("Normal", "CASConflict"),
    "skipped-newer": ("Normal", "SkippedNewer"),
    "plan-retired": ("Normal", "PlanRetired"),
    "retire-refused": ("Normal", "RetireRefused"),
    "abandoned": ("Normal", "PlanAbandoned"),
}


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ident = os.environ[ENACTOR_ID_ENV]
    telemetry.configure_operator(settings, f"enactor-{ident}")
    # its own Enactor only, filtered by the API server: the others' status reports (one per
    # step each) are not sent to it to be dropped by `_mine`
    settings.watching.field_selectors[GROUP, Plural.ENACTORS] = f"metadata.name={ident}"
    api = kube.api_client()
    memo.ident = ident
    memo.api = api
    memo.spec_changed = threading.Event()  # set on every watch event of its own Enactor
    memo.plans = CachedPlanStore(KubePlanStore(api, kube.namespace()))
    memo.records = EtcdRecordStore(os.environ[RECORD_STORE_ENV])
    # the view is listed before any handler runs, then follows one ordered watch stream
    memo.plan_watch = PlanWatch(KubePlanSource(api, kube.namespace()), memo.plans)
    memo.plan_watch.start()
    port = telemetry.start_metrics()
    telemetry.emit("enactor-started", enactor=ident, metrics_port=port)


@kopf.on.cleanup()
def stop_plan_watch(memo: kopf.Memo, **_: Any) -> None:
    memo.plan_watch.stop()
    memo.spec_changed.set()


def _mine(name: str, memo: kopf.Memo, **_: Any) -> bool:
    return bool(name == memo.ident)


@kopf.on.event(GROUP, VERSION, Plural.ENACTORS, when=_mine)
def spec_may_have_changed(memo: kopf.Memo, **_: Any) -> None:
    """Wake a loop waiting for its spec (a grant, an unpause, a released fault): kopf has put
    the object's new body into the daemon's live `spec` before it calls event handlers."""
    memo.spec_changed.set()


@kopf.daemon(
    GROUP,
    VERSION,
    Plural.ENACTORS,
    when=_mine,
    cancellation_timeout=5,
    backoff=telemetry.DAEMON_BACKOFF,
)
def enactor_loop(
    stopped: kopf.DaemonStopped,
    spec: kopf.Spec,
    status: kopf.Status,
    name: str,
    namespace: str | None,
    uid: str | None,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    ProtocolLoop(memo, spec, status, name, namespace or kube.namespace(), uid or "").run(stopped)


class ProtocolLoop:
    """The live loop: wait for work, apply due faults, take one protocol step, report."""

    def __init__(
        self,
        memo: kopf.Memo,
        spec: kopf.Spec,
        status: kopf.Status,
        name: str,
        namespace: str,
        uid: str = "",
    ) -> None:
        self.memo, self.spec, self.name, self.ns, self.uid = memo, spec, name, namespace, uid
        self.api: client.ApiClient = memo.api
        self.plans: CachedPlanStore = memo.plans
        self.records: EtcdRecordStore = memo.records
        self.execute = executor(self.records, self.plans)
        self.fired_crashes = set(status.get("firedCrashes", []) or [])
        # the faults' firings in the run this spec belongs to (spec.run), by fault; a process
        # restarted after a crash fault takes them up again from its status
        self.faults_run = str(status.get("faultsRun", "") or "")
        self.fired: dict[str, dict[str, Any]] = {
            str(f["fault"]): dict(f) for f in status.get("faultsFired", []) or []
        }
        self.state = EnactorState(last_applied=int(status.get("lastAppliedGeneration", 0) or 0))
        self.conflicts = int(status.get("casConflicts", 0) or 0)
        self.steps_taken = int(status.get("stepsTaken", 0) or 0)
        self.reported: dict[str, Any] = {}

    # settings from the live spec --------------------------------------------------------------
    def settings(self) -> EnactorSpec:
        """The live spec, typed and with its defaults (read once per move: one snapshot)."""
        return schema.parse(EnactorSpec, self.spec)

    def enactor(self, settings: EnactorSpec) -> Enactor:
        start = settings.walkStart
        return Enactor(
            self.name,
            Variant(settings.protocol),
            settings.keep,
            walk_start(self.name) if start is None else start,
        )

    def forget_cleared_crashes(self) -> None:
        """A crash fault fires once while it stays set (the restarted enactor finds it in its
        status and walks on). Once the spec no longer names it, as after a scenario's reset,
        it is forgotten, so the next scenario that sets it gets its crash."""
        self.fired_crashes &= {f.key for f in self.faults() if f.crash}

    def faults(self) -> list[Fault]:
        try:
            return parse_faults(self.spec.get("faults"))
        except ValueError as exc:
            self.report(message=f"faults ignored: {exc}")
            return []

    # loop ----------------------------------------------------------------------------------
    def run(self, stopped: kopf.DaemonStopped) -> None:
        just_picked = False
        self.note_restart()
        self.report()
        while not stopped:
            self.memo.spec_changed.clear()  # before reading the spec: a change after wakes
            self.forget_cleared_crashes()
            settings = self.settings()
            self.follow_run(settings.run or "")
            gate = settings.stepGate
            if not self.may_step(settings, stopped):
                continue
            for fault in due(self.faults(), self.state, just_picked):
                self.apply(fault, stopped)
                if stopped:
                    return
            before = self.state
            self.state, events, _ = move(
                self.enactor(settings), before, self.plans.list(), self.execute
            )
            just_picked = any(e.kind == "picked" for e in events)
            for event in events:
                self.publish(event)
            if events or self.state != before:
                self.steps_taken += 1
            if self.report_step(before, gate is not None, just_picked):
                self.plans.changed.wait(settings.pollSeconds)

    def may_step(self, settings: EnactorSpec, stopped: kopf.DaemonStopped) -> bool:
        """Whether the next move may be taken now; if not, report why and wait a little. A
        step gate (scenario replays) holds the plan view and grants moves one by one, a view
        gate waits for the watch events the move must see, and `paused` holds an idle enactor."""
        gate = settings.stepGate
        if gate is None:
            self.plans.release()
        else:
            self.plans.hold()
            if self.steps_taken >= gate:
                self.report(phase=self.state.phase, **self.view())
                self.wait_for_spec(stopped)
                return False
            view_gate = settings.viewGate
            if view_gate is not None and not self.plans.deliver_until(set(view_gate)):
                stopped.wait(0.02)
                return False
        if self.state.pc is Pc.IDLE:
            if settings.paused:
                self.report(phase="Paused", **self.view())
                self.wait_for_spec(stopped)
                return False
            self.plans.changed.clear()
        return True

    def wait_for_spec(self, stopped: kopf.DaemonStopped) -> None:
        """Until the Enactor object changes (its watch event), a stop, or SPEC_WAIT_SECONDS: a
        held enactor wakes for its grant or release at once instead of polling its spec."""
        if not stopped:
            self.memo.spec_changed.wait(SPEC_WAIT_SECONDS)

    def report_step(self, before: EnactorState, gated: bool, just_picked: bool) -> bool:
        """Report the step just taken, and say whether the enactor now idles until its plan
        view changes. A gated enactor reports every step with its view (a replay waits on
        stepsTaken); a free one reports when it goes idle, changes phase or picks a plan."""
        idle = not gated and self.state.pc is Pc.IDLE and self.state == before
        if gated or idle:
            self.report(phase="Idle" if idle else self.state.phase, **self.view())
        elif before.phase != self.state.phase or just_picked:
            self.report(phase=self.state.phase)
        return idle

    def view(self) -> dict[str, Any]:
        """The plan view as the status shows it: what a replay or a reader of the race needs."""
        return {
            "newestSeen": self.newest_seen(),
            "cachedGenerations": self.cached(),
            "viewHeld": self.plans.held,
        }

    def cached(self) -> list[int]:
        return sorted(p.generation for p in self.plans.list())

    def newest_seen(self) -> int:
        """The newest generation in this enactor's plan cache (what its next pick would see)."""
        return max((p.generation for p in self.plans.list()), default=0)

    def follow_run(self, run: str) -> None:
        """A new scenario run (spec.run changed, at its reset): its fault tallies start empty."""
        if run != self.faults_run:
            self.faults_run, self.fired = run, {}
            self.report(faultsRun=run, faultsFired=[])

    def note_restart(self) -> None:
        """A process that starts after its crash fault fired says so (an Event on its Enactor,
        counted in the fault's tally): the verdict and timeline show crash and restart."""
        for tally in self.fired.values():
            if tally.get("crashed", 0) > tally.get("restarted", 0):
                tally["restarted"] = tally["crashed"]
                self.event(
                    "Normal", "Restarted", f"enactor {self.name} restarted after {tally['fault']}"
                )
                self.report(faultsFired=self.tallies())

    def tallies(self) -> list[dict[str, Any]]:
        return [dict(t) for _, t in sorted(self.fired.items())]

    def count(self, fault: Fault) -> dict[str, Any]:
        """Count one firing of `fault` (saved in status before it acts, so a crash keeps it);
        the fault's tally."""
        what = fault.describe()
        now = now_iso()
        plan = self.state.plan
        where = f"g{plan.generation}" if plan else "no plan"
        if plan is not None and fault.at in ("before-write", "write"):
            where += f" {self.state.endpoint}"
        tally = self.fired.setdefault(what, {"fault": what, "count": 0, "first": now})
        tally.update(count=tally["count"] + 1, last=now, where=where)
        if fault.crash:
            tally["crashed"] = tally.get("crashed", 0) + 1
        self.report(faultsRun=self.faults_run, faultsFired=self.tallies())
        return tally

    def event(self, type_: str, reason: str, message: str) -> None:
        """An Event on this Enactor, posted before the next move."""
        telemetry.post_event(
            self.api,
            "Enactor",
            self.ns,
            self.name,
            self.uid,
            reason,
            message,
            f"enactor-{self.name}",
            type_,
        )

    def apply(self, fault: Fault, stopped: kopf.DaemonStopped) -> None:
        where = fault.key
        if fault.crash and where in self.fired_crashes:
            return  # a crash fires once while it stays set: the restarted enactor walks on
        tally = self.count(fault)
        if fault.crash or fault.pause or tally["count"] == 1:
            # every crash and pause, a delay's first firing (its tally counts the rest)
            self.event(
                "Warning" if fault.crash else "Normal",
                "FaultFired",
                f"enactor {self.name}: {fault.describe()} ({tally['where']})",
            )
        if fault.crash:
            self.fired_crashes.add(where)
            self.report(message=f"crash fault at {where}")
            telemetry.emit("crash-fault", enactor=self.name, at=where)
            os._exit(CRASH_EXIT_CODE)
        if fault.at == "write":
            # the incident's unusually slow, retried updates: between the read and the write
            for attempt in range(1, max(fault.retries, 1) + 1):
                telemetry.emit(
                    "slow-write",
                    enactor=self.name,
                    endpoint=self.state.seen.name if self.state.seen else "",
                    attempt=attempt,
                    seconds=fault.delay_seconds,
                )
                stopped.wait(fault.delay_seconds)
        elif fault.delay_seconds:
            telemetry.emit("fault-delay", enactor=self.name, at=where, seconds=fault.delay_seconds)
            stopped.wait(fault.delay_seconds)
        if fault.pause:
            self.report(pausedAt=where)
            telemetry.emit("fault-pause", enactor=self.name, at=where)
            while True:
                self.memo.spec_changed.clear()
                if stopped or not any(f.pause and f.key == where for f in self.faults()):
                    break
                self.wait_for_spec(stopped)
            self.report(pausedAt="")
            telemetry.emit("fault-released", enactor=self.name, at=where)

    # reporting -------------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        STEPS.labels(self.name, event.kind).inc()
        if event.stale_overwrite:
            STALE.labels(self.name).inc()
        if event.active_plan_deleted:
            ACTIVE_DELETED.labels(self.name).inc()
        if event.kind == "cas-conflict":
            self.conflicts += 1
        telemetry.emit(
            "protocol",
            enactor=self.name,
            kind=event.kind,
            endpoint=event.endpoint,
            generation=event.generation,
            previous=event.previous,
            previous_enactor=event.previous_enactor,
            plan=event.plan,
            active_on=list(event.active_on),
            stale=event.stale_overwrite,
            text=event.describe(),
        )
        reason = _EVENT_REASONS.get(event.kind)
        if event.stale_overwrite:
            reason = ("Warning", "StaleOverwrite")
        elif event.active_plan_deleted:
            reason = ("Warning", "ActivePlanDeleted")
        if reason and event.plan:
            ref: Any = {
                "apiVersion": "dnsrace.io/v1alpha1",
                "kind": "DNSPlan",
                "metadata": {"name": event.plan, "namespace": self.ns},
            }
            kopf.event(ref, type=reason[0], reason=reason[1], message=event.describe())
        if event.kind == "finished":
            APPLIED.labels(self.name).set(event.generation)
            self.mark_applied(event.plan)

    def mark_applied(self, plan: str) -> None:
        """Append this enactor to the plan's status.appliedBy (CAS: resourceVersion)."""

        def mutate(status: dict[str, Any]) -> bool:
            by = [x for x in str(status.get("appliedBy", "")).split(",") if x]
            if self.name in by:
                return False
            status["appliedBy"] = ",".join([*by, self.name])
            status["lastAppliedTime"] = now_iso()
            status["conditions"] = [
                {
                    "type": "Applied",
                    "status": "True",
                    "reason": "AppliedToEveryEndpoint",
                    "message": f"applied by {status['appliedBy']}",
                    "lastTransitionTime": now_iso(),
                }
            ]
            return True

        kube.update_status_cas(self.api, "dnsplans", self.ns, plan, mutate)

    def report(self, **fields: Any) -> None:
        status: dict[str, Any] = {
            "lastAppliedGeneration": self.state.last_applied,
            "carryingGeneration": self.state.plan.generation if self.state.plan else 0,
            "casConflicts": self.conflicts,
            "stepsTaken": self.steps_taken,
            "firedCrashes": sorted(self.fired_crashes),
        }
        status.update(fields)
        changed = {k: v for k, v in status.items() if self.reported.get(k) != v}
        if changed:
            kube.patch_status(self.api, "enactors", self.ns, self.name, changed)
            self.reported.update(changed)


def main() -> None:
    threading.current_thread().name = f"enactor-{os.environ.get(ENACTOR_ID_ENV, '?')}"
    telemetry.run_operator(f"enactor-{os.environ.get(ENACTOR_ID_ENV, '?')}")


if __name__ == "__main__":
    main()
