"""What a Scenario does, step by step, against the live lab: set-up (quiesce, reset plans and
records, configure protocol and keep), then a choreography (`spec.steps`), an exact replay of an
interleaving (`spec.replay`) or a seeded random schedule (`spec.randomSchedule`, simulated and
then replayed). A cascade scenario also starts the dependent services with `spec.services`,
changes their settings mid-run (an operator's manual throttling) and repairs DNS by hand, as
the incident's operators did. Every step is idempotent given the scenario's progress, so a restarted
controller resumes where it stopped. Waits are on observed states only."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnsrace.check.schedules import ScheduleConfig, simulate
from dnsrace.core import schema
from dnsrace.core.faults import Fault, parse_faults
from dnsrace.core.names import GROUP, VERSION, Plural
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGION
from dnsrace.core.protocol import Variant
from dnsrace.core.resources.common import PROTOCOLS
from dnsrace.core.resources.scenario import ScenarioSpec, ScenarioSpecExpect
from dnsrace.lab import objects
from dnsrace.scenarios import wording
from dnsrace.scenarios.control import LabControl, LabTimeout
from dnsrace.scenarios.dependents import ServicesClient, merge
from dnsrace.scenarios.repair import repair
from mockaws.settings import SettingsInvalid, parse_services

Step = Mapping[str, Any]


class ScenarioInvalid(ValueError):
    """The scenario cannot run as written; the message names the field."""


@dataclass(frozen=True)
class Run:
    """A scenario turned into concrete steps."""

    protocol: str
    keep: int
    endpoints: tuple[str, ...]
    steps: tuple[Step, ...]
    gated: bool  # replays single-step the enactors
    simulated: dict[str, Any] | None = None
    services: dict[str, Any] | None = None  # spec.services, when the scenario starts them
    # every fault the scenario sets, by enactor, in the order first set (the verdict counts
    # each one's firings; one set several times is one fault)
    faults: tuple[tuple[str, Fault], ...] = ()
    expect: ScenarioSpecExpect = field(default_factory=ScenarioSpecExpect)  # typed, defaulted


def prepare(spec: Mapping[str, Any], known: Sequence[str] = objects.ENACTORS) -> Run:
    try:
        typed = schema.parse(ScenarioSpec, spec)
    except (TypeError, ValueError) as exc:
        raise ScenarioInvalid(f"spec: {exc}") from exc
    protocol = typed.protocol
    if protocol not in PROTOCOLS:
        raise ScenarioInvalid(f"spec.protocol must be {', '.join(PROTOCOLS)}, not {protocol!r}")
    keep = typed.keep
    endpoints = tuple(typed.endpoints or DEFAULT_ENDPOINTS)
    enactors = list(spec.get("enactors") or [{"name": n} for n in known])
    faults = FaultBook(endpoints)
    for i, e in enumerate(enactors):
        if e["name"] not in known:
            raise ScenarioInvalid(
                f"spec.enactors[{i}].name: no enactor {e['name']!r} in this lab "
                f"(there are {', '.join(known)})"
            )
        faults.set(str(e["name"]), e.get("faults"), f"spec.enactors[{i}]")
    simulated = None
    services = _services(spec)
    if spec.get("steps"):
        steps = tuple(spec["steps"])
        settings = dict(services or {})
        for i, step in enumerate(steps):
            if "services" in step:
                if services is None:
                    raise ScenarioInvalid(
                        f"spec.steps[{i}].services: the scenario has no spec.services to start"
                    )
                settings = merge(settings, step["services"].get("set") or {})
                try:
                    parse_services(settings, f"spec.steps[{i}].services.set")
                except SettingsInvalid as exc:
                    raise ScenarioInvalid(str(exc)) from exc
            if "enactor" in step and step["enactor"] not in known:
                raise ScenarioInvalid(f"spec.steps[{i}].enactor: no enactor {step['enactor']!r}")
            if "enactor" in step and "faults" in (step.get("set") or {}):
                faults.set(str(step["enactor"]), step["set"]["faults"], f"spec.steps[{i}].set")
            wait = step.get("waitFor") or {}
            if "enactor" in wait and wait["enactor"] not in known:
                raise ScenarioInvalid(
                    f"spec.steps[{i}].waitFor.enactor: no enactor {wait['enactor']!r}"
                )
            for kind in ("pausedAt", "crashed"):
                if kind in wait:
                    faults.expect(str(wait.get("enactor", "")), kind, str(wait[kind]), i)
        gated = False
    elif spec.get("replay"):
        actors = [str(s["actor"]) for s in spec["replay"]]
        views = [s.get("view") for s in spec["replay"]]
        steps = _replay_steps(actors, known, "spec.replay", views)
        gated = True
    elif typed.randomSchedule is not None:
        rs = typed.randomSchedule
        cfg = ScheduleConfig(
            Variant(protocol),
            len(known),
            rs.plans,
            keep,
            fault_probability=rs.faultProbability,
            max_delay=rs.maxDelaySeconds,
        )
        outcome = simulate(typed.seed or 0, cfg)
        # simulated views are always current: each move sees every plan the API has
        steps = _replay_steps(outcome.actors, known, "spec.randomSchedule", current_views=True)
        gated = True
        simulated = {
            "outage": outcome.outage_at_end,
            "violations": sorted(outcome.violations),
            "staleOverwrites": outcome.stale_overwrites,
            "activePlanDeletions": outcome.active_plan_deletions,
            "steps": len(outcome.actors),
            "faults": {
                n: [f.key + f" {f.delay_seconds:g}s" for f in fs]
                for n, fs in outcome.faults.items()
            },
        }
        endpoints = DEFAULT_ENDPOINTS
    else:
        raise ScenarioInvalid("set exactly one of spec.steps, spec.replay or spec.randomSchedule")
    if services is not None and not any((s.get("services") or {}).get("start") for s in steps):
        raise ScenarioInvalid(
            "spec.services is set but no step starts the services: add a step "
            "services: {start: true} once DNS is healthy"
        )
    return Run(
        protocol,
        keep,
        endpoints,
        steps,
        gated,
        simulated,
        services,
        faults.all(),
        typed.expect or ScenarioSpecExpect(),
    )


class FaultBook:
    """The faults a scenario sets, read in the order the run sets them: each checked as the
    enactor would parse it, its endpoint one of the run's, and every pausedAt or crashed wait
    on a fault set before it."""

    def __init__(self, endpoints: Sequence[str]) -> None:
        self.endpoints = endpoints
        self.seen: dict[tuple[str, str], Fault] = {}  # (enactor, description): the fault

    def set(self, enactor: str, raw: Any, where: str) -> None:
        try:
            parsed = parse_faults(raw)
        except ValueError as exc:
            raise ScenarioInvalid(f"{where}.{exc}") from exc
        for j, fault in enumerate(parsed):
            if fault.endpoint and fault.endpoint not in self.endpoints:
                raise ScenarioInvalid(
                    f"{where}.faults[{j}].endpoint: {fault.endpoint!r} is not one of the run's "
                    f"endpoints; write one of {', '.join(self.endpoints)} in full, or leave "
                    "endpoint out for every endpoint"
                )
            key = (enactor, fault.describe())
            old = self.seen.get(key)
            # one fault set several times may never fire only if every setting says so
            self.seen[key] = fault if old is None or old.may_never_fire else old

    def expect(self, enactor: str, kind: str, key: str, step: int) -> None:
        """A wait for `enactor` to pause (pausedAt) or crash (crashed) at `key` needs such a
        fault set before it: otherwise it could only time out."""
        want = [
            f.key
            for (who, _), f in self.seen.items()
            if who == enactor and (f.pause if kind == "pausedAt" else f.crash)
        ]
        if key not in want:
            action = "pause" if kind == "pausedAt" else "crash"
            have = (
                f"its {action} faults so far: {', '.join(want)}"
                if want
                else f"it has no {action} fault so far"
            )
            raise ScenarioInvalid(
                f"spec.steps[{step}].waitFor.{kind}: enactor {enactor} has no {action} fault at "
                f"{key!r} ({have}); write AT:ENDPOINT of a {action} fault an earlier step sets, "
                "such as after-pick:* or before-write:dynamodb-fips.us-east-1.amazonaws.com"
            )

    def all(self) -> tuple[tuple[str, Fault], ...]:
        return tuple((enactor, fault) for (enactor, _), fault in self.seen.items())


def _services(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    if "services" not in spec:
        return None
    try:
        parse_services(spec["services"])
    except SettingsInvalid as exc:
        raise ScenarioInvalid(str(exc)) from exc
    return dict(spec["services"] or {})


def _replay_steps(
    actors: Sequence[str],
    known: Sequence[str],
    where: str,
    views: Sequence[Any] | None = None,
    current_views: bool = False,
) -> tuple[Step, ...]:
    out: list[Step] = []
    created = 0
    for i, actor in enumerate(actors):
        if actor == "planner":
            created += 1
            out.append({"planner": {"produceUntil": created}})
        elif actor in known:
            view = views[i] if views is not None else None
            grant: dict[str, Any] = {"grant": actor}
            if view is not None:
                grant["view"] = [int(g) for g in view]
            elif current_views:
                grant["view"] = "current"
            out.append(grant)
        else:
            raise ScenarioInvalid(f"{where}[{i}].actor: no enactor {actor!r}")
    return tuple(out)


class StepEngine:
    """Executes one step at a time; `progress` is the scenario's persisted status."""

    def __init__(
        self,
        control: LabControl,
        run: Run,
        progress: dict[str, Any],
        save: Callable[[dict[str, Any]], None],
        note: Callable[[str, str], None],
        deadline: float,
        services: ServicesClient | None = None,
        on_services_started: Callable[[], None] = lambda: None,
        run_id: str = "",
    ) -> None:
        """`run_id` names this run to the enactors (their fault tallies count for it)."""
        self.control, self.run, self.progress = control, run, progress
        self.save, self.note, self.deadline = save, note, deadline
        self.services, self.on_services_started = services, on_services_started
        self.run_id = run_id

    @property
    def timeout(self) -> float:
        """What is left of the run's durationSeconds (time.monotonic deadline): every wait
        gets this, so no run outlasts its duration by more than one poll."""
        return max(0.0, self.deadline - time.monotonic())

    @property
    def base(self) -> int:
        return int(self.progress["baseGeneration"])

    def setup(self) -> None:
        """Quiesce and reset the lab; record the base generation. Idempotent."""
        self.control.reset(self.run.protocol, self.run.keep, self.timeout, self.run_id)
        planner: Any = self.control.crd.get_namespaced_custom_object(
            GROUP, VERSION, self.control.ns, Plural.PLANNERS, REGION
        )
        base = int((planner.get("status") or {}).get("lastGeneration", 0) or 0)
        self.progress.update(baseGeneration=base, stepIndex=0)
        self.save({"baseGeneration": base, "stepIndex": 0})
        for name in objects.ENACTORS:
            status = self.control.enactor_status(name)
            gate = int(status.get("stepsTaken", 0)) if self.run.gated else None
            # a choreography starts with every enactor paused: its steps say who moves when
            self.control.enactor(name, stepGate=gate, viewGate=None, paused=not self.run.gated)
        if self.run.gated:
            # a replay's views lag as the trace says: each enactor holds its view before the
            # first plan exists, and takes watch events only when a grant delivers them
            for name in objects.ENACTORS:
                self._wait_held(name)
        self.note(
            "Reset",
            f"plans and records cleared; protocol {self.run.protocol}, keep "
            f"{self.run.keep}; plans will start after g{base}",
        )

    def _wait_held(self, name: str) -> None:
        self.control.wait(
            lambda: bool(self.control.enactor_status(name).get("viewHeld")),
            self.timeout,
            f"enactor {name} to hold its plan view",
        )

    def start_faults(self, enactors: Sequence[Mapping[str, Any]]) -> None:
        for e in enactors:
            if e.get("faults"):
                self.control.enactor(e["name"], faults=list(e["faults"]))

    def execute(self, index: int) -> None:
        step = self.run.steps[index]
        if "enactor" in step:
            self.control.enactor(step["enactor"], **dict(step["set"]))
            self.note("Enactor", wording.enactor_change(str(step["enactor"]), step["set"]))
        elif "planner" in step:
            self._planner(step["planner"])
        elif "waitFor" in step:
            self._wait(step["waitFor"])
        elif "grant" in step:
            self._grant(str(step["grant"]), index, step.get("view"))
        elif "services" in step:
            self._services(step["services"])
        elif "repair" in step:
            done = repair(self.control.plans, self.control.records)
            self.note(
                "Repair",
                "operators repair DNS by hand: "
                + ", ".join(f"{r.endpoint} {r.before} -> g{r.after}" for r in done),
            )

    def _services(self, s: Mapping[str, Any]) -> None:
        if self.services is None:
            raise ScenarioInvalid("this lab has no dependent services ($DNSRACE_SERVICES unset)")
        settings = dict(self.progress.get("servicesSettings") or self.run.services or {})
        if s.get("start"):
            self.services.configure(settings, reset=True, running=True)
            self.progress["servicesStarted"] = True
            self.save({"servicesStarted": True, "servicesSettings": settings})
            self.on_services_started()
            self.note("Services", "dependent services reset and started (steady state)")
        if s.get("set"):
            settings = merge(settings, s["set"])
            self.services.configure(settings, reset=False, running=True)
            self.save({"servicesSettings": settings})
            self.note("Services", "service settings changed: " + wording.settings(s["set"]))

    def _planner(self, p: Mapping[str, Any]) -> None:
        if "produceUntil" in p:
            until = self.base + int(p["produceUntil"])
            targets = self.control.pool_targets()
            while (n := self.control.newest_plan()) is None or n.generation < until:
                plan = self.control.create_plan(targets, self.run.endpoints)
                self.note("PlanCreated", f"the planner creates plan g{plan.generation}")
        if "run" in p:
            self.control.planner(paused=not p["run"])
            self.note("Planner", wording.step({"planner": {"run": p["run"]}}, self.base))

    def _wait(self, w: Mapping[str, Any]) -> None:
        c = self.control
        name = w.get("enactor")
        if name and "pausedAt" in w:
            c.wait_paused_at(name, str(w["pausedAt"]), self.timeout)
        if name and "phase" in w:
            c.wait_phase(name, [str(w["phase"])], self.timeout)
        if name and "applied" in w:
            c.wait_applied(name, self.base + int(w["applied"]), self.timeout)
        if name and "seen" in w:
            c.wait_seen(name, self.base + int(w["seen"]), self.timeout)
        if name and "crashed" in w:
            self.control.wait(
                lambda: w["crashed"] in c.enactor_status(name).get("firedCrashes", []),
                self.timeout,
                f"enactor {name} to crash at {w['crashed']}",
            )
        if "generation" in w:
            goal = self.base + int(w["generation"])
            self.control.wait(
                lambda: (n := c.newest_plan()) is not None and n.generation >= goal,
                self.timeout,
                f"the newest plan to reach g{goal}",
            )
        if w.get("settled"):
            self.settle()
        if "emptySeconds" in w:
            empty_for = float(w["emptySeconds"])
            self.control.wait(
                lambda: (
                    float((self.progress.get("probes") or {}).get("emptySeconds", 0)) >= empty_for
                ),
                self.timeout,
                f"the regional endpoint to have been empty for {empty_for:g}s",
            )
        if "seconds" in w:
            # the one wait on time: an observation window, for watching an aftermath
            window = float(w["seconds"])
            ends = time.monotonic() + min(window, self.timeout)
            c.wait(lambda: time.monotonic() >= ends, window + 1, "the window", 0.1)
            if time.monotonic() >= self.deadline:
                raise LabTimeout(f"durationSeconds used up during a {window:g}s window")
        self.note("Observed", "observed: " + wording.condition(w, self.base))

    def _grant(self, name: str, index: int, view: Any = None) -> None:
        """One move of `name`, exactly, with its plan view holding the generations the trace
        says (relative to the run's base), or every plan the API has ("current")."""
        c = self.control
        pending = self.progress.get("pendingGrant") or {}
        gate: list[int] | None
        if pending.get("index") == index:
            # resumed after a restart: the grant as saved, its Enactor written again (a restart
            # between the save and that write left the enactor without its grant; writing the
            # same target and view again changes nothing for one that has it)
            target = int(pending["target"])
            gate = pending.get("viewGate")
        else:
            if view == "current":
                gate = sorted(p.generation for p in c.plans.list())
            elif view is not None:
                gate = [self.base + int(g) for g in view]
            else:
                gate = None
            target = int(c.enactor_status(name).get("stepsTaken", 0)) + 1
            self.progress["pendingGrant"] = {"index": index, "target": target, "viewGate": gate}
            # the steps before this one are done: one write says both
            self.save({"pendingGrant": self.progress["pendingGrant"], "stepIndex": index})
        c.enactor(name, stepGate=target, viewGate=gate, paused=False)
        self.control.wait(
            lambda: int(c.enactor_status(name).get("stepsTaken", 0)) >= target,
            self.timeout,
            f"enactor {name} to take step {target}",
        )

    def settle(self) -> None:
        """Every enactor idle (or paused) having seen the newest plan."""
        c = self.control
        newest = c.newest_plan()
        for name in objects.ENACTORS:
            if newest is not None:
                c.wait_seen(name, newest.generation, self.timeout)
            c.wait_phase(name, ["Idle", "Paused"], self.timeout)

    def finish(self) -> None:
        """Release single-stepping; leave the planner paused so the end state stays to see."""
        for name in objects.ENACTORS:
            self.control.enactor(name, stepGate=None, viewGate=None)
        if self.run.gated:
            self.settle()
