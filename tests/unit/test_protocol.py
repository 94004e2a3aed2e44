"""The enactor protocol's steps on in-memory stores: normal operation, clean-up, and the
incident's interleaving under both protocols."""

from __future__ import annotations

from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT, Plan, plan_name
from dnsrace.core.protocol import Enactor, EnactorState, Phase, Protocol, walk_to_idle
from dnsrace.core.records import EndpointRecord, Target
from dnsrace.stores.plans import MemoryPlanStore
from dnsrace.stores.records import MemoryRecordStore


def make_plan(gen: int, endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS) -> Plan:
    return Plan(
        plan_name("us-east-1", gen),
        gen,
        endpoints,
        (Target(f"127.0.0.{10 + gen}", 100, f"lb-{gen}"),),
    )


def test_three_enactors_converge_on_the_newest_plan() -> None:
    plans, records = MemoryPlanStore(), MemoryRecordStore()
    for gen in range(1, 4):
        plans.add(make_plan(gen))
    for ident in "abc":
        enactor = Enactor(ident, Protocol.UNGUARDED, keep=5)
        walk_to_idle(enactor, EnactorState(), plans, records)
    for name in DEFAULT_ENDPOINTS:
        seen = records.read(name)
        assert seen.record is not None
        assert seen.record.generation == 3
        assert seen.served == make_plan(3).targets


def test_cleanup_keeps_the_newest_keep_generations() -> None:
    for protocol in Protocol:
        plans, records = MemoryPlanStore(), MemoryRecordStore()
        for gen in range(1, 11):
            plans.add(make_plan(gen))
        state, _events = walk_to_idle(
            Enactor("a", protocol, keep=3), EnactorState(), plans, records
        )
        assert sorted(p.generation for p in plans.list()) == [7, 8, 9, 10]
        assert all(not records.read(n).empty for n in DEFAULT_ENDPOINTS)
        assert state.last_applied == 10


def _race(protocol: Protocol) -> tuple[MemoryPlanStore, MemoryRecordStore, list[str]]:
    """The incident's interleaving, step by step: a picks g1 and stalls; the planner goes on to
    g5; b applies g5 everywhere; a writes g1 on the regional endpoint; b's clean-up runs."""
    plans, records = MemoryPlanStore(), MemoryRecordStore()
    a, b = Enactor("a", protocol, keep=2), Enactor("b", protocol, keep=2)
    plans.add(make_plan(1))
    sa, ev = a.step(EnactorState(), plans, records)  # a: pick g1 (fresh)
    log = [e.describe() for e in ev]
    for gen in range(2, 6):
        plans.add(make_plan(gen))
    sb = EnactorState()
    while True:  # b: pick g5 and walk every endpoint
        sb, ev = b.step(sb, plans, records)
        log += [e.describe() for e in ev]
        if sb.phase is Phase.CLEANUP:
            break
    sa, ev = a.step(sa, plans, records)  # a: writes g1 on the regional endpoint (first)
    log += [e.describe() for e in ev]
    sb, ev = b.step(sb, plans, records)  # b: clean-up
    log += [e.describe() for e in ev]
    walk_to_idle(a, sa, plans, records)
    return plans, records, log


def test_unguarded_race_empties_the_regional_endpoint_and_it_stays_empty() -> None:
    plans, records, log = _race(Protocol.UNGUARDED)
    regional = records.read(REGIONAL_ENDPOINT)
    assert regional.empty
    assert regional.record is not None
    assert regional.record.generation == 1
    assert any("STALE OVERWRITE" in line and REGIONAL_ENDPOINT in line for line in log)
    assert any("deletes plan us-east-1-g000001; it is ACTIVE on" in line for line in log)
    # a newer plan does not repair it: the active plan is gone, the endpoint is stuck
    plans.add(make_plan(6))
    _, events = walk_to_idle(
        Enactor("c", Protocol.UNGUARDED, keep=2), EnactorState(), plans, records
    )
    assert records.read(REGIONAL_ENDPOINT).empty
    assert any(e.kind == "stuck" and e.endpoint == REGIONAL_ENDPOINT for e in events)


def test_guarded_race_never_regresses_nor_empties() -> None:
    _plans, records, log = _race(Protocol.GUARDED)
    for name in DEFAULT_ENDPOINTS:
        seen = records.read(name)
        assert not seen.empty
        assert seen.record is not None
        assert seen.record.generation == 5
    assert not any("STALE" in line or "EMPTY" in line for line in log)
    assert any("skips dynamodb.us-east-1.amazonaws.com" in line for line in log)


def test_guarded_enactor_repairs_an_empty_endpoint() -> None:
    plans, records, _ = _race(Protocol.UNGUARDED)
    assert records.read(REGIONAL_ENDPOINT).empty
    _, events = walk_to_idle(
        Enactor("c", Protocol.GUARDED, keep=2), EnactorState(last_applied=5), plans, records
    )
    assert any(e.kind == "repaired" and e.endpoint == REGIONAL_ENDPOINT for e in events)
    seen = records.read(REGIONAL_ENDPOINT)
    assert not seen.empty
    assert seen.record is not None
    assert seen.record.generation == 5


def test_guarded_cleanup_spares_a_plan_in_use_unguarded_deletes_it() -> None:
    for protocol, survives in ((Protocol.GUARDED, True), (Protocol.UNGUARDED, False)):
        plans, records = MemoryPlanStore(), MemoryRecordStore()
        for gen in range(1, 6):
            plans.add(make_plan(gen))
        old = make_plan(1)
        other = "other.us-east-1.amazonaws.com"
        records.write(EndpointRecord(other, 1, old.name, "x", old.targets), None)
        walk_to_idle(Enactor("a", protocol, keep=1), EnactorState(), plans, records)
        names = {p.generation for p in plans.list()}
        assert (1 in names) is survives
        assert 2 not in names
        assert 3 not in names
        assert records.read(other).empty is not survives
