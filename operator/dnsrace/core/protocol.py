"""The Enactor protocols as a sans-I/O state machine, shared by the live operators and the
interleaving checker. An enactor's move is: `decide` (from its local state and its own view of
the plans) the next store request, the store answers, `absorb` the answer. Each request is one
store request (`dnsrace.core.requests`), so the checker interleaves enactors exactly where the
live enactors can be interleaved; `decide` reads the view at most once per move, and `absorb`
never reads it, so a view that changes between requests is modelled too.

Protocols (`Variant`):

- UNGUARDED (faithful to the incident): freshness is checked once, at the pick (newer than what
  this enactor applied and than the first endpoint); each endpoint is read, then written
  unconditionally; clean-up deletes plans more than `keep` generations older than the one just
  applied, then deletes the record keys written from them; an endpoint whose active plan is not
  in the enactor's view is left alone ("stuck"): nothing repairs it.
- GUARDED_V1 (the first fix, kept to show it was not enough): CAS writes that never move an
  endpoint to an older generation, except that an empty or *orphaned* endpoint (its plan not in
  the view) is "repaired" from the newest plan in the view; clean-up skips plans a record uses
  in its snapshot, then deletes with a precondition. With a lagging view, "orphaned" is "not yet
  seen", and the repair moves an endpoint back (I2); "in use" and "delete" are two requests.
- GUARDED (the fix): every write is a CAS (metadata and keys unchanged since the read) that
  only moves an endpoint to a newer generation (or re-fills an empty one at the same), and only
  while the plan is not retired; it never consults the view, so lag cannot mislead it. Clean-up
  decides "in use" and "retired" in one record-store transaction (`RetirePlan`: no endpoint's
  metadata changed since the snapshot that showed the plan unused), and only then deletes the
  DNSPlan. No record is ever cleared and no empty target set is written.
- CLEANUP_ONLY (checker only): the unguarded walk with the first fix's clean-up, to show that a
  clean-up guard alone does not keep I2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from dnsrace.core.plans import Plan, cleanup_candidates, newest
from dnsrace.core.records import EndpointRecord, Observed
from dnsrace.core.requests import (
    ClearKeys,
    DeletePlan,
    ReadAll,
    ReadEndpoint,
    Request,
    Response,
    RetirePlan,
    Snapshot,
    WriteEndpoint,
    WriteResult,
)

# Guarded walks of plans this long or longer begin where each enactor's `start` says.
SPREAD_FROM = 8


class Variant(StrEnum):
    """Which protocol an enactor runs (its spec.protocol)."""

    UNGUARDED = "unguarded"
    GUARDED = "guarded"
    GUARDED_V1 = "guarded-v1"
    CLEANUP_ONLY = "cleanup-only"

    @property
    def cas_writes(self) -> bool:
        return self in (Variant.GUARDED, Variant.GUARDED_V1)


class Pc(StrEnum):
    """Where an enactor is: what its next move does."""

    IDLE = "Idle"  # pick the newest plan of the view
    PICKING = "Picking"  # answer of the freshness read (unguarded) or the audit (guarded)
    READING = "Reading"  # read endpoint `index`
    WRITING = "Writing"  # write endpoint `index` over `seen`
    CLEANUP = "CleaningUp"  # choose candidates from the view, read every record
    DELETING = "Deleting"  # work through `todo`
    CLEARING = "Clearing"  # unguarded: delete keys of deleted plans (`clears`)

    @property
    def phase(self) -> str:
        """The coarse phase shown in Enactor status."""
        if self in (Pc.IDLE, Pc.PICKING):
            return "Idle"
        if self in (Pc.READING, Pc.WRITING):
            return "Walking"
        return "CleaningUp"


@dataclass(frozen=True)
class EnactorState:
    """What one enactor carries between moves (hashable: the checker stores it)."""

    pc: Pc = Pc.IDLE
    plan: Plan | None = None
    index: int = 0  # how far the walk has gone: the endpoint is (first + index) mod n
    first: int = 0  # where this walk began in plan.endpoints (guarded: the enactor's start)
    last_applied: int = 0
    seen: Observed | None = None  # the read a write follows
    alive: frozenset[str] = frozenset()  # guarded-v1's audit: the view's plans at the pick
    snapshot: int = 0  # guarded clean-up: the revision of the snapshot it decided on
    todo: tuple[tuple[Plan, str, tuple[str, ...]], ...] = ()  # (plan, action, endpoints using it)
    deleted: tuple[str, ...] = ()  # unguarded: plans this clean-up deleted
    clears: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (name, keys, plans)

    @property
    def phase(self) -> str:
        return self.pc.phase

    @property
    def endpoint(self) -> str:
        """The endpoint the walk is at (READING or WRITING)."""
        assert self.plan is not None
        endpoints = self.plan.endpoints
        return endpoints[(self.first + self.index) % len(endpoints)]

    def revisions(self) -> list[int]:
        out = [self.snapshot] if self.snapshot else []
        if self.seen is not None:
            out.append(self.seen.revision)
            out += [rev for _, rev, _ in self.seen.keys]
        return out


@dataclass(frozen=True)
class Event:
    """Something a move did, for the timeline, Events, metrics and the checker's traces.

    kinds: picked, wrote, repaired, skipped-newer, cas-conflict, stuck, plan-retired,
    retire-refused, plan-deleted, delete-refused, record-cleared, finished."""

    kind: str
    enactor: str
    endpoint: str = ""
    generation: int = 0  # the plan this enactor carries
    previous: int = 0  # generation on the endpoint before a write
    previous_enactor: str = ""
    plan: str = ""
    active_on: tuple[str, ...] = ()  # for plan-deleted: endpoints still using the plan
    detail: str = ""

    @property
    def stale_overwrite(self) -> bool:
        return self.kind in ("wrote", "repaired") and self.previous > self.generation

    @property
    def active_plan_deleted(self) -> bool:
        return self.kind == "plan-deleted" and bool(self.active_on)

    def describe(self) -> str:
        who, ep, g = f"enactor {self.enactor}", self.endpoint, f"g{self.generation}"
        if self.kind == "picked":
            return f"{who} picks plan {g} (freshness check passes)"
        if self.kind in ("wrote", "repaired"):
            was = f"g{self.previous} (by {self.previous_enactor})" if self.previous else "nothing"
            stale = "STALE OVERWRITE: " if self.stale_overwrite else ""
            if self.kind == "repaired":
                return f"{stale}{who} repairs {ep} from newest plan {g} (it had {was})"
            return f"{stale}{who} writes {g} on {ep}, replacing {was}"
        if self.kind == "plan-deleted":
            active = f"; it is ACTIVE on {', '.join(self.active_on)}" if self.active_on else ""
            return f"{who} clean-up deletes plan {self.plan}{active}"
        if self.kind == "record-cleared":
            return f"{who} clears {ep} (keys of deleted {self.plan}): record EMPTY"
        if self.kind == "stuck":
            return f"{who} cannot apply {g} on {ep}: {self.detail}"
        if self.kind == "cas-conflict":
            return f"{who} CAS refused on {ep} (re-read, decide again)"
        if self.kind == "skipped-newer":
            return f"{who} skips {ep}: it already has g{self.previous} > {g}"
        if self.kind == "plan-retired":
            return f"{who} retires plan {self.plan} (no record uses it)"
        if self.kind == "retire-refused":
            return f"{who} does not retire {self.plan}: records changed since its snapshot"
        if self.kind == "abandoned":
            return f"{who} abandons {g}: the plan was retired meanwhile"
        if self.kind == "finished":
            return f"{who} applied {g} to every endpoint; clean-up done"
        return f"{who} {self.kind} {self.plan} {self.detail}".strip()


def record_of(plan: Plan, name: str, enactor: str) -> EndpointRecord:
    return EndpointRecord(name, plan.generation, plan.name, enactor, plan.targets)


@dataclass(frozen=True)
class Move:
    """What `decide` chose: the new local state, events so far, and the request to send (None:
    the move was local only, or there is nothing to do)."""

    state: EnactorState
    events: tuple[Event, ...]
    request: Request | None


@dataclass(frozen=True)
class Enactor:
    """One enactor's identity and settings; `decide` and `absorb` are its protocol."""

    ident: str
    protocol: Variant
    keep: int
    start: float = 0.0  # guarded: where in a long plan's endpoints the walk begins (0..1)
    spread_from: int = SPREAD_FROM  # plans with fewer endpoints are walked from the first

    def first_endpoint(self, plan: Plan) -> int:
        """The index a walk of `plan` begins at. Over a long plan (`spread_from` endpoints or
        more) guarded enactors spread out, each from its own `start`, so that at first they
        write different endpoints instead of racing for the same one; the walk still visits
        every endpoint once, wrapping round. Unguarded and guarded-v1 enactors, and every
        walk of a short plan, begin at the first endpoint, as the incident's enactors did (the
        unguarded freshness check reads that endpoint at the pick)."""
        n = len(plan.endpoints)
        if self.protocol is not Variant.GUARDED or n < max(self.spread_from, 1):
            return 0
        return int(self.start * n) % n

    # -- the two halves of a move -----------------------------------------------------------
    def reads_view(self, state: EnactorState) -> bool:
        """Whether the next `decide` from `state` reads the plan view."""
        if state.pc in (Pc.IDLE, Pc.CLEANUP):
            return True
        return state.pc is Pc.WRITING and self.protocol is not Variant.GUARDED

    def decide(self, state: EnactorState, view: Sequence[Plan]) -> Move:
        """Local decisions up to the next request, reading `view` at most once. A move also
        ends where a fault can be injected (after a pick, before an endpoint's read, before
        clean-up): the live runner applies faults between moves."""
        state, events, request = self._decide_once(state, view)
        return Move(state, tuple(events), request)

    def absorb(
        self, state: EnactorState, request: Request, response: Response
    ) -> tuple[EnactorState, list[Event]]:
        if state.pc is Pc.PICKING:
            return self._picked(state, response)
        if state.pc is Pc.READING:
            return replace(state, pc=Pc.WRITING, seen=_observed(response)), []
        if state.pc is Pc.WRITING:
            assert isinstance(request, WriteEndpoint)
            assert isinstance(response, WriteResult)
            return self._written(state, request, response)
        if state.pc is Pc.CLEANUP:
            assert isinstance(response, Snapshot)
            return self._snapshot_for_cleanup(state, response), []
        if state.pc is Pc.DELETING:
            return self._deleted(state, request, response)
        if isinstance(request, ReadAll):
            assert isinstance(response, Snapshot)
            return self._clear_list(state, response), []
        assert state.pc is Pc.CLEARING
        assert isinstance(request, ClearKeys)
        return self._cleared(state, request, response)

    # -- decide -------------------------------------------------------------------------------
    def _decide_once(
        self, state: EnactorState, view: Sequence[Plan]
    ) -> tuple[EnactorState, list[Event], Request | None]:
        pc = state.pc
        if pc is Pc.IDLE:
            return self._pick(state, view)
        plan = state.plan
        assert plan is not None
        if pc is Pc.READING:
            return state, [], ReadEndpoint(state.endpoint)
        if pc is Pc.WRITING:
            return self._write(state, plan, view)
        if pc is Pc.CLEANUP:
            if not cleanup_candidates(view, plan.generation, self.keep):
                return self._finish(state)
            return replace(state, todo=_candidates(view, plan, self.keep)), [], ReadAll()
        if pc is Pc.DELETING:
            return self._next_deletion(state)
        if not state.clears:
            return self._finish(state)
        name, keys, plans = state.clears[0]
        return state, [], ClearKeys(name, keys, plans)

    def _pick(
        self, state: EnactorState, view: Sequence[Plan]
    ) -> tuple[EnactorState, list[Event], Request | None]:
        plan = newest(view)
        if plan is None:
            return state, [], None
        picking = replace(state, pc=Pc.PICKING, plan=plan)
        if not self.protocol.cas_writes:
            # Checked once, here: newer than this enactor's last and than the first endpoint.
            return picking, [], ReadEndpoint(plan.endpoints[0])
        if plan.generation > state.last_applied:
            return self._start_walk(replace(state, plan=plan))
        # guarded audit: has anything of this plan's endpoints fallen behind or emptied?
        return replace(picking, alive=frozenset(p.name for p in view)), [], ReadAll()

    def _start_walk(self, state: EnactorState) -> tuple[EnactorState, list[Event], None]:
        assert state.plan is not None
        walking = replace(
            state,
            pc=Pc.READING,
            index=0,
            first=self.first_endpoint(state.plan),
            seen=None,
            alive=frozenset(),
        )
        return (
            walking,
            [Event("picked", self.ident, generation=state.plan.generation, plan=state.plan.name)],
            None,
        )

    def _write(
        self, state: EnactorState, plan: Plan, view: Sequence[Plan]
    ) -> tuple[EnactorState, list[Event], Request | None]:
        seen = state.seen
        assert seen is not None
        current = seen.record
        name = seen.name
        if self.protocol is Variant.GUARDED:
            if current is not None and (
                current.generation > plan.generation
                or (current.generation == plan.generation and not seen.empty)
            ):
                skipped = self._event("skipped-newer", state, current)
                return (
                    self._advance(state),
                    [skipped] if current.generation > plan.generation else [],
                    None,
                )
            if not plan.targets:
                return self._advance(state), [self._stuck(state, "empty plan refused")], None
            intent = "repaired" if current is not None and seen.empty else "wrote"
            request = WriteEndpoint(record_of(plan, name, self.ident), seen, True, True, intent)
            return state, [], request
        alive = {p.name: p for p in view}
        if self.protocol is not Variant.GUARDED_V1:
            if current is not None and current.plan not in alive:
                # The applied plan is gone (as far as this enactor knows): the delta cannot be
                # computed and the endpoint is left as it is, as the incident's record was.
                detail = f"its active plan {current.plan} no longer exists (inconsistent state)"
                return self._advance(state), [self._stuck(state, detail, current)], None
            return state, [], WriteEndpoint(record_of(plan, name, self.ident), seen, False)
        # guarded-v1
        source, intent = plan, "wrote"
        broken = current is None or seen.empty or current.plan not in alive
        if broken and current is not None:
            latest = newest(alive.values())
            if latest is not None and latest.generation >= plan.generation:
                source = latest
            intent = "repaired"
        elif current is not None and current.generation > plan.generation:
            return self._advance(state), [self._event("skipped-newer", state, current)], None
        elif current is not None and current.generation == plan.generation:
            return self._advance(state), [], None
        if not source.targets:
            return self._advance(state), [self._stuck(state, "empty plan refused")], None
        request = WriteEndpoint(record_of(source, name, self.ident), seen, True, False, intent)
        return state, [], request

    def _next_deletion(
        self, state: EnactorState
    ) -> tuple[EnactorState, list[Event], Request | None]:
        if state.todo:
            plan, action, _ = state.todo[0]
            if action == "retire":
                return state, [], RetirePlan(plan.name, state.snapshot)
            return state, [], DeletePlan(plan, precondition=self.protocol is not Variant.UNGUARDED)
        if state.deleted and self.protocol is Variant.UNGUARDED:
            return replace(state, pc=Pc.CLEARING), [], ReadAll()
        return self._finish(state)

    def _finish(self, state: EnactorState) -> tuple[EnactorState, list[Event], None]:
        assert state.plan is not None
        done = Event("finished", self.ident, generation=state.plan.generation, plan=state.plan.name)
        idle = EnactorState(last_applied=max(state.last_applied, state.plan.generation))
        return idle, [done], None

    # -- absorb -------------------------------------------------------------------------------
    def _picked(self, state: EnactorState, response: Response) -> tuple[EnactorState, list[Event]]:
        plan = state.plan
        assert plan is not None
        idle = EnactorState(last_applied=state.last_applied)
        if isinstance(response, Observed):  # unguarded freshness check
            first = response.record.generation if response.record else 0
            if plan.generation > max(state.last_applied, first):
                walking, events, _ = self._start_walk(state)
                return walking, events
            return idle, []
        assert isinstance(response, Snapshot)
        for name in plan.endpoints:
            obs = response.observed(name)
            rec = obs.record
            if self.protocol is Variant.GUARDED_V1:
                behind = (
                    rec is None
                    or obs.empty
                    or rec.plan not in state.alive
                    or rec.generation < plan.generation
                )
            else:
                behind = (
                    rec is None
                    or rec.generation < plan.generation
                    or (rec.generation == plan.generation and obs.empty)
                )
            if behind:
                walking, events, _ = self._start_walk(state)
                return walking, events
        return idle, []

    def _written(
        self, state: EnactorState, request: WriteEndpoint, result: WriteResult
    ) -> tuple[EnactorState, list[Event]]:
        seen = request.seen
        if result.succeeded:
            current = result.replaced  # what the write really replaced (the store says)
            event = Event(
                request.intent,
                self.ident,
                seen.name,
                request.record.generation,
                current.generation if current else 0,
                current.enactor if current else "",
                request.record.plan,
            )
            return self._advance(state), [event]
        plan = state.plan
        assert plan is not None
        if result.plan_retired:
            idle = EnactorState(last_applied=state.last_applied)
            return idle, [
                Event("abandoned", self.ident, seen.name, plan.generation, plan=plan.name)
            ]
        conflict = Event("cas-conflict", self.ident, seen.name, plan.generation, plan=plan.name)
        return replace(state, pc=Pc.READING, seen=None), [conflict]

    def _snapshot_for_cleanup(self, state: EnactorState, snap: Snapshot) -> EnactorState:
        users: dict[str, list[str]] = {}
        for obs in snap.records:
            if obs.record is None:
                continue
            if self.protocol is Variant.GUARDED or not obs.empty:
                users.setdefault(obs.record.plan, []).append(obs.name)
        todo: list[tuple[Plan, str, tuple[str, ...]]] = []
        for plan, _, _ in state.todo:
            in_use = tuple(sorted(users.get(plan.name, ())))
            if self.protocol is Variant.UNGUARDED:
                todo.append((plan, "delete", in_use))
            elif in_use:
                continue
            elif self.protocol is Variant.GUARDED and plan.name not in snap.retired:
                todo.append((plan, "retire", ()))
            else:
                todo.append((plan, "delete", ()))
        deciding = replace(
            state, pc=Pc.DELETING, todo=tuple(todo), snapshot=snap.revision, deleted=()
        )
        return _forget_snapshot(deciding)

    def _deleted(
        self, state: EnactorState, request: Request, response: Response
    ) -> tuple[EnactorState, list[Event]]:
        plan, _, in_use = state.todo[0]
        rest = _forget_snapshot(replace(state, todo=state.todo[1:]))
        if isinstance(request, RetirePlan):
            if response:
                retired = replace(state, todo=((plan, "delete", in_use), *state.todo[1:]))
                return _forget_snapshot(retired), [
                    Event("plan-retired", self.ident, plan=plan.name)
                ]
            return rest, [Event("retire-refused", self.ident, plan=plan.name)]
        assert state.plan is not None
        if response:
            # only unguarded clean-up goes on to clear the keys of the plans it deleted
            done = (*state.deleted, plan.name) if self.protocol is Variant.UNGUARDED else ()
            deleted = replace(rest, deleted=done)
            event = Event(
                "plan-deleted",
                self.ident,
                generation=state.plan.generation,
                plan=plan.name,
                active_on=in_use,
            )
            return deleted, [event]
        return rest, [Event("delete-refused", self.ident, plan=plan.name)]

    def _clear_list(self, state: EnactorState, snap: Snapshot) -> EnactorState:
        """Unguarded: every key, of every endpoint, written from a plan this clean-up deleted."""
        doomed = set(state.deleted)
        clears = []
        for obs in snap.records:
            keys = tuple(k for k, _, p in obs.keys if p in doomed)
            if keys:
                plans = tuple(sorted({p for _, _, p in obs.keys if p in doomed}))
                clears.append((obs.name, keys, plans))
        return replace(state, clears=tuple(clears))

    def _cleared(
        self, state: EnactorState, request: ClearKeys, response: Response
    ) -> tuple[EnactorState, list[Event]]:
        rest = replace(state, clears=state.clears[1:])
        if not response:
            return rest, []
        assert state.plan is not None
        event = Event(
            "record-cleared",
            self.ident,
            request.name,
            state.plan.generation,
            plan=",".join(request.plans),
        )
        return rest, [event]

    # -- helpers ------------------------------------------------------------------------------
    def _advance(self, state: EnactorState) -> EnactorState:
        assert state.plan is not None
        index = state.index + 1
        if index >= len(state.plan.endpoints):
            return replace(state, pc=Pc.CLEANUP, index=index, first=0, seen=None, todo=())
        return replace(state, pc=Pc.READING, index=index, seen=None)

    def _event(self, kind: str, state: EnactorState, current: EndpointRecord) -> Event:
        assert state.plan is not None
        assert state.seen is not None
        return Event(
            kind,
            self.ident,
            state.seen.name,
            state.plan.generation,
            current.generation,
            current.enactor,
            state.plan.name,
        )

    def _stuck(
        self, state: EnactorState, detail: str, current: EndpointRecord | None = None
    ) -> Event:
        assert state.plan is not None
        assert state.seen is not None
        return Event(
            "stuck",
            self.ident,
            state.seen.name,
            state.plan.generation,
            current.generation if current else 0,
            current.enactor if current else "",
            state.plan.name,
            detail=detail,
        )


