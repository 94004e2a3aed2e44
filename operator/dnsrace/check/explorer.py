"""Breadth-first exploration of every interleaving of one planner and N enactors over M plans,
at the granularity of store requests.

What one transition is: the planner creates the next plan, or one enactor makes one move of
`dnsrace.core.protocol` (decide with its view, send one request, absorb the answer) against the
in-memory twins: `MemoryEtcd` under the very `RecordStore` transactions the live enactors send
to etcd, with real revisions, so a CAS or a snapshot compare fails exactly when it would live;
and `MemoryPlanStore`, whose watch log (creations and deletions, in order) each enactor sees a
prefix of: its own view, which can lag.

Reductions, and why each keeps every violation reachable
(`tests/unit/test_explorer_reductions.py` compares them with a plain search over the real
objects, which reaches the same states and breaks the same invariants):
- Lazy delivery (a partial-order reduction). Delivering a watch event to an enactor touches
  only that enactor's view, so it commutes with every move of every other enactor and with the
  planner; only the enactor's own next view read can tell when it happened. So deliveries are
  not separate transitions: a move that reads the view branches over every view position from
  where its view stood to the end of the log. A later position showing the same plans, or
  leading to the same move, is simulated by the earliest (from which the view can still
  advance), and a move that changes nothing but the view position is skipped for the same
  reason.
- Local decisions ride along (a partial-order reduction). A move that reads no view and sends
  no request (a guarded skip, finishing a clean-up) changes only its enactor's local state: it
  is independent of every other transition and invisible to the invariants, so the explorer
  takes it together with the move before it. Traces show it as the step of its own it is live.
- Symmetry: enactors with the same protocol are interchangeable, so a state keeps its
  enactors sorted and the explorer records one representative per permutation. Enactors all
  write as "x" while exploring; traces are re-run with names afterwards (`replay`).
- Canonical revisions (the state encoding). Requests compare a revision an enactor holds only
  for equality with the key's mod revision now (its CAS: "unchanged since my read") or, for a
  snapshot, as "no metadata modified since"; and a write always takes a new revision. So a
  held revision is canonically one of: the key's own fixed revision (still unchanged), STALE
  (changed; no revision there is can equal it again) or 0 (absent when read: MOD == 0 asks only
  whether it is absent now); a snapshot is BIG (still valid) or STALE. The record store is then
  just its keys and values. This is a bisimulation: every compare any request can make answers
  the same in the canonical state as in the real one, now and after any further writes.

Why it is fast: a state is a flat tuple of small ints (plans created, the watch log, the record
store, and per enactor one int for its protocol, local state and view position), every piece
interned once; a move of one enactor is a pure function of its local state, its view's
content, the record store and the live plans, so the real `move` over the in-memory twins runs
once per distinct argument and is a dictionary lookup after that; so is the list of an
enactor's distinct moves from its pieces (`options`), so a state's successors are only
assembled: its entries re-sorted around the one that moved. The invariants are checked
only when a transition changed a store, memoised on the stores before and after.
Breadth-first order makes every reported trace a shortest one.

Invariants, checked on every transition, for every endpoint with a record:
  I1 once applied, an endpoint's record is never empty;
  I2 an endpoint's generation never decreases;
  I3 no record refers to a deleted plan.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from dnsrace.core.names import walk_start
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGION, Plan, plan_name
from dnsrace.core.protocol import (
    SPREAD_FROM,
    Enactor,
    EnactorState,
    Variant,
    local_step,
    move,
)
from dnsrace.core.records import (
    META_ROOT,
    Observed,
    Target,
    decode_meta,
    meta_key,
    name_of_key,
)
from dnsrace.core.requests import Response, describe
from dnsrace.core.vocabulary import Invariant
from dnsrace.stores.etcd import KeyValue
from dnsrace.stores.memetcd import MemoryEtcd
from dnsrace.stores.plans import MemoryPlanStore, view_at
from dnsrace.stores.records import MemoryRecordStore, executor

ENACTOR_NAMES = "abcdefghij"
INVARIANTS = {str(i): i.meaning for i in Invariant}
POOL = (Target("10.0.0.1", 1, "lb-1"),)  # every plan has the pool's targets, as in the lab

KVKey = tuple[bytes, bytes, int, int]  # key, value, mod revision, create revision


@dataclass(frozen=True)
class Config:
    protocols: tuple[Variant, ...]  # one per enactor
    plans: int = 5
    keep: int = 1
    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS[:2]
    endpoint_change: int = 0  # from this generation on, the first endpoint leaves and one joins
    max_states: int = 5_000_000
    spread_from: int = SPREAD_FROM  # guarded walks of plans this long begin at each's start

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

    def kinds(self) -> list[tuple[Variant, tuple[int, ...]]]:
        """Per enactor (a, b, ... as named), what sets its decisions apart: its protocol and
        where its walk of each plan begins (`walk_start`, as the lab's standing enactors)."""
        plans = [
            Plan("", 0, endpoints, ())
            for endpoints in sorted({self.endpoints_of(g) for g in range(1, self.plans + 1)})
        ]
        return [
            (p, tuple(self.enactor(n, p).first_endpoint(x) for x in plans))
            for n, p in zip(ENACTOR_NAMES, self.protocols, strict=False)
        ]

    def enactor(self, name: str, protocol: Variant) -> Enactor:
        """The enactor `name` as the lab runs it (its walk start is the standing one's)."""
        return Enactor(name, protocol, self.keep, walk_start(name), self.spread_from)

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


# -- the canonical world ------------------------------------------------------------------------
BIG = 1 << 40  # a thawed store's revision: above every canonical key revision
STALE = 1  # a held revision whose key has changed since the read: equal to no revision there is
POSITIONS = 1 << 8  # view positions per enactor entry (a log is at most 2 events per plan)

# A state is a flat tuple of small ints: (plans created, log id, kv id, *entries), entries
# sorted, each `actor * POSITIONS + view position`, where an actor id stands for one
# (protocol, local state) pair.
State = tuple[int, ...]
Label = tuple[int, int]  # (-1, 0) the planner; (i, position) enactor i of the sorted entries
# a move's outcome: the actor after, the kv after, the plan deleted (0: none), the change id
Outcome = tuple[int, int, int, int]
# one distinct move from a state's pieces: view position, entry, kv, log after, change, changed
Option = tuple[int, int, int, int, int, bool]


class World:
    """Canonical states, interned, and the moves between them, memoised.

    Actors (protocol and local state), record stores, watch logs, views and sets of changed keys
    are each interned once as small ints. A move of one enactor is a pure function of its actor,
    its view's content, the record store and the live plans, so it runs (the real `move` over
    the in-memory twins) once per distinct argument and is looked up after that; so is how a
    write seen by another enactor ages what it read (`stale`)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # enactors that decide alike are one kind (interchangeable: the search is symmetric in
        # them); guarded enactors whose walks begin at different endpoints are not
        first: dict[tuple[Variant, tuple[int, ...]], str] = {}  # each kind's first enactor
        for kind, name in zip(config.kinds(), ENACTOR_NAMES, strict=False):
            first.setdefault(kind, name)
        self.kinds: tuple[tuple[Variant, tuple[int, ...]], ...] = tuple(sorted(first))
        # any enactor of a kind decides alike: each kind runs as its first, writing as "x"
        self.enactors = [replace(config.enactor(first[k], k[0]), ident="x") for k in self.kinds]
        self.actors: list[tuple[int, EnactorState]] = []
        self._actor_ids: dict[tuple[int, EnactorState], int] = {}
        self._reads_view: list[bool] = []
        self.kvs: list[tuple[tuple[bytes, bytes], ...]] = []
        self._kv_ids: dict[tuple[tuple[bytes, bytes], ...], int] = {}
        self.logs: list[tuple[tuple[str, int], ...]] = []
        self._log_ids: dict[tuple[tuple[str, int], ...], int] = {}
        self._alive: list[int] = []  # per log: the view id of the live plans
        self.views: list[tuple[int, ...]] = []
        self._view_ids: dict[tuple[int, ...], int] = {}
        self.changes: list[tuple[frozenset[bytes], bool]] = [(frozenset(), False)]
        self._change_ids: dict[tuple[frozenset[bytes], bool], int] = {self.changes[0]: 0}
        self._key_ids: dict[bytes, int] = {}
        self._choices: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._moves: dict[tuple[int, int, int, int], Outcome] = {}
        self._options: dict[tuple[int, int, int, int], tuple[Option, ...]] = {}
        self._stale: dict[tuple[int, int], int] = {}
        self._aged: dict[int, dict[int, int]] = {}  # per change id: entry -> entry after it
        self._endpoints: dict[int, dict[str, tuple[int, bool, str]]] = {}
        self._violations: dict[tuple[int, int, int], list[tuple[str, str]]] = {}
        self._meta_prefix = (META_ROOT + "/").encode()
        self.no_view = self.view_id(())

    @cache  # noqa: B019 - a World lives as long as one exploration
    def plan(self, generation: int) -> Plan:
        name = plan_name(REGION, generation)
        return Plan(name, generation, self.config.endpoints_of(generation), POOL, f"uid-{name}")

    # interning ------------------------------------------------------------------------------
    def actor_id(self, protocol: int, state: EnactorState) -> int:
        key = (protocol, state)
        found = self._actor_ids.get(key)
        if found is None:
            found = self._actor_ids[key] = len(self.actors)
            self.actors.append(key)
            self._reads_view.append(self.enactors[protocol].reads_view(state))
        return found

    def kv_id(self, kvs: tuple[tuple[bytes, bytes], ...]) -> int:
        found = self._kv_ids.get(kvs)
        if found is None:
            found = self._kv_ids[kvs] = len(self.kvs)
            self.kvs.append(kvs)
        return found

    def log_id(self, log: tuple[tuple[str, int], ...]) -> int:
        found = self._log_ids.get(log)
        if found is None:
            found = self._log_ids[log] = len(self.logs)
            self.logs.append(log)
            self._alive.append(self.view_id(_view_of(log, len(log))))
        return found

    def view_id(self, generations: tuple[int, ...]) -> int:
        found = self._view_ids.get(generations)
        if found is None:
            found = self._view_ids[generations] = len(self.views)
            self.views.append(generations)
        return found

    def change_id(self, changed: frozenset[bytes], meta_written: bool) -> int:
        key = (changed, meta_written)
        found = self._change_ids.get(key)
        if found is None:
            found = self._change_ids[key] = len(self.changes)
            self.changes.append(key)
        return found

    def key_revision(self, key: bytes) -> int:
        """The canonical mod revision of `key` while unchanged: one per key, from 2 up."""
        found = self._key_ids.get(key)
        if found is None:
            found = self._key_ids[key] = len(self._key_ids) + 2
        return found

    # canonical revisions ----------------------------------------------------------------------
    def canon(self, state: EnactorState, kvs: dict[bytes, KeyValue]) -> EnactorState:
        """`state` with every revision it holds replaced by the canonical one that answers every
        compare a request can make the same way, now and later: a revision it read that the key
        still has becomes the key's canonical revision; one the key no longer has, STALE (a
        write always takes a new revision, so it can never match again); 0 (the key was absent)
        stays 0, since MOD == 0 only asks whether the key is absent. A snapshot revision is only
        compared as "no metadata changed since": BIG if that still holds, STALE if not."""
        seen, snapshot = state.seen, state.snapshot
        if seen is not None:

            def held(key: bytes, revision: int) -> int:
                if revision == 0:
                    return 0
                cur = kvs.get(key)
                if cur is None or cur.mod_revision != revision:
                    return STALE
                return self.key_revision(key)

            seen = Observed(
                seen.name,
                seen.record,
                seen.served,
                held(meta_key(seen.name).encode(), seen.revision),
                tuple((k, held(k.encode(), r), p) for k, r, p in seen.keys),
            )
        if snapshot:
            unchanged = all(
                kv.mod_revision <= snapshot
                for key, kv in kvs.items()
                if key.startswith(self._meta_prefix)
            )
            snapshot = BIG if unchanged else STALE
        if seen is state.seen and snapshot == state.snapshot:
            return state
        return replace(state, seen=seen, snapshot=snapshot)

    def stale(self, actor: int, change: int) -> int:
        """Actor `actor` after another enactor's request changed the keys of `change`: what it
        read of them, and its snapshot if metadata was written, no longer matches."""
        key = (actor, change)
        found = self._stale.get(key)
        if found is None:
            protocol, state = self.actors[actor]
            changed, meta_written = self.changes[change]
            seen, snapshot = state.seen, state.snapshot
            if seen is not None:
                meta = meta_key(seen.name).encode()
                seen = Observed(
                    seen.name,
                    seen.record,
                    seen.served,
                    STALE if seen.revision and meta in changed else seen.revision,
                    tuple(
                        (k, STALE if r and k.encode() in changed else r, p) for k, r, p in seen.keys
                    ),
                )
            if snapshot == BIG and meta_written:
                snapshot = STALE
            aged = replace(state, seen=seen, snapshot=snapshot)
            found = self._stale[key] = self.actor_id(protocol, aged)
        return found

    def thaw(self, kv: int) -> MemoryEtcd:
        """The record store of `kv` as etcd holding it at revision BIG."""
        return MemoryEtcd(
            {
                k: KeyValue(k, v, self.key_revision(k), self.key_revision(k), 1)
                for k, v in self.kvs[kv]
            },
            BIG,
        )

    # views --------------------------------------------------------------------------------------
    def reads_view(self, actor: int) -> bool:
        return self._reads_view[actor]

    def view_choices(self, log: int, position: int) -> list[tuple[int, int]]:
        """Where a view at `position` can stand at its next read, and what it then holds: the
        earliest position of each distinct content (a later position showing the same plans
        is simulated by the earlier one, from which the view can still advance)."""
        key = (log, position)
        found = self._choices.get(key)
        if found is None:
            events = self.logs[log]
            found = []
            contents: set[int] = set()
            for q in range(position, len(events) + 1):
                view = self.view_id(_view_of(events, q))
                if view not in contents:
                    contents.add(view)
                    found.append((q, view))
            self._choices[key] = found
        return found

    # moves --------------------------------------------------------------------------------------
    def move(self, actor: int, kv: int, view: int, log: int) -> Outcome:
        """One move (with the local decisions that follow it) from canonical pieces."""
        key = (actor, kv, view, self._alive[log])
        found = self._moves.get(key)
        if found is None:
            found = self._moves[key] = self._run(actor, kv, view, self._alive[log])
        return found

    def _run(self, actor: int, kv: int, view: int, alive: int) -> Outcome:
        protocol, local = self.actors[actor]
        enactor = self.enactors[protocol]
        store = self.thaw(kv)
        before = dict(store.kvs)
        plans = MemoryPlanStore({self.plan(g).name: self.plan(g) for g in self.views[alive]})
        state, _, _ = move(
            enactor,
            local,
            [self.plan(g) for g in self.views[view]],
            executor(MemoryRecordStore(store), plans),
        )
        while (step := local_step(enactor, state)) is not None:
            state = step.state
        after = store.kvs
        changed = frozenset(
            k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
        )
        meta_written = any(k.startswith(self._meta_prefix) and k in after for k in changed)
        deleted = next((p.generation for kind, p in plans.log if kind == "DELETED"), 0)
        return (
            self.actor_id(protocol, self.canon(state, after)),
            self.kv_id(tuple(sorted((k, v.value) for k, v in after.items()))),
            deleted,
            self.change_id(changed, meta_written) if changed else 0,
        )

    # whole states ------------------------------------------------------------------------------
    def initial(self) -> State:
        entries = sorted(
            self.actor_id(self.kinds.index(k), EnactorState()) * POSITIONS
            for k in self.config.kinds()
        )
        return (0, self.log_id(()), self.kv_id(()), *entries)

    def create(self, state: State) -> State:
        created, log = state[0], state[1]
        grown = self.log_id((*self.logs[log], ("ADDED", created + 1)))
        return (created + 1, grown, *state[2:])

    def options(self, actor: int, kv: int, log: int, position: int) -> tuple[Option, ...]:
        """Every distinct move of an enactor `actor` whose view stands at `position`, from the
        record store `kv` and the watch log `log`: (view position after, its entry after, the
        kv after, the log after, the change id, whether a store changed). A move that changes
        nothing only advances the view, which the position it started from simulates; a
        later position leading to the same move is simulated by the earlier one."""
        key = (actor, kv, log, position)
        found = self._options.get(key)
        if found is None:
            if self._reads_view[actor]:
                choices = self.view_choices(log, position)
            else:
                choices = [(position, self.no_view)]
            outcomes: set[tuple[int, int, int]] = set()
            listed: list[Option] = []
            for q, view in choices:
                new_actor, new_kv, deleted, change = self.move(actor, kv, view, log)
                outcome = (new_actor, new_kv, deleted)
                if outcome == (actor, kv, 0) or outcome in outcomes:
                    continue
                outcomes.add(outcome)
                new_log = self.log_id((*self.logs[log], ("DELETED", deleted))) if deleted else log
                changed = new_kv != kv or bool(deleted)
                listed.append((q, new_actor * POSITIONS + q, new_kv, new_log, change, changed))
            found = self._options[key] = tuple(listed)
        return found

    def successors(self, state: State) -> Iterator[tuple[Label, State, bool]]:
        """Every next state, with its label and whether the stores changed (only then can an
        invariant break: a new plan is one no record uses yet)."""
        created, log, kv = state[0], state[1], state[2]
        if created < self.config.plans:
            yield (-1, 0), self.create(state), False
        entries = state[3:]
        previous = -1
        for i, e in enumerate(entries):
            if e == previous:
                continue  # symmetric: moving an identical enactor leads to the same state
            previous = e
            others = [*entries[:i], *entries[i + 1 :]]
            for q, moved, new_kv, new_log, change, changed in self.options(
                e // POSITIONS, kv, log, e % POSITIONS
            ):
                if change:
                    # what the others read of the keys it changed no longer matches
                    aged = self._aged.get(change)
                    if aged is None:
                        aged = self._aged[change] = {}
                    rest = [moved]
                    for other in others:
                        found = aged.get(other)
                        if found is None:
                            found = aged[other] = self.aged(other, change)
                        rest.append(found)
                else:
                    rest = [*others, moved]
                rest.sort()
                yield (i, q), (created, new_log, new_kv, *rest), changed

    def aged(self, entry: int, change: int) -> int:
        """The entry `entry` (actor and view position) after another enactor's `change`."""
        return self.stale(entry // POSITIONS, change) * POSITIONS + entry % POSITIONS

    def live_plans(self, state: State) -> tuple[int, ...]:
        """The generations of the plans that exist in `state`."""
        return self.views[self._alive[state[1]]]

    def violations(self, before: State, after: State) -> list[tuple[str, str]]:
        key = (before[2], after[2], self._alive[after[1]])
        found = self._violations.get(key)
        if found is None:
            alive = {plan_name(REGION, g) for g in self.views[key[2]]}
            found = self._violations[key] = violations_between(
                self.endpoint_states(before), self.endpoint_states(after), alive
            )
        return found

    def endpoint_states(self, state: State) -> dict[str, tuple[int, bool, str]]:
        kv = state[2]
        found = self._endpoints.get(kv)
        if found is None:
            found = self._endpoints[kv] = endpoints_in(self.kvs[kv])
        return found


def _view_of(log: Sequence[tuple[str, int]], position: int) -> tuple[int, ...]:
    alive: dict[int, None] = {}
    for kind, gen in log[:position]:
        if kind == "DELETED":
            alive.pop(gen, None)
        else:
            alive[gen] = None
    return tuple(alive)


def endpoints_in(kvs: Sequence[tuple[bytes, bytes] | KVKey]) -> dict[str, tuple[int, bool, str]]:
    """Every endpoint with metadata in these record-store keys (key, value, ...): (generation,
    served?, plan)."""
    meta_prefix = (META_ROOT + "/").encode()
    served: set[str] = set()
    out: dict[str, tuple[int, bool, str]] = {}
    for kv in kvs:
        if kv[0].startswith(b"/skydns/"):
            served.add(name_of_key(kv[0].decode()))
    for kv in kvs:
        if kv[0].startswith(meta_prefix):
            rec = decode_meta(kv[1])
            out[rec.name] = (rec.generation, rec.name in served, rec.plan)
    return out


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
    with without_cycle_collection():
        return _search(config, now, stop_at_first, max_seconds)


@contextlib.contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector off for the search: the search makes millions of
    tuples and dictionaries and no cycles (reference counting frees all it drops), but each of
    the collector's passes walks the containers it tracks, the states seen among them: a fifth
    to a third of the search's CPU (3x5x2 guarded: 20.3 and 21.5 s with it, 17.4 and 14.6 s
    without). On again afterwards if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _search(config: Config, now: float | None, stop_at_first: bool, max_seconds: float) -> Result:
    """The breadth-first search. It keeps the states seen and each level's states in the order
    they were found, not a parent per state: a trace is found again afterwards, by `_path_to`,
    for the few states that broke an invariant (3x5x2 guarded, each way three times in turn:
    15.3 to 16.1 CPU s and 937 MB with a parent per state, 12.8 to 13.4 CPU s and 528 MB
    without)."""
    clock = time.perf_counter
    start = clock() if now is None else now
    world = World(config)
    result = Result(config)
    init = world.initial()
    seen: set[State] = {init}
    levels: list[list[State]] = [[init]]
    found: dict[str, tuple[int, State, Label, str]] = {}  # invariant: depth, state, label, detail
    expanded, transitions = 0, 0
    successors, violations, max_states = world.successors, world.violations, config.max_states
    while levels[-1]:
        depth = len(levels) - 1
        following: list[State] = []
        for state in levels[-1]:
            expanded += 1
            if max_seconds and expanded % 1000 == 0 and clock() - start > max_seconds:
                result.complete = False
                break
            for label, nxt, changed in successors(state):
                transitions += 1
                if changed:
                    for inv, detail in violations(state, nxt):
                        if inv not in found:
                            found[inv] = (depth, state, label, detail)
                            if result.first_violation_seconds is None:
                                result.first_violation_seconds = clock() - start
                if nxt in seen:
                    continue
                if len(seen) >= max_states:
                    result.complete = False
                    continue
                seen.add(nxt)
                following.append(nxt)
            if stop_at_first and found:
                result.complete = False
                break
        if not result.complete:
            break
        if following:
            result.depth += 1
        levels.append(following)
    result.transitions = transitions
    result.states = len(seen)
    for inv in sorted(found):
        depth, before, label, detail = found[inv]
        labels = [*_path_to(world, levels, depth, before), (before, label)]
        trace = replay(config, labels, world)
        result.violations.append(Violation(inv, INVARIANTS[inv], detail, trace))
    result.seconds = clock() - start
    return result


