"""Breadth-first exploration of every interleaving of one planner and N enactors over M plans.

The explorer drives `dnsrace.core.protocol.Enactor.step` itself (not a model of it) on the
in-memory stores. A state is canonical and hashable: which plan generations exist, each
endpoint's (generation, served?) and the enactors' local states, sorted, because enactors with
the same protocol are interchangeable (symmetry reduction: one representative per permutation).
Revisions and versions are left out of the state: the protocol compares them only inside one
atomic step. Breadth-first order makes every reported trace a shortest one.

Invariants, checked in every reachable state and transition:
  I1 once applied, an endpoint's record is never empty;
  I2 an endpoint's generation never decreases;
  I3 the plan an endpoint uses is never deleted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from dnsrace.core.plans import DEFAULT_ENDPOINTS, Plan, plan_name
from dnsrace.core.protocol import Enactor, EnactorState, Phase, Protocol
from dnsrace.core.records import EndpointRecord, Target
from dnsrace.stores.plans import MemoryPlanStore
from dnsrace.stores.records import MemoryRecordStore

ENACTOR_NAMES = "abcdefghij"
INVARIANTS = {
    "I1": "once applied, an endpoint's record is never empty",
    "I2": "an endpoint's generation never decreases",
    "I3": "the plan an endpoint uses is never deleted",
}

# canonical pieces: enactor (phase, plan generation, index, last applied); record (gen, served)
EnactorKey = tuple[str, int, int, int]
RecordKey = tuple[int, bool]
State = tuple[int, tuple[int, ...], tuple[RecordKey, ...], tuple[EnactorKey, ...]]
Label = tuple[str, EnactorKey | None]  # ("planner", None) or ("enactor", state that stepped)


@dataclass(frozen=True)
class Config:
    protocol: Protocol
    enactors: int = 3
    plans: int = 5
    keep: int = 1
    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS[:2]
    max_states: int = 5_000_000

    def __post_init__(self) -> None:
        if not 1 <= self.enactors <= len(ENACTOR_NAMES):
            raise ValueError(f"--enactors must be 1 to {len(ENACTOR_NAMES)}")
        if self.plans < 1 or self.keep < 0 or not self.endpoints:
            raise ValueError("--plans must be at least 1, --keep at least 0, one endpoint or more")


@dataclass(frozen=True)
class Step:
    actor: str  # "planner" or an enactor's name
    text: tuple[str, ...]  # what the step did, in the incident's words


@dataclass(frozen=True)
class Violation:
    invariant: str
    description: str
    detail: str
    trace: tuple[Step, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "description": self.description,
            "detail": self.detail,
            "trace": [{"actor": s.actor, "did": list(s.text)} for s in self.trace],
        }


@dataclass
class Result:
    config: Config
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    complete: bool = True
    violations: list[Violation] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        c = self.config
        return {
            "protocol": c.protocol.value,
            "enactors": c.enactors,
            "plans": c.plans,
            "keep": c.keep,
            "endpoints": list(c.endpoints),
            "states": self.states,
            "transitions": self.transitions,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "statesPerSecond": round(self.states / self.seconds) if self.seconds else None,
            "complete": self.complete,
            "violations": [v.as_json() for v in self.violations],
        }


class World:
    """Materialises a canonical state into in-memory stores, steps it, and reads it back."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.enactor = Enactor("x", config.protocol, config.keep)

    @staticmethod
    @cache
    def targets(generation: int) -> tuple[Target, ...]:
        return (Target(f"10.0.{generation // 250}.{generation % 250 + 1}", 1, f"lb-{generation}"),)

    @cache  # noqa: B019 - a World lives as long as one exploration
    def plan(self, generation: int) -> Plan:
        return Plan(
            plan_name("us-east-1", generation),
            generation,
            self.config.endpoints,
            self.targets(generation),
            version=str(generation),
        )

    def stores(self, state: State) -> tuple[MemoryPlanStore, MemoryRecordStore]:
        _, plans, records, _ = state
        ps = MemoryPlanStore({self.plan(g).name: self.plan(g) for g in plans})
        rs = MemoryRecordStore()
        for name, (gen, served) in zip(self.config.endpoints, records, strict=True):
            if gen:
                rs.records[name] = EndpointRecord(
                    name, gen, self.plan(gen).name, "x", self.targets(gen)
                )
                rs.served[name] = self.targets(gen) if served else ()
                rs.revisions[name] = 1
        rs.revision = 1
        return ps, rs

    def enactor_state(self, key: EnactorKey) -> EnactorState:
        phase, gen, index, last = key
        return EnactorState(Phase(phase), self.plan(gen) if gen else None, index, last)

    @staticmethod
    def enactor_key(state: EnactorState) -> EnactorKey:
        return (
            state.phase.value,
            state.plan.generation if state.plan else 0,
            state.index,
            state.last_applied,
        )

    def read_back(
        self, created: int, ps: MemoryPlanStore, rs: MemoryRecordStore, enactors: list[EnactorKey]
    ) -> State:
        plans = tuple(sorted(p.generation for p in ps.plans.values()))
        records = tuple(
            (rs.records[n].generation, bool(rs.served.get(n))) if n in rs.records else (0, False)
            for n in self.config.endpoints
        )
        return (created, plans, records, tuple(sorted(enactors)))

    def initial(self) -> State:
        idle: EnactorKey = (Phase.IDLE.value, 0, 0, 0)
        return (
            0,
            (),
            tuple((0, False) for _ in self.config.endpoints),
            tuple(idle for _ in range(self.config.enactors)),
        )

    def successors(self, state: State) -> Iterator[tuple[Label, State]]:
        created, _, _, enactors = state
        if created < self.config.plans:
            ps, rs = self.stores(state)
            ps.add(self.plan(created + 1))
            yield ("planner", None), self.read_back(created + 1, ps, rs, list(enactors))
        for i, key in enumerate(enactors):
            if i and enactors[i - 1] == key:
                continue  # symmetric: stepping an identical enactor leads to the same state
            ps, rs = self.stores(state)
            new, _ = self.enactor.step(self.enactor_state(key), ps, rs)
            rest = [*enactors[:i], self.enactor_key(new), *enactors[i + 1 :]]
            nxt = self.read_back(created, ps, rs, rest)
            if nxt != state:
                yield ("enactor", key), nxt


