"""The incident's race, reproduced live on the lab and orchestrated deterministically: every
move waits on an observed state (an enactor paused at a fault point, a generation seen or
applied), never on a sleep, so the same interleaving happens on the first run and every run.

Choreography (the incident's "The race", steps 1-4), with enactor c held out of the way:
  1. a picks the newest plan G and passes its freshness check; an after-pick fault pauses it.
  2. The planner's allocator produces G+1 ... G+5; b picks G+5, writes every endpoint, and a
     before-cleanup fault pauses it just before its clean-up.
  3. a is released and writes G on the regional endpoint (its check was true at its start and
     is false now); a before-write fault pauses it at the next endpoint.
  4. b's clean-up runs: G is more than `keep` generations older than G+5.
Then every fault is cleared and normal operation resumes (planner cadence, all enactors), and
the probes go on to show whether the damage stays.

Which protocol runs decides the outcome; this module never touches a record itself: the empty
answer, if any, comes from the enactors' own writes and clean-up."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from dnsrace import labobjects
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGIONAL_ENDPOINT
from dnsrace.labcontrol import LabControl, LabEvent, wait_for
from dnsrace.probe import resolve

AHEAD = 5  # generations the planner produces while a stalls
NOTABLE = {
    "StaleOverwrite",
    "ActivePlanDeleted",
    "RecordCleared",
    "EndpointStuck",
    "SkippedNewer",
    "PlanDeleted",
    "EndpointRepaired",
    "CASConflict",
    "Applied",
}


@dataclass
class Probe:
    """DNS probes of every endpoint, every `interval` seconds, in a thread of their own; and a
    monitor of the record store that notices any generation going backwards."""

    dns: str
    control: LabControl
    interval: float = 0.02
    samples: int = 0
    empty: dict[str, int] = field(default_factory=dict)
    first_empty: float | None = None
    last_empty: float | None = None
    regressions: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Probe:
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        seen: dict[str, int] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for name in DEFAULT_ENDPOINTS:
                answer = resolve(name, self.dns)
                self.samples += 1
                if answer.empty and name in seen:
                    self.empty[name] = self.empty.get(name, 0) + 1
                    self.first_empty = self.first_empty or now
                    self.last_empty = now
            for name, obs in self.control.records.read_all(DEFAULT_ENDPOINTS).items():
                if obs.record is None:
                    continue
                before = seen.get(name, 0)
                if obs.record.generation < before:
                    self.regressions.append(
                        f"{name}: g{before} -> g{obs.record.generation} (by {obs.record.enactor})"
                    )
                seen[name] = obs.record.generation
            self._stop.wait(self.interval)

    @property
    def empty_seconds(self) -> float:
        if self.first_empty is None or self.last_empty is None:
            return 0.0
        return self.last_empty - self.first_empty + self.interval


@dataclass
class RaceResult:
    protocol: str
    stalled_generation: int
    ahead_generation: int
    final_generation: int
    regional_answer: str
    regional_addresses: tuple[str, ...]
    empty_samples: dict[str, int]
    empty_seconds: float
    regressions: list[str]
    events: list[LabEvent]
    records: dict[str, dict[str, Any]]

    @property
    def outage(self) -> bool:
        return self.regional_answer == "NXDOMAIN"

    def count(self, reason: str) -> int:
        return sum(e.reason == reason for e in self.events)


def run_race(
    control: LabControl,
    dns: str,
    protocol: str,
    keep: int = 2,
    settle_plans: int = 3,
    timeout: float = 60,
) -> RaceResult:
    started = time.time()
    cadence = control.planner_spec().get("cadenceSeconds", 5)
    control.reset(protocol, keep, timeout)
    targets = control.pool_targets()
    a, b, c = labobjects.ENACTORS
    probe = Probe(dns, control).start()
    try:
        # 1. a picks G and stalls right after its freshness check
        control.enactor(a, faults=[{"at": "after-pick", "pause": True}], paused=False)
        stalled = control.create_plan(targets, DEFAULT_ENDPOINTS)
        control.wait_paused_at(a, "after-pick:*", timeout)
        # 2. the planner goes on; b takes the newest plan and walks every endpoint
        ahead = stalled
        for _ in range(AHEAD):
            ahead = control.create_plan(targets, DEFAULT_ENDPOINTS)
        control.wait_seen(b, ahead.generation, timeout)
        control.enactor(b, faults=[{"at": "before-cleanup", "pause": True}], paused=False)
        control.wait_paused_at(b, "before-cleanup:*", timeout)
        # 3. a, released, writes its stale plan on the regional endpoint, then stalls again
        second = DEFAULT_ENDPOINTS[1]
        control.enactor(a, faults=[{"at": "before-write", "endpoint": second, "pause": True}])
        control.wait_paused_at(a, f"before-write:{second}", timeout)
        # 4. b's clean-up runs
        control.enactor(b, faults=[])
        control.wait_applied(b, ahead.generation, timeout)
        # normal operation resumes: faults cleared, every enactor and the planner running
        control.enactor(a, faults=[])
        control.enactor(c, paused=False)
        control.wait_applied(a, stalled.generation, timeout)
        control.planner(paused=False, cadenceSeconds=0.5)
        final = wait_for(
            lambda: (
                (p := control.newest_plan())
                and p.generation >= ahead.generation + settle_plans
                and p
            ),
            timeout,
            f"{settle_plans} more plans after the race",
        )
        control.planner(paused=True)
        for ident in labobjects.ENACTORS:
            control.wait_seen(ident, final.generation, timeout)
            control.wait_phase(ident, ["Idle"], timeout)
        if protocol == "guarded":
            _wait_converged(control, final.generation, timeout)
    finally:
        probe.stop()
        control.planner(paused=False, cadenceSeconds=cadence)
    answer = resolve(REGIONAL_ENDPOINT, dns)
    records = {
        name: {
            "generation": o.record.generation if o.record else 0,
            "plan": o.record.plan if o.record else "",
            "enactor": o.record.enactor if o.record else "",
            "served": [t.address for t in o.served],
        }
        for name, o in control.records.read_all(DEFAULT_ENDPOINTS).items()
    }
    events = wait_for(
        lambda: _events_settled(control, started, stalled.generation), timeout, "Events posted"
    )
    return RaceResult(
        protocol,
        stalled.generation,
        ahead.generation,
        final.generation,
        answer.rcode,
        answer.addresses,
        dict(probe.empty),
        probe.empty_seconds,
        list(probe.regressions),
        events,
        records,
    )


def _generation(plan: str) -> int:
    tail = plan.rsplit("-g", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _wait_converged(control: LabControl, generation: int, timeout: float) -> None:
    def done() -> bool:
        seen = control.records.read_all(DEFAULT_ENDPOINTS).values()
        return all(o.record and o.record.generation >= generation and not o.empty for o in seen)

    wait_for(done, timeout, f"every endpoint on g{generation}")


def _events_settled(control: LabControl, since: float, first: int) -> list[LabEvent] | None:
    """Events are posted asynchronously by the operators; wait until the ones that mark the
    end of the choreography are there (a's and b's Applied). Only this run's plans count."""
    events = [e for e in control.events_since(since, NOTABLE) if _generation(e.plan) >= first]
    applied = {e.message.split()[1] for e in events if e.reason == "Applied"}
    return events if {"a", "b"} <= applied else None