def _forget_snapshot(state: EnactorState) -> EnactorState:
    """A clean-up with no retirement left to decide never uses its snapshot again: drop it, so
    states that differ only there are one state (to the checker too)."""
    if state.snapshot and all(action != "retire" for _, action, _ in state.todo):
        return replace(state, snapshot=0)
    return state


def _observed(response: Response) -> Observed:
    assert isinstance(response, Observed)
    return response


def _candidates(
    view: Sequence[Plan], applied: Plan, keep: int
) -> tuple[tuple[Plan, str, tuple[str, ...]], ...]:
    return tuple((p, "delete", ()) for p in cleanup_candidates(view, applied.generation, keep))


Execute = Callable[[Request], Response]


def move(
    enactor: Enactor, state: EnactorState, view: Sequence[Plan], execute: Execute
) -> tuple[EnactorState, list[Event], Request | None]:
    """One whole move: decide, send the request (if any) through `execute`, absorb."""
    chosen = enactor.decide(state, view)
    events = list(chosen.events)
    if chosen.request is None:
        return chosen.state, events, None
    after, more = enactor.absorb(chosen.state, chosen.request, execute(chosen.request))
    return after, events + more, chosen.request


def local_step(enactor: Enactor, state: EnactorState) -> Move | None:
    """The next move if it is a purely local decision: it reads no view, sends no request and
    changes the state (a guarded skip, a clean-up with nothing left to do). Such a move touches
    nothing another enactor or the planner can see or change, so the checker takes it at once
    (`dnsrace.check.explorer`); None otherwise."""
    if enactor.reads_view(state):
        return None
    chosen = enactor.decide(state, ())
    if chosen.request is not None or chosen.state == state:
        return None
    return chosen


def run_to_idle(
    enactor: Enactor,
    state: EnactorState,
    view: Callable[[], Sequence[Plan]],
    execute: Execute,
    limit: int = 100_000,
) -> tuple[EnactorState, list[Event]]:
    """Moves until the enactor is idle again with nothing to do (tests, simulations)."""
    events: list[Event] = []
    for _ in range(limit):
        state, new, request = move(enactor, state, view(), execute)
        events += new
        if state.pc is Pc.IDLE and (request is None or not new):
            return state, events
    raise RuntimeError(f"enactor {enactor.ident} did not return to idle in {limit} moves")
