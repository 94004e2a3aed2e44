"""The Enactor protocol as atomic steps, shared by the live operators and the interleaving
checker. One call of `step` does exactly one thing against the stores (a pick, one endpoint's
write, or a clean-up), so a scheduler can interleave enactors step by step.

Two protocols:

- UNGUARDED (faithful to the incident): the freshness check is made once, at the pick; each
  endpoint write is unconditional; clean-up deletes plans more than `keep` generations older than
  the one just applied and clears the record keys that point at them; a record whose active plan
  is gone is left alone ("stuck"): nothing repairs it.
- GUARDED: every write is a compare-and-swap on the endpoint's revision that never moves an
  endpoint to an older generation (a refused CAS is counted and decided again after a re-read);
  an empty or orphaned endpoint is repaired from the newest plan; clean-up never deletes a plan
  a record still uses, deletes with a version precondition, and never clears a record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol as Interface

from dnsrace.core.plans import Plan, cleanup_candidates, newest
from dnsrace.core.records import EndpointRecord, Observed, RecordStore


class Protocol(StrEnum):
    UNGUARDED = "unguarded"
    GUARDED = "guarded"
    # Checker-only: the unguarded walk with a guarded clean-up (clean-up serialised against
    # records in use), to show that guarding clean-up alone does not keep I2.
    CLEANUP_ONLY = "cleanup-only"

    @property
    def guards_writes(self) -> bool:
        return self is Protocol.GUARDED

    @property
    def guards_cleanup(self) -> bool:
        return self is not Protocol.UNGUARDED


class PlanStore(Interface):
    def list(self) -> list[Plan]: ...
    def delete(self, plan: Plan, precondition: bool) -> bool: ...


class Phase(StrEnum):
    IDLE = "Idle"
    WALKING = "Walking"
    CLEANUP = "CleaningUp"


@dataclass(frozen=True)
class EnactorState:
    """What one enactor carries between steps (hashable: the checker stores it)."""

    phase: Phase = Phase.IDLE
    plan: Plan | None = None
    index: int = 0  # next endpoint of plan.endpoints to write
    last_applied: int = 0


@dataclass(frozen=True)
class Event:
    """Something a step did, for the timeline, Events, metrics and the checker's traces.

    kinds: picked, not-fresh, wrote, skipped-newer, cas-conflict, stuck, repaired,
    plan-deleted, delete-refused, record-cleared, finished."""

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
        return self.kind == "wrote" and self.previous > self.generation

    @property
    def active_plan_deleted(self) -> bool:
        return self.kind == "plan-deleted" and bool(self.active_on)

    def describe(self) -> str:
        who, ep, g = f"enactor {self.enactor}", self.endpoint, f"g{self.generation}"
        if self.kind == "picked":
            return f"{who} picks plan {g} (freshness check passes)"
        if self.kind in ("wrote", "repaired"):
            was = f"g{self.previous} (by {self.previous_enactor})" if self.previous else "nothing"
            if self.kind == "repaired":
                return f"{who} repairs {ep} from newest plan {g} (it had {was})"
            stale = "STALE OVERWRITE: " if self.stale_overwrite else ""
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
        if self.kind == "finished":
            return f"{who} applied {g} to every endpoint; clean-up done"
        return f"{who} {self.kind} {self.plan} {self.detail}".strip()


def _record(plan: Plan, name: str, enactor: str) -> EndpointRecord:
    return EndpointRecord(name, plan.generation, plan.name, enactor, plan.targets)


@dataclass(frozen=True)
class Enactor:
    """One enactor's identity and settings; `step` advances its state by one atomic action."""

    ident: str
    protocol: Protocol
    keep: int

    def step(
        self, state: EnactorState, plans: PlanStore, records: RecordStore
    ) -> tuple[EnactorState, list[Event]]:
        if state.phase is Phase.IDLE:
            return self._pick(state, plans, records)
        if state.phase is Phase.WALKING:
            return self._write(state, plans, records)
        return self._cleanup(state, plans, records)

    # -- pick: the freshness check ----------------------------------------------------------
    def _pick(
        self, state: EnactorState, plans: PlanStore, records: RecordStore
    ) -> tuple[EnactorState, list[Event]]:
        plan = newest(plans.list())
        if plan is None:
            return state, []
        if not self.protocol.guards_writes:
            # Checked once, here: newer than what this enactor applied and than the first
            # endpoint has. Never again during the walk.
            first = records.read(plan.endpoints[0]).record
            fresh = plan.generation > max(state.last_applied, first.generation if first else 0)
        else:
            fresh = plan.generation > state.last_applied or self._needs_work(plan, plans, records)
        if not fresh:
            return state, []
        walking = EnactorState(Phase.WALKING, plan, 0, state.last_applied)
        return walking, [Event("picked", self.ident, generation=plan.generation, plan=plan.name)]

    def _needs_work(self, plan: Plan, plans: PlanStore, records: RecordStore) -> bool:
        """Guarded audit: any endpoint empty, orphaned or behind the newest plan."""
        alive = {p.name for p in plans.list()}
        for obs in records.read_all(plan.endpoints).values():
            if obs.record is None or obs.empty or obs.record.plan not in alive:
                return True
            if obs.record.generation < plan.generation:
                return True
        return False

    # -- one endpoint ---------------------------------------------------------------------
    def _write(
        self, state: EnactorState, plans: PlanStore, records: RecordStore
    ) -> tuple[EnactorState, list[Event]]:
        assert state.plan is not None
        plan = state.plan
        name = plan.endpoints[state.index]
        advanced = replace(state, index=state.index + 1)
        if advanced.index >= len(plan.endpoints):
            advanced = replace(advanced, phase=Phase.CLEANUP)
        obs = records.read(name)
        if not self.protocol.guards_writes:
            return self._write_unguarded(plan, name, obs, advanced, plans, records)
        return self._write_guarded(plan, name, obs, state, advanced, plans, records)

    def _write_unguarded(
        self,
        plan: Plan,
        name: str,
        obs: Observed,
        advanced: EnactorState,
        plans: PlanStore,
        records: RecordStore,
    ) -> tuple[EnactorState, list[Event]]:
        current = obs.record
        if current is not None and current.plan not in {p.name for p in plans.list()}:
            # The applied plan is gone: the delta cannot be computed and the endpoint is left
            # as it is. This is how the incident's record stayed empty.
            detail = f"its active plan {current.plan} no longer exists (inconsistent state)"
            return advanced, [
                Event(
                    "stuck",
                    self.ident,
                    name,
                    plan.generation,
                    current.generation,
                    current.enactor,
                    plan.name,
                    detail=detail,
                )
            ]
        records.write(_record(plan, name, self.ident), expect_revision=None)
        return advanced, [self._wrote(plan, name, current)]

    def _write_guarded(
        self,
        plan: Plan,
        name: str,
        obs: Observed,
        state: EnactorState,
        advanced: EnactorState,
        plans: PlanStore,
        records: RecordStore,
    ) -> tuple[EnactorState, list[Event]]:
        current = obs.record
        alive = {p.name: p for p in plans.list()}
        broken = current is None or obs.empty or current.plan not in alive
        source, kind = plan, "wrote"
        if broken and current is not None:
            latest = newest(alive.values())
            if latest is not None and latest.generation >= plan.generation:
                source = latest
            kind = "repaired"
        elif current is not None and current.generation > plan.generation:
            return advanced, [
                Event(
                    "skipped-newer",
                    self.ident,
                    name,
                    plan.generation,
                    current.generation,
                    current.enactor,
                    plan.name,
                )
            ]
        elif current is not None and current.generation == plan.generation:
            return advanced, []
        if not source.targets:
            return advanced, [
                Event("stuck", self.ident, name, plan.generation, detail="empty plan refused")
            ]
        if records.write(_record(source, name, self.ident), expect_revision=obs.revision):
            event = self._wrote(source, name, current)
            return advanced, [replace(event, kind=kind)]
        return state, [Event("cas-conflict", self.ident, name, plan.generation, plan=plan.name)]

    def _wrote(self, plan: Plan, name: str, current: EndpointRecord | None) -> Event:
        return Event(
            "wrote",
            self.ident,
            name,
            plan.generation,
            current.generation if current else 0,
            current.enactor if current else "",
            plan.name,
        )

    # -- clean-up ---------------------------------------------------------------------------
    def _cleanup(
        self, state: EnactorState, plans: PlanStore, records: RecordStore
    ) -> tuple[EnactorState, list[Event]]:
        assert state.plan is not None
        applied = state.plan
        existing = plans.list()
        candidates = cleanup_candidates(existing, applied.generation, self.keep)
        endpoints = sorted(set(records.names()) | set(applied.endpoints))
        observed = records.read_all(endpoints)
        users: dict[str, list[str]] = {}
        for obs in observed.values():
            if obs.record is not None and not obs.empty:
                users.setdefault(obs.record.plan, []).append(obs.name)
        events: list[Event] = []
        deleted: list[str] = []
        for doomed in candidates:
            in_use = tuple(users.get(doomed.name, ()))
            guarded = self.protocol.guards_cleanup
            if guarded and in_use:
                continue
            if plans.delete(doomed, precondition=guarded):
                deleted.append(doomed.name)
                events.append(
                    Event(
                        "plan-deleted",
                        self.ident,
                        generation=applied.generation,
                        plan=doomed.name,
                        active_on=in_use,
                    )
                )
            else:
                events.append(Event("delete-refused", self.ident, plan=doomed.name))
        if not self.protocol.guards_cleanup and deleted:
            for name in records.clear_keys_of_plans(deleted):
                plan_of = observed[name].record if name in observed else None
                events.append(
                    Event(
                        "record-cleared",
                        self.ident,
                        name,
                        applied.generation,
                        plan=plan_of.plan if plan_of else "",
                    )
                )
        events.append(
            Event("finished", self.ident, generation=applied.generation, plan=applied.name)
        )
        idle = EnactorState(Phase.IDLE, None, 0, max(state.last_applied, applied.generation))
        return idle, events


def walk_to_idle(
    enactor: Enactor,
    state: EnactorState,
    plans: PlanStore,
    records: RecordStore,
    limit: int = 100_000,
) -> tuple[EnactorState, list[Event]]:
    """Run steps until the enactor is idle again (or a pick finds nothing to do)."""
    events: list[Event] = []
    for _ in range(limit):
        state, new = enactor.step(state, plans, records)
        events += new
        if state.phase is Phase.IDLE:
            return state, events
    raise RuntimeError(f"enactor {enactor.ident} did not return to idle in {limit} steps")