def _path_to(
    world: World, levels: list[list[State]], depth: int, state: State
) -> list[tuple[State, Label]]:
    """The path by which the search first reached `state` (found at level `depth`): going back
    a level at a time, the first state of the level before, in the order they were expanded,
    with `state` among its successors, and its first label to it. That is the state and label
    that added it, so the trace is the one a parent per state would give, a shortest one."""
    path: list[tuple[State, Label]] = []
    for level in reversed(levels[:depth]):
        path.append(
            next((p, label) for p in level for label, nxt, _ in world.successors(p) if nxt == state)
        )
        state = path[-1][0]
    return path[::-1]


def replay(config: Config, path: list[tuple[State, Label]], world: World) -> tuple[Step, ...]:
    """Re-run a path with named enactors, to tell it in the incident's words, one live move per
    step (a local decision the explorer took along with a move is a step of its own here). The
    named enactors' canonical entries are kept in step with the explorer's, to find which of
    them a label's sorted position stands for."""
    names = ENACTOR_NAMES[: config.enactors]
    named = {n: config.enactor(n, p) for n, p in zip(names, config.protocols, strict=True)}
    local = {n: EnactorState() for n in names}
    entry = {
        n: world.actor_id(world.kinds.index(k), EnactorState()) * POSITIONS
        for n, k in zip(names, config.kinds(), strict=True)
    }
    ps, kv = MemoryPlanStore(), MemoryEtcd()
    execute = executor(MemoryRecordStore(kv), ps)
    created = 0
    steps = []
    for number, (before, (index, pos)) in enumerate(path, 1):
        if index < 0:
            created += 1
            ps.add(world.plan(created))
            steps.append(Step("planner", (f"planner creates plan g{created}",)))
            continue
        target = before[3 + index]
        mover = next(n for n in names if entry[n] == target)
        actor = target // POSITIONS
        read = world.reads_view(actor)
        view_id = dict(world.view_choices(before[1], 0))[pos] if read else world.no_view
        new_actor, _, _, change = world.move(actor, before[2], view_id, before[1])
        for n in names:
            if n != mover and change:
                entry[n] = world.stale(entry[n] // POSITIONS, change) * POSITIONS + (
                    entry[n] % POSITIONS
                )
        entry[mover] = new_actor * POSITIONS + pos
        view = view_at(ps.log, pos)
        chosen = named[mover].decide(local[mover], view)
        texts = [e.describe() for e in chosen.events]
        local[mover] = chosen.state
        if chosen.request is not None:
            request = chosen.request
            response = execute(request)
            local[mover], more = named[mover].absorb(local[mover], request, response)
            answer = _answer(response)
            if answer or not more:
                texts.append(f"({describe(request)}{': ' + answer if answer else ''})")
            texts += [e.describe() for e in more]
        steps.append(
            Step(
                mover,
                tuple(texts) or ("(local step)",),
                tuple(sorted(p.generation for p in view)) if read else None,
            )
        )
        # (after the last, violating move, the decisions that rode along with it do not matter)
        while number < len(path) and (then := local_step(named[mover], local[mover])) is not None:
            local[mover] = then.state
            steps.append(Step(mover, tuple(e.describe() for e in then.events) or ("(local step)",)))
    return tuple(steps)


def _answer(response: Response) -> str:
    if isinstance(response, Observed):
        rec = response.record
        if rec is None:
            return "no record"
        state = "EMPTY" if response.empty else "served"
        return f"g{rec.generation} by {rec.enactor}, {state}"
    return ""
