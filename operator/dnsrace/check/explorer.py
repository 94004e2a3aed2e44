"""Breadth-first exploration of every interleaving of one planner and N enactors over M plans,
at the granularity of store requests.

What one transition is: the planner creates the next plan, or one enactor makes one move of
`dnsrace.core.protocol` (decide with its view, send one request, absorb the answer) against the
in-memory twins: `MemoryEtcd` under the very `RecordStore` transactions the live enactors send
to etcd, with real revisions, so a CAS or a snapshot compare fails exactly when it would live;
and `MemoryPlanStore`, whose watch log (creations and deletions, in order) each enactor sees a
prefix of: its own view, which can lag.

Reductions, and why each keeps every violation reachable:
- Lazy delivery (a partial-order reduction). Delivering a watch event to an enactor touches
  only that enactor's view, so it commutes with every move of every other enactor and with the
  planner; only the enactor's own next view read can tell when it happened. So deliveries are
  not separate transitions: a move that reads the view branches over every view position from
  where its view stood to the end of the log (every prefix the watch could have delivered by
  then). Moves that do not read the view keep it where it was.
- Symmetry: enactors with the same protocol are interchangeable, so a state keeps its
  enactors sorted and the explorer records one representative per permutation. Enactors all
  write as "x" while exploring; traces are re-run with names afterwards (`replay`).
- Canonical revisions: requests only compare revisions for equality and order, so the store
  revisions in a state (etcd's and those enactors hold from their reads) are renumbered
  densely in order; key versions, which no request compares, are dropped.
Breadth-first order makes every reported trace a shortest one.

Invariants, checked on every transition, for every endpoint with a record:
  I1 once applied, an endpoint's record is never empty;
  I2 an endpoint's generation never decreases;
  I3 no record refers to a deleted plan.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dnsrace.core.plans import DEFAULT_ENDPOINTS, Plan, plan_name
from dnsrace.core.protocol import Enactor, EnactorState, Pc, Protocol, move
from dnsrace.core.records import (
    META_ROOT,
    EndpointRecord,
    Observed,
    Target,
    decode_meta,
    name_of_key,
)
from dnsrace.core.requests import Response, describe
from dnsrace.stores.etcd import KeyValue
from dnsrace.stores.memetcd import MemoryEtcd
from dnsrace.stores.plans import MemoryPlanStore, view_at
from dnsrace.stores.records import MemoryRecordStore, executor

ENACTOR_NAMES = "abcdefghij"
INVARIANTS = {
    "I1": "once applied, an endpoint's record is never empty",
    "I2": "an endpoint's generation never decreases",
    "I3": "no record refers to a deleted plan",
}
POOL = (Target("10.0.0.1", 1, "lb-1"),)  # every plan has the pool's targets, as in the lab

# canonical pieces (primitives only: hashable, ordered, cheap)
KVKey = tuple[bytes, bytes, int, int]  # key, value, mod revision, create revision
EnactorKey = tuple[str, int, tuple[object, ...]]  # protocol, view position, local state
State = tuple[
    int, tuple[tuple[str, int], ...], tuple[int, tuple[KVKey, ...]], tuple[EnactorKey, ...]
]
Label = tuple[int, int]  # (-1, 0) the planner; (i, position) enactor i of the sorted tuple


@dataclass(frozen=True)
class Config:
    protocols: tuple[Protocol, ...]  # one per enactor
    plans: int = 5
    keep: int = 1
    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS[:2]
    endpoint_change: int = 0  # from this generation on, the first endpoint leaves and one joins
    max_states: int = 5_000_000

    def __post_init__(self) -> None:
        if not 1 <= len(self.protocols) <= len(ENACTOR_NAMES):
            raise ValueError(f"--enactors must be 1 to {len(ENACTOR_NAMES)}")
        if self.plans < 1 or self.keep < 0 or not self.endpoints:
            raise ValueError("--plans must be at least 1, --keep at least 0, one endpoint or more")
        if self.endpoint_change and len(self.endpoints) >= len(DEFAULT_ENDPOINTS):
            raise ValueError(
                f"--endpoint-change needs fewer than {len(DEFAULT_ENDPOINTS)} endpoints"
            )
        if self.endpoint_change and not 2 <= self.endpoint_change <= self.plans:
            raise ValueError("--endpoint-change must be a generation from 2 to --plans")

    @property
    def enactors(self) -> int:
        return len(self.protocols)

    @property
    def protocol_text(self) -> str:
        kinds = sorted(set(self.protocols))
        if len(kinds) == 1:
            return kinds[0].value
        return ",".join(p.value for p in self.protocols)

    def endpoints_of(self, generation: int) -> tuple[str, ...]:
        if self.endpoint_change and generation >= self.endpoint_change:
            return (*self.endpoints[1:], DEFAULT_ENDPOINTS[len(self.endpoints)])
        return self.endpoints


@dataclass(frozen=True)
class Step:
    actor: str  # "planner" or an enactor's name
    text: tuple[str, ...]  # what the move did, in the incident's words
    view: tuple[int, ...] | None = None  # the generations the enactor's view held, if read


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
            "trace": [
                {
                    "actor": s.actor,
                    "did": list(s.text),
                    **({"view": list(s.view)} if s.view is not None else {}),
                }
                for s in self.trace
            ],
        }


@dataclass
class Result:
    config: Config
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    first_violation_seconds: float | None = None
    complete: bool = True
    violations: list[Violation] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        c = self.config
        return {
            "protocol": c.protocol_text,
            "enactors": c.enactors,
            "plans": c.plans,
            "keep": c.keep,
            "endpoints": list(c.endpoints),
            "endpointChange": c.endpoint_change,
            "states": self.states,
            "transitions": self.transitions,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "statesPerSecond": round(self.states / self.seconds) if self.seconds else None,
            "firstViolationSeconds": (
                round(self.first_violation_seconds, 3)
                if self.first_violation_seconds is not None
                else None
            ),
            "complete": self.complete,
            "violations": [v.as_json() for v in self.violations],
        }


# -- encoding of enactor states -----------------------------------------------------------------
def _enc_record(r: EndpointRecord | None) -> object:
    return () if r is None else (r.name, r.generation, r.enactor)


class World:
    """Materialises a canonical state into in-memory stores, moves it, and reads it back."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.enactors = {p: Enactor("x", p, config.keep) for p in set(config.protocols)}
        self._decoded: dict[tuple[object, ...], EnactorState] = {}
        self._stores: dict[tuple[tuple[str, int], ...], MemoryPlanStore] = {}
        self._endpoints: dict[tuple[KVKey, ...], dict[str, tuple[int, bool, str]]] = {}

    @cache  # noqa: B019 - a World lives as long as one exploration
    def plan(self, generation: int) -> Plan:
        name = plan_name("us-east-1", generation)
        return Plan(name, generation, self.config.endpoints_of(generation), POOL, f"uid-{name}")

    # enactor local states <-> primitives
    def encode(self, s: EnactorState, f: Callable[[int], int] = int) -> tuple[object, ...]:
        """Primitives for `s`, with every store revision mapped through `f`."""
        seen: object = ()
        if s.seen is not None:
            o = s.seen
            seen = (
                o.name,
                _enc_record(o.record),
                bool(o.served),
                f(o.revision) if o.revision else 0,
                tuple((k, f(rev), p) for k, rev, p in o.keys),
            )
        return (
            s.pc.value,
            s.plan.generation if s.plan else 0,
            s.index,
            s.last_applied,
            seen,
            tuple(sorted(s.alive)),
            f(s.snapshot) if s.snapshot else 0,
            tuple((p.generation, action, users) for p, action, users in s.todo),
            s.deleted,
            s.clears,
        )

    def decode(self, key: tuple[object, ...]) -> EnactorState:
        found = self._decoded.get(key)
        if found is None:
            found = self._decoded[key] = self._decode(key)
        return found

    def _decode(self, key: tuple[Any, ...]) -> EnactorState:
        pc, gen, index, last, seen, alive, snap, todo, deleted, clears = key
        return EnactorState(
            Pc(pc),
            self.plan(gen) if gen else None,
            index,
            last,
            self._dec_observed(seen),
            frozenset(alive),
            snap,
            tuple((self.plan(g), a, u) for g, a, u in todo),
            deleted,
            clears,
        )

    def _dec_observed(self, key: Any) -> Observed | None:
        if not key:
            return None
        name, rec, served, revision, keys = key
        record = None
        if rec:
            rname, gen, enactor = rec
            record = EndpointRecord(rname, gen, self.plan(gen).name, enactor, POOL)
        return Observed(name, record, POOL if served else (), revision, keys)

    # whole states
    def initial(self) -> State:
        idle = [(p, 0, EnactorState()) for p in self.config.protocols]
        return self.canonical(0, MemoryPlanStore(), MemoryEtcd(), idle)

    def log_of(self, log: tuple[tuple[str, int], ...]) -> MemoryPlanStore:
        """A fresh plan store whose watch log is `log` (built once per log, then copied)."""
        base = self._stores.get(log)
        if base is None:
            base = MemoryPlanStore()
            for kind, gen in log:
                plan = self.plan(gen)
                if kind == "ADDED":
                    base.add(plan)
                else:
                    base.delete(plan, precondition=False)
            self._stores[log] = base
        return MemoryPlanStore(dict(base.plans), list(base.log))

    def endpoint_states(self, state: State) -> dict[str, tuple[int, bool, str]]:
        kvs = state[2][1]
        found = self._endpoints.get(kvs)
        if found is None:
            found = self._endpoints[kvs] = endpoint_states(state)
        return found

    def canonical(
        self,
        created: int,
        ps: MemoryPlanStore,
        kv: MemoryEtcd,
        enactors: Sequence[tuple[Protocol, int, EnactorState]],
    ) -> State:
        f = _revision_rank(kv, [local for _, _, local in enactors]).__getitem__
        frozen = tuple(
            (k.key, k.value, f(k.mod_revision), f(k.create_revision))
            for k in (kv.kvs[key] for key in sorted(kv.kvs))
        )
        log = tuple((kind, p.generation) for kind, p in ps.log)
        keys = tuple(sorted((p.value, pos, self.encode(local, f)) for p, pos, local in enactors))
        return (created, log, (f(kv.revision), frozen), keys)

    @staticmethod
    def thaw_kv(frozen: tuple[int, tuple[KVKey, ...]]) -> MemoryEtcd:
        rev, kvs = frozen
        return MemoryEtcd({k: KeyValue(k, v, m, c, 1) for k, v, m, c in kvs}, rev)

    def successors(self, state: State) -> Iterator[tuple[Label, State]]:
        created, log, kvf, enactors = state
        if created < self.config.plans:
            ps, kv = self.log_of(log), self.thaw_kv(kvf)
            ps.add(self.plan(created + 1))
            locals_ = [(Protocol(p), pos, self.decode(k)) for p, pos, k in enactors]
            yield (-1, 0), self.canonical(created + 1, ps, kv, locals_)
        for i, (proto, pos, key) in enumerate(enactors):
            if i and enactors[i - 1] == (proto, pos, key):
                continue  # symmetric: moving an identical enactor leads to the same state
            protocol = Protocol(proto)
            enactor = self.enactors[protocol]
            local = self.decode(key)
            positions = range(pos, len(log) + 1) if enactor.reads_view(local) else (pos,)
            rest = [
                (Protocol(p), q, self.decode(k)) for j, (p, q, k) in enumerate(enactors) if j != i
            ]
            views_seen: set[frozenset[str]] = set()
            outcomes: set[tuple[object, ...]] = set()
            for position in positions:
                # A later position that shows the same plans, or leads to the same move, is
                # simulated by the earliest one (a view can only advance from there): skip it.
                ps = self.log_of(log)
                view = view_at(ps.log, position)
                content = frozenset(p.name for p in view)
                if content in views_seen:
                    continue
                views_seen.add(content)
                kv = self.thaw_kv(kvf)
                new, _, _ = move(enactor, local, view, executor(MemoryRecordStore(kv), ps))
                outcome = (new, kv.freeze(), len(ps.log))
                if outcome in outcomes:
                    continue
                outcomes.add(outcome)
                nxt = self.canonical(created, ps, kv, [*rest, (protocol, position, new)])
                if nxt != state:
                    yield (i, position), nxt


