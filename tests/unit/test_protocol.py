"""The enactor protocols move by move (one store request each) on the in-memory twins: normal
operation, clean-up, the incident's interleaving, and the lagging view that defeats the first
fix but not the second."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT, Plan, plan_name
from dnsrace.core.protocol import Enactor, EnactorState, Event, Pc, Variant, move, run_to_idle
from dnsrace.core.records import EndpointRecord, Target
from dnsrace.core.requests import ReadEndpoint, WriteEndpoint
from dnsrace.stores.plans import MemoryPlanStore, view_at
from dnsrace.stores.records import MemoryRecordStore, executor

POOL = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))


def make_plan(gen: int, endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS) -> Plan:
    """Every plan has the pool's targets, as in the lab (same SkyDNS key names)."""
    return Plan(plan_name("us-east-1", gen), gen, endpoints, POOL)


class Lab:
    """Plans and records in memory, and enactors moved by hand."""

    def __init__(self) -> None:
        self.plans, self.records = MemoryPlanStore(), MemoryRecordStore()
        self.execute = executor(self.records, self.plans)

    def view(self) -> Callable[[], Sequence[Plan]]:
        return self.plans.list

    def move(
        self, enactor: Enactor, state: EnactorState, view: Sequence[Plan] | None = None
    ) -> tuple[EnactorState, list[Event]]:
        new, events, _ = move(
            enactor, state, self.plans.list() if view is None else view, self.execute
        )
        return new, events

    def idle(self, enactor: Enactor, state: EnactorState) -> tuple[EnactorState, list[Event]]:
        return run_to_idle(enactor, state, self.plans.list, self.execute)


def test_three_enactors_converge_on_the_newest_plan() -> None:
    lab = Lab()
    for gen in range(1, 4):
        lab.plans.add(make_plan(gen))
    for ident in "abc":
        lab.idle(Enactor(ident, Variant.UNGUARDED, keep=5), EnactorState())
    for name in DEFAULT_ENDPOINTS:
        seen = lab.records.read(name)
        assert seen.record is not None
        assert seen.record.generation == 3
        assert seen.served == make_plan(3).targets


def test_cleanup_keeps_the_newest_keep_generations() -> None:
    for protocol in Variant:
        lab = Lab()
        for gen in range(1, 11):
            lab.plans.add(make_plan(gen))
        state, _ = lab.idle(Enactor("a", protocol, keep=3), EnactorState())
        assert sorted(p.generation for p in lab.plans.list()) == [7, 8, 9, 10], protocol
        assert all(not lab.records.read(n).empty for n in DEFAULT_ENDPOINTS)
        assert state.last_applied == 10


def test_every_move_sends_at_most_one_request() -> None:
    lab = Lab()
    lab.plans.add(make_plan(1))
    enactor, state = Enactor("a", Variant.GUARDED, keep=1), EnactorState()
    sent = []
    for _ in range(20):
        chosen = enactor.decide(state, lab.plans.list())
        state = chosen.state
        if chosen.request is not None:
            sent.append(type(chosen.request).__name__)
            state, _ = enactor.absorb(state, chosen.request, lab.execute(chosen.request))
        if state.pc is Pc.IDLE and chosen.request is None:
            break
    # read, CAS-write per endpoint; no clean-up candidates with one plan
    assert sent == ["ReadEndpoint", "WriteEndpoint"] * len(DEFAULT_ENDPOINTS)


def _race(protocol: Variant) -> tuple[Lab, list[str]]:
    """The incident's interleaving, move by move: a picks g1 and reads the regional endpoint,
    then stalls; the planner goes on to g5; b applies g5 everywhere; a writes g1 on the regional
    endpoint; b's clean-up runs; a finishes."""
    lab = Lab()
    a, b = Enactor("a", protocol, keep=2), Enactor("b", protocol, keep=2)
    lab.plans.add(make_plan(1))
    sa, log = EnactorState(), []
    while sa.pc is not Pc.WRITING:  # a: pick g1 (fresh), read the regional endpoint
        sa, ev = lab.move(a, sa)
        log += [e.describe() for e in ev]
    for gen in range(2, 6):
        lab.plans.add(make_plan(gen))
    sb = EnactorState()
    while sb.pc is not Pc.CLEANUP:  # b: pick g5 and walk every endpoint
        sb, ev = lab.move(b, sb)
        log += [e.describe() for e in ev]
    sa, ev = lab.move(a, sa)  # a: its write of g1 on the regional endpoint
    log += [e.describe() for e in ev]
    _, ev = lab.idle(b, sb)  # b: clean-up
    log += [e.describe() for e in ev]
    _, ev = lab.idle(a, sa)
    log += [e.describe() for e in ev]
    return lab, log


