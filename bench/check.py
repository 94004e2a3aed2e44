"""The interleaving explorer and the seeded random schedules: states, transitions, time and
states per second for several configurations, and outage counts over 1,000 seeds."""

from __future__ import annotations

import time

from dnsrace.check.explorer import Config, explore
from dnsrace.check.schedules import ScheduleConfig, run_many
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.protocol import Protocol

CONFIGS = [
    Config(Protocol.UNGUARDED, 3, 5, 1),
    Config(Protocol.CLEANUP_ONLY, 3, 5, 1),
    Config(Protocol.GUARDED, 3, 5, 1),
    Config(Protocol.GUARDED, 3, 6, 1),
    Config(Protocol.GUARDED, 4, 5, 1),
    Config(Protocol.GUARDED, 3, 5, 2, DEFAULT_ENDPOINTS[:3]),
]
SEEDS = 1000


def run() -> list[str]:
    lines = []
    for c in CONFIGS:
        r = explore(c)
        found = ",".join(v.invariant for v in r.violations) or "none"
        lines.append(
            f"check: {c.protocol.value:<12} {c.enactors}e {c.plans}p keep{c.keep} "
            f"{len(c.endpoints)}ep  {r.states:>9,} states {r.transitions:>10,} transitions "
            f"depth {r.depth:>3}  {r.seconds:6.1f} s  {r.states / r.seconds:>8,.0f} states/s  "
            f"violations {found}"
        )
    for protocol in (Protocol.UNGUARDED, Protocol.GUARDED):
        t0 = time.perf_counter()
        outcomes = run_many(range(SEEDS), ScheduleConfig(protocol))
        seconds = time.perf_counter() - t0
        violating = sum(bool(o.violations) for o in outcomes)
        outages = sum(o.outage_at_end for o in outcomes)
        lines.append(
            f"schedules: {protocol.value:<10} {SEEDS} seeds  {violating:>4} violate  "
            f"{outages:>4} end in the outage  ({seconds:.1f} s)"
        )
    return lines
