"""The Enactor: one enactor replica's settings (spec, changed by the scenario controller) and
what it reports of itself (status)."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.resources.common import PROTOCOLS, Condition, Fault
from dnsrace.core.schema import Object, field, item


@dataclass(frozen=True, kw_only=True)
class EnactorSpec(Object):
    zone: str | None = field(
        "The availability zone this enactor runs in (one enactor per zone).",
        max_length=32,
    )
    protocol: str = field(
        "unguarded (the incident's protocol), guarded (the fix), or guarded-v1 (the first fix, "
        "which a lagging plan view defeats; kept to show why).",
        enum=PROTOCOLS,
        required=True,
    )
    keep: int = field(
        "Clean-up keeps plans at most this many generations older than the one applied.",
        minimum=0,
        maximum=1000,
        default=3,
    )
    walkStart: float | None = field(
        "Guarded only, plans of 8 endpoints or more: where this enactor begins its walk, as a "
        "fraction of the plan's endpoint list (it wraps round and still visits every endpoint), "
        "so that enactors write different endpoints at once instead of racing for the same one. "
        "Absent: a, b and c a third apart (d, e, f again).",
        minimum=0,
        exclusive_maximum=True,
        maximum=1,
    )
    pollSeconds: float = field(
        "The longest an idle enactor waits before it looks at its plan view again (a watch event "
        "wakes it at once).",
        minimum=0.05,
        maximum=60,
        default=1,
    )
    stepGate: int | None = field(
        "When set, the enactor takes a protocol step only while status.stepsTaken is below it "
        "(single-stepping for exact scenario replays); absent, it runs freely.",
        minimum=0,
        nullable=True,
    )
    viewGate: list[int] | None = field(
        "With stepGate: before its next move the enactor's held plan view takes watch events, in "
        "order, until it holds exactly these generations (a replayed trace's lagging view). "
        "Absent, the view is left where it is.",
        max_items=1000,
        nullable=True,
        item=item(minimum=1),
    )
    paused: bool = field(
        "When true the enactor takes no new plan (finishes the step it is in).",
        default=False,
    )
    faults: list[Fault] | None = field(
        "Faults injected between the enactor's store requests (a Scenario's "
        "spec.enactors[].faults, with the same fields and rules); status.faultsFired counts their "
        "firings for the run in status.faultsRun.",
        max_items=32,
    )
    run: str | None = field(
        "The scenario run these settings belong to (set by the scenario controller's reset): when "
        "it changes, status.faultsFired starts again from nothing.",
        max_length=300,
    )


@dataclass(frozen=True, kw_only=True)
class EnactorStatusFaultsFiredItem(Object):
    fault: str | None = field("the fault in words, e.g. after-pick delay 2s")
    count: int | None = field("How often the fault fired in the run.")
    first: str | None = field("When it first fired.", format="date-time")
    last: str | None = field("When it last fired.", format="date-time")
    where: str | None = field("the plan and endpoint of the last firing")
    crashed: int | None = field("a crash fault: how often the process exited at it")
    restarted: int | None = field(
        "a crash fault: how often a restarted process took up its work after it",
    )


@dataclass(frozen=True, kw_only=True)
class EnactorStatus(Object):
    phase: str | None = field("Idle, Walking, CleaningUp or Paused.")
    lastAppliedGeneration: int | None = field(
        "The newest plan generation this enactor has applied to every endpoint.",
    )
    carryingGeneration: int | None = field("The plan generation it is applying now (0 when idle).")
    pausedAt: str | None = field(
        "The pause fault it holds at (AT:ENDPOINT, * for every endpoint); empty when not held.",
    )
    newestSeen: int | None = field(
        "The newest plan generation in its plan view (what its next pick would take).",
    )
    stepsTaken: int | None = field(
        "Protocol moves taken since the process started (a replay's stepGate counts these).",
    )
    cachedGenerations: list[int] | None = field("The plan generations in its plan view.")
    viewHeld: bool | None = field(
        "The plan view takes watch events only when a replay delivers them.",
    )
    firedCrashes: list[str] | None = field(
        "The crash faults (AT:ENDPOINT) that have fired while they stay set.",
    )
    faultsRun: str | None = field("the spec.run that status.faultsFired counts for")
    faultsFired: list[EnactorStatusFaultsFiredItem] | None = field(
        "Each fault that fired during the run in faultsRun, as Chaos Mesh records each injection: "
        "what it is, how often it fired, where and when first and last.",
    )
    casConflicts: int | None = field(
        "Guarded writes the record store refused (a CAS on a read that was no longer current).",
    )
    message: str | None = field("The last thing worth saying, e.g. a fault it could not parse.")
    conditions: list[Condition] | None = field(
        "The latest observations of the object's state, one per type.",
        list_type="map",
        map_keys=("type",),
    )


@dataclass(frozen=True, kw_only=True)
class EnactorMetadata(Object):
    name: str | None = field(
        "a, b or c (one lower-case letter): the enactor process whose identity is this name "
        "follows this object.",
        pattern="^[a-z]$",
    )


@dataclass(frozen=True, kw_only=True)
class Enactor(Object):
    """The whole Enactor object as the API server stores it."""

    metadata: EnactorMetadata | None = field("")
    spec: EnactorSpec = field(
        "The enactor's settings, changed by the scenario controller (and by hand).",
        required=True,
    )
    status: EnactorStatus | None = field(
        "Written by the enactor itself: what it does and has done.",
    )