def test_unguarded_race_empties_the_regional_endpoint_and_it_stays_empty() -> None:
    lab, log = _race(Variant.UNGUARDED)
    regional = lab.records.read(REGIONAL_ENDPOINT)
    assert regional.empty
    assert regional.record is not None
    assert regional.record.generation == 1
    assert any("STALE OVERWRITE" in line and REGIONAL_ENDPOINT in line for line in log)
    assert any("deletes plan us-east-1-g000001; it is ACTIVE on" in line for line in log)
    # a newer plan does not repair it: the active plan is gone, the endpoint is stuck
    lab.plans.add(make_plan(6))
    _, events = lab.idle(Enactor("c", Variant.UNGUARDED, keep=2), EnactorState())
    assert lab.records.read(REGIONAL_ENDPOINT).empty
    assert any(e.kind == "stuck" and e.endpoint == REGIONAL_ENDPOINT for e in events)


def test_guarded_race_refuses_the_stale_write_by_cas() -> None:
    lab, log = _race(Variant.GUARDED)
    for name in DEFAULT_ENDPOINTS:
        seen = lab.records.read(name)
        assert not seen.empty
        assert seen.record is not None
        assert seen.record.generation == 5
    assert not any("STALE" in line or "EMPTY" in line for line in log)
    # a read g-nothing before b wrote; its CAS then failed, and the re-read showed g5
    assert any(f"CAS refused on {REGIONAL_ENDPOINT}" in line for line in log)
    assert any(f"skips {REGIONAL_ENDPOINT}: it already has g5" in line for line in log)


def test_guarded_enactor_repairs_an_empty_endpoint() -> None:
    lab, _ = _race(Variant.UNGUARDED)
    assert lab.records.read(REGIONAL_ENDPOINT).empty
    lab.plans.add(make_plan(6))
    _, events = lab.idle(Enactor("c", Variant.GUARDED, keep=2), EnactorState(last_applied=5))
    assert any(e.kind == "repaired" and e.endpoint == REGIONAL_ENDPOINT for e in events)
    seen = lab.records.read(REGIONAL_ENDPOINT)
    assert not seen.empty
    assert seen.record is not None
    assert seen.record.generation == 6


def test_guarded_cleanup_spares_a_plan_in_use_unguarded_deletes_it() -> None:
    for protocol, survives in ((Variant.GUARDED, True), (Variant.UNGUARDED, False)):
        lab = Lab()
        for gen in range(1, 6):
            lab.plans.add(make_plan(gen))
        old = make_plan(1)
        other = "other.us-east-1.amazonaws.com"
        lab.records.write(EndpointRecord(other, 1, old.name, "x", old.targets), None)
        lab.idle(Enactor("a", protocol, keep=1), EnactorState())
        names = {p.generation for p in lab.plans.list()}
        assert (1 in names) is survives
        assert 2 not in names
        assert 3 not in names
        assert lab.records.read(other).empty is not survives


def _lagging_view_repair(protocol: Variant) -> tuple[Lab, list[Event]]:
    """b writes g3 on the regional endpoint; a, whose view has not yet been delivered g3, picks
    g2 and finds the endpoint's plan unknown to it."""
    lab = Lab()
    for gen in (1, 2, 3):
        lab.plans.add(make_plan(gen))
    b = Enactor("b", protocol, keep=5)
    sb = EnactorState()
    while sb.pc is not Pc.CLEANUP:
        sb, _ = lab.move(b, sb)
    lagging = view_at(lab.plans.log, 2)  # g1, g2: the creation of g3 not yet delivered
    a, sa, events = Enactor("a", protocol, keep=5), EnactorState(), []
    while True:
        sa, ev = lab.move(a, sa, lagging)
        events += ev
        if any(e.endpoint == REGIONAL_ENDPOINT for e in ev) or sa.pc is Pc.CLEANUP:
            return lab, events