def violations_of(config: Config, before: State, after: State) -> list[tuple[str, str]]:
    found = []
    _, plans, records, _ = after
    _, _, old_records, _ = before
    for name, (gen, served), (old_gen, _) in zip(
        config.endpoints, records, old_records, strict=True
    ):
        if gen and not served:
            found.append(("I1", f"{name} applied (g{gen}) and now empty"))
        if gen < old_gen:
            found.append(("I2", f"{name} went from g{old_gen} back to g{gen}"))
        if gen and gen not in plans:
            found.append(("I3", f"{name} uses g{gen}, which was deleted"))
    return found


def explore(config: Config, now: float | None = None) -> Result:
    """Every reachable state, breadth first; the shortest trace to each invariant's first
    violation. `now` is taken only to report the time spent."""
    clock = time.perf_counter
    start = clock() if now is None else now
    world = World(config)
    result = Result(config)
    init = world.initial()
    parent: dict[State, tuple[State, Label] | None] = {init: None}
    frontier: deque[tuple[State, int]] = deque([(init, 0)])
    found: dict[str, tuple[State, State, Label, str]] = {}
    while frontier:
        state, depth = frontier.popleft()
        result.depth = max(result.depth, depth)
        for label, nxt in world.successors(state):
            result.transitions += 1
            for inv, detail in violations_of(config, state, nxt):
                if inv not in found:
                    found[inv] = (state, nxt, label, detail)
            if nxt in parent:
                continue
            if len(parent) >= config.max_states:
                result.complete = False
                continue
            parent[nxt] = (state, label)
            frontier.append((nxt, depth + 1))
    result.states = len(parent)
    for inv in sorted(found):
        before, _, label, detail = found[inv]
        labels = [*_labels_to(parent, before), label]
        result.violations.append(Violation(inv, INVARIANTS[inv], detail, replay(config, labels)))
    result.seconds = clock() - start
    return result


def _labels_to(parent: dict[State, tuple[State, Label] | None], state: State) -> list[Label]:
    labels: list[Label] = []
    node = parent[state]
    while node is not None:
        prev, label = node
        labels.append(label)
        node = parent[prev]
    return labels[::-1]


def replay(config: Config, labels: list[Label]) -> tuple[Step, ...]:
    """Re-run a path with named enactors and full stores, to tell it in the incident's words."""
    world = World(config)
    names = ENACTOR_NAMES[: config.enactors]
    enactors = {n: Enactor(n, config.protocol, config.keep) for n in names}
    states = {n: EnactorState() for n in names}
    ps, rs = MemoryPlanStore(), MemoryRecordStore()
    created = 0
    steps = []
    for kind, key in labels:
        if kind == "planner":
            created += 1
            ps.add(world.plan(created))
            steps.append(Step("planner", (f"planner creates plan g{created}",)))
            continue
        name = next(n for n in names if World.enactor_key(states[n]) == key)
        states[name], events = enactors[name].step(states[name], ps, rs)
        steps.append(Step(name, tuple(e.describe() for e in events) or (_quiet(states[name]),)))
    return tuple(steps)


def _quiet(state: EnactorState) -> str:
    return f"(step with no event; now {state.phase.value})"