def endpoint_states(state: State) -> dict[str, tuple[int, bool, str]]:
    """Every endpoint with metadata: (generation, served?, plan)."""
    return endpoints_in(state[2][1])


def endpoints_in(kvs: Sequence[KVKey]) -> dict[str, tuple[int, bool, str]]:
    """Every endpoint with metadata in these record-store keys: (generation, served?, plan)."""
    meta_prefix = (META_ROOT + "/").encode()
    served: set[str] = set()
    out: dict[str, tuple[int, bool, str]] = {}
    for key, _, _, _ in kvs:
        if key.startswith(b"/skydns/"):
            served.add(name_of_key(key.decode()))
    for key, value, _, _ in kvs:
        if key.startswith(meta_prefix):
            rec = decode_meta(value)
            out[rec.name] = (rec.generation, rec.name in served, rec.plan)
    return out


def alive_plans(state: State) -> set[str]:
    _, log, _, _ = state
    alive: set[int] = set()
    for kind, gen in log:
        (alive.add if kind == "ADDED" else alive.discard)(gen)
    return {plan_name("us-east-1", g) for g in alive}


def violations_of(before: State, after: State, world: World | None = None) -> list[tuple[str, str]]:
    states = world.endpoint_states if world is not None else endpoint_states
    return violations_between(states(before), states(after), alive_plans(after))