def test_first_fix_repairs_back_to_an_older_plan_under_a_lagging_view() -> None:
    lab, events = _lagging_view_repair(Variant.GUARDED_V1)
    record = lab.records.read(REGIONAL_ENDPOINT).record
    assert record is not None
    assert record.generation == 2  # went down from g3: I2 broken
    assert [e.describe() for e in events if e.kind == "repaired"] == [
        f"STALE OVERWRITE: enactor a repairs {REGIONAL_ENDPOINT} from newest plan g2 "
        "(it had g3 (by b))"
    ]


def test_the_fix_is_not_misled_by_a_lagging_view() -> None:
    lab, events = _lagging_view_repair(Variant.GUARDED)
    record = lab.records.read(REGIONAL_ENDPOINT).record
    assert record is not None
    assert record.generation == 3
    assert [e.kind for e in events if e.endpoint == REGIONAL_ENDPOINT] == ["skipped-newer"]


def test_a_retired_plan_can_no_longer_be_written() -> None:
    """Clean-up's decision and the writers' guard meet in one record-store key: once a plan is
    retired, a CAS write of it fails even when the endpoint's revision still matches."""
    lab = Lab()
    plan = make_plan(1)
    lab.plans.add(plan)
    seen = lab.records.execute(ReadEndpoint(REGIONAL_ENDPOINT))
    snap = lab.records.snapshot()
    assert lab.records.retire(plan.name, snap.revision)
    record = EndpointRecord(REGIONAL_ENDPOINT, 1, plan.name, "a", plan.targets)
    result = lab.records.execute(WriteEndpoint(record, seen, cas=True, unless_retired=True))  # type: ignore[arg-type]
    assert not result.succeeded  # type: ignore[union-attr]
    assert result.plan_retired  # type: ignore[union-attr]


def test_retire_fails_when_any_record_changed_since_the_snapshot() -> None:
    lab = Lab()
    plan = make_plan(1)
    snap = lab.records.snapshot()
    lab.records.write(EndpointRecord("x.amazonaws.com", 1, plan.name, "b", plan.targets), None)
    assert not lab.records.retire(plan.name, snap.revision)
    assert lab.records.retire(plan.name, lab.records.snapshot().revision)


LONG = tuple(f"e{i}.ddb.us-east-1.amazonaws.com" for i in range(9))


def written_order(enactor: Enactor) -> list[str]:
    lab = Lab()
    lab.plans.add(make_plan(1, LONG))
    _, events = lab.idle(enactor, EnactorState())
    return [e.endpoint for e in events if e.kind == "wrote"]


def test_a_guarded_walk_of_a_long_plan_begins_at_the_enactors_start_and_wraps_round() -> None:
    order = written_order(Enactor("b", Variant.GUARDED, keep=2, start=1 / 3))
    assert order == [*LONG[3:], *LONG[:3]]


def test_unguarded_walks_and_short_plans_begin_at_the_first_endpoint() -> None:
    assert written_order(Enactor("b", Variant.UNGUARDED, keep=2, start=1 / 3)) == list(LONG)
    short = Enactor("b", Variant.GUARDED, keep=2, start=1 / 3, spread_from=len(LONG) + 1)
    assert written_order(short) == list(LONG)


def test_spread_guarded_enactors_write_each_endpoint_once_between_them() -> None:
    """Three guarded enactors a third apart, moved in turn: each endpoint is written once,
    and they meet no CAS conflict (without the spread they would race for every endpoint)."""
    lab = Lab()
    lab.plans.add(make_plan(1, LONG))
    enactors = [Enactor(n, Variant.GUARDED, 2, k / 3) for k, n in enumerate("abc")]
    states = [EnactorState() for _ in enactors]
    events: list[Event] = []
    for _ in range(200):
        for i, enactor in enumerate(enactors):
            states[i], new = lab.move(enactor, states[i])
            events += new
    wrote = [e.endpoint for e in events if e.kind == "wrote"]
    assert sorted(wrote) == sorted(LONG)
    assert not [e for e in events if e.kind == "cas-conflict"]
    assert {e.enactor for e in events if e.kind == "finished"} == {"a", "b", "c"}
