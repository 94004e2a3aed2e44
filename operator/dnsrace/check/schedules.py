"""Seeded random fault schedules, run as a discrete-event simulation over the same protocol
moves (one store request each) on the in-memory twins; every view is current (no lag). A seed
fixes everything: which enactor suffers which delays where, how long each move takes, when each
enactor first wakes. Simulated time, not wall time: a seed
gives the same interleaving on every machine and every run."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from dnsrace.check.explorer import (
    ENACTOR_NAMES,
    Config,
    World,
    endpoints_in,
    violations_between,
)
from dnsrace.core.faults import POINTS, Fault, due
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT
from dnsrace.core.protocol import EnactorState, Event, Pc, Variant, move
from dnsrace.stores.memetcd import MemoryEtcd
from dnsrace.stores.plans import MemoryPlanStore
from dnsrace.stores.records import MemoryRecordStore, executor


@dataclass(frozen=True)
class ScheduleConfig:
    protocol: Variant
    enactors: int = 3
    plans: int = 10
    keep: int = 2
    cadence: float = 1.0  # the planner's steady cadence, simulated seconds
    step_seconds: tuple[float, float] = (0.005, 0.05)
    poll_seconds: float = 0.5
    fault_probability: float = 0.5  # per enactor
    max_delay: float = 6.0


@dataclass
class Outcome:
    seed: int
    faults: dict[str, list[Fault]]
    violations: set[str] = field(default_factory=set)
    stale_overwrites: int = 0
    active_plan_deletions: int = 0
    outage_at_end: bool = False  # the regional endpoint applied and empty when it all settled
    steps: int = 0
    actors: list[str] = field(default_factory=list)  # who took each state-changing step


def random_faults(rng: random.Random, cfg: ScheduleConfig) -> dict[str, list[Fault]]:
    faults: dict[str, list[Fault]] = {}
    for name in ENACTOR_NAMES[: cfg.enactors]:
        chosen: list[Fault] = []
        if rng.random() < cfg.fault_probability:
            at = rng.choice(POINTS)
            endpoint = rng.choice(DEFAULT_ENDPOINTS) if at in ("before-write", "write") else ""
            delay = round(rng.uniform(0.2, cfg.max_delay), 3)
            retries = rng.randint(1, 5) if at == "write" else 0
            chosen.append(Fault(at, endpoint, delay / max(retries, 1), retries=retries))
        faults[name] = chosen
    return faults


def _delay(fault: Fault) -> float:
    return (
        fault.delay_seconds * max(fault.retries, 1) if fault.at == "write" else fault.delay_seconds
    )


def simulate(seed: int, cfg: ScheduleConfig) -> Outcome:
    rng = random.Random(seed)
    faults = random_faults(rng, cfg)
    outcome = Outcome(seed, faults)
    world = World(Config((cfg.protocol,) * cfg.enactors, cfg.plans, cfg.keep, DEFAULT_ENDPOINTS))
    kv = MemoryEtcd()
    plans, records = MemoryPlanStore(), MemoryRecordStore(kv)
    execute = executor(records, plans)
    names = ENACTOR_NAMES[: cfg.enactors]
    enactors = {n: world.config.enactor(n, cfg.protocol) for n in names}
    states = {n: EnactorState() for n in names}
    just_picked = dict.fromkeys(names, False)
    delayed: set[tuple[str, int, int, str]] = set()  # (enactor, plan gen, index, fault key)
    queue: list[tuple[float, int, str]] = []
    seq = 0
    for k in range(1, cfg.plans + 1):
        heapq.heappush(queue, (k * cfg.cadence, seq, "planner"))
        seq += 1
    for n in names:
        heapq.heappush(queue, (rng.uniform(0, cfg.cadence), seq, n))
        seq += 1
    created = 0
    horizon = cfg.plans * cfg.cadence + cfg.max_delay * 8 + 10
    snapshot = endpoints_in(_kvs(kv))
    while queue:
        now, _, actor = heapq.heappop(queue)
        if now > horizon:
            break
        events: list[Event] = []
        if actor == "planner":
            created += 1
            plans.add(world.plan(created))
            outcome.actors.append("planner")
        else:
            state = states[actor]
            pending = [
                f
                for f in due(faults[actor], state, just_picked[actor])
                if (actor, _gen(state), state.index, f.key) not in delayed
            ]
            if pending:
                for f in pending:
                    delayed.add((actor, _gen(state), state.index, f.key))
                heapq.heappush(queue, (now + sum(map(_delay, pending)), seq, actor))
                seq += 1
                continue
            new, events, _ = move(enactors[actor], state, plans.list(), execute)
            just_picked[actor] = any(e.kind == "picked" for e in events)
            states[actor] = new
            busy = new != state
            if busy or events:
                outcome.actors.append(actor)
            wait = rng.uniform(*cfg.step_seconds) if busy else cfg.poll_seconds
            if busy or created < cfg.plans or any(s.pc is not Pc.IDLE for s in states.values()):
                heapq.heappush(queue, (now + wait, seq, actor))
                seq += 1
        outcome.steps += 1
        outcome.stale_overwrites += sum(e.stale_overwrite for e in events)
        outcome.active_plan_deletions += sum(e.active_plan_deleted for e in events)
        after = endpoints_in(_kvs(kv))
        alive = {p.name for p in plans.list()}
        outcome.violations |= {inv for inv, _ in violations_between(snapshot, after, alive)}
        snapshot = after
    regional = records.read(REGIONAL_ENDPOINT)
    outcome.outage_at_end = regional.record is not None and regional.empty
    return outcome


def _kvs(kv: MemoryEtcd) -> tuple[tuple[bytes, bytes, int, int], ...]:
    return tuple((k.key, k.value, k.mod_revision, k.create_revision) for k in kv.kvs.values())


def _gen(state: EnactorState) -> int:
    return state.plan.generation if state.plan else 0


def run_many(seeds: range, cfg: ScheduleConfig) -> list[Outcome]:
    return [simulate(seed, cfg) for seed in seeds]