def violations_between(
    old: dict[str, tuple[int, bool, str]],
    new: dict[str, tuple[int, bool, str]],
    alive: set[str],
) -> list[tuple[str, str]]:
    found = []
    for name, (gen, served, plan) in sorted(new.items()):
        if not served:
            found.append(("I1", f"{name} applied (g{gen}) and now empty"))
        old_gen = old.get(name, (0, False, ""))[0]
        if gen < old_gen:
            found.append(("I2", f"{name} went from g{old_gen} back to g{gen}"))
        if plan not in alive:
            found.append(("I3", f"{name} uses g{gen}, whose plan was deleted"))
    return found


def explore(
    config: Config,
    now: float | None = None,
    stop_at_first: bool = False,
    max_seconds: float = 0.0,
) -> Result:
    """Every reachable state, breadth first; the shortest trace to each invariant's first
    violation. `now` is taken only to report the time spent. `stop_at_first` ends the search
    after the state whose successors first violate an invariant; `max_seconds` (0: none) cuts
    it short, incomplete."""
    clock = time.perf_counter
    start = clock() if now is None else now
    world = World(config)
    result = Result(config)
    init = world.initial()
    parent: dict[State, tuple[State, Label] | None] = {init: None}
    frontier: deque[tuple[State, int]] = deque([(init, 0)])
    found: dict[str, tuple[State, State, Label, str]] = {}
    expanded = 0
    while frontier:
        expanded += 1
        if max_seconds and expanded % 1000 == 0 and clock() - start > max_seconds:
            result.complete = False
            break
        state, depth = frontier.popleft()
        result.depth = max(result.depth, depth)
        for label, nxt in world.successors(state):
            result.transitions += 1
            for inv, detail in violations_of(state, nxt, world):
                if inv not in found:
                    found[inv] = (state, nxt, label, detail)
                    if result.first_violation_seconds is None:
                        result.first_violation_seconds = clock() - start
            if nxt in parent:
                continue
            if len(parent) >= config.max_states:
                result.complete = False
                continue
            parent[nxt] = (state, label)
            frontier.append((nxt, depth + 1))
        if stop_at_first and found:
            result.complete = False
            break
    result.states = len(parent)
    for inv in sorted(found):
        before, _, label, detail = found[inv]
        labels = [*_path_to(parent, before), (before, label)]
        result.violations.append(Violation(inv, INVARIANTS[inv], detail, replay(config, labels)))
    result.seconds = clock() - start
    return result


def _path_to(
    parent: dict[State, tuple[State, Label] | None], state: State
) -> list[tuple[State, Label]]:
    path: list[tuple[State, Label]] = []
    node = parent[state]
    while node is not None:
        prev, label = node
        path.append((prev, label))
        node = parent[prev]
    return path[::-1]


def replay(config: Config, path: list[tuple[State, Label]]) -> tuple[Step, ...]:
    """Re-run a path with named enactors, to tell it in the incident's words. Each named
    enactor is moved in lockstep in the canonical world (identity "x") to find which named
    enactor a label's sorted position stands for."""
    world = World(config)
    names = ENACTOR_NAMES[: config.enactors]
    named = {n: Enactor(n, p, config.keep) for n, p in zip(names, config.protocols, strict=True)}
    local = {n: EnactorState() for n in names}
    canon = {n: EnactorState() for n in names}
    position = dict.fromkeys(names, 0)
    ps, kv, ps_x, kv_x = MemoryPlanStore(), MemoryEtcd(), MemoryPlanStore(), MemoryEtcd()
    rs, rs_x = MemoryRecordStore(kv), MemoryRecordStore(kv_x)
    created = 0
    steps = []
    for before, (index, pos) in path:
        if index < 0:
            created += 1
            ps.add(world.plan(created))
            ps_x.add(world.plan(created))
            steps.append(Step("planner", (f"planner creates plan g{created}",)))
            continue
        entry = before[3][index]
        mover = next(n for n in names if _entry(world, config, n, canon, position, kv_x) == entry)
        enactor_x = world.enactors[config.protocols[names.index(mover)]]
        read = enactor_x.reads_view(canon[mover])
        view = view_at(ps.log, pos)
        canon[mover], _, _ = move(
            enactor_x, canon[mover], view_at(ps_x.log, pos), executor(rs_x, ps_x)
        )
        chosen = named[mover].decide(local[mover], view)
        texts = [e.describe() for e in chosen.events]
        local[mover] = chosen.state
        if chosen.request is not None:
            request = chosen.request
            response = executor(rs, ps)(request)
            local[mover], more = named[mover].absorb(local[mover], request, response)
            answer = _answer(response)
            if answer or not more:
                texts.append(f"({describe(request)}{': ' + answer if answer else ''})")
            texts += [e.describe() for e in more]
        position[mover] = pos
        steps.append(
            Step(
                mover,
                tuple(texts) or ("(local step)",),
                tuple(sorted(p.generation for p in view)) if read else None,
            )
        )
    return tuple(steps)


def _entry(
    world: World,
    config: Config,
    name: str,
    canon: dict[str, EnactorState],
    position: dict[str, int],
    kv: MemoryEtcd,
) -> EnactorKey:
    """The canonical entry of enactor `name` in the canonical world as it stands."""
    names = ENACTOR_NAMES[: config.enactors]
    rank = _revision_rank(kv, list(canon.values()))
    proto = config.protocols[names.index(name)]
    return (proto.value, position[name], world.encode(canon[name], rank.__getitem__))


def _revision_rank(kv: MemoryEtcd, locals_: Sequence[EnactorState]) -> dict[int, int]:
    revs = {kv.revision}
    for item in kv.kvs.values():
        revs.add(item.mod_revision)
        revs.add(item.create_revision)
    for local in locals_:
        revs.update(local.revisions())
    return {rev: i for i, rev in enumerate(sorted(revs), start=1)}


def _answer(response: Response) -> str:
    if isinstance(response, Observed):
        rec = response.record
        if rec is None:
            return "no record"
        state = "EMPTY" if response.empty else "served"
        return f"g{rec.generation} by {rec.enactor}, {state}"
    return ""
