"""The interleaving explorer and the seeded random schedules, measured in one run: the request
model (one transition per store request, lagging views) for unguarded and guarded at 3 enactors
x 5 plans x 2 endpoints, with states, transitions, seconds, states/s and the time to the
unguarded shortest violation; the atomic model of the previous checker (one transition per
protocol step, no lag: commit ATOMIC_MODEL, run from git in a subprocess) beside it for the
ratio; the largest configuration each protocol completes within a budget; outage counts over
1,000 seeeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dnsrace.check.explorer import Config, Result, explore
from dnsrace.check.schedules import ScheduleConfig, run_many
from dnsrace.core.protocol import Variant

ATOMIC_MODEL = "16ce241"  # the last commit whose checker stepped whole protocol steps
SEEDS = 1000
BUDGET = float(os.environ.get("BENCH_CHECK_SECONDS", "300"))  # per run of the request model
G, U = Variant.GUARDED, Variant.UNGUARDED
# growing configurations for "the largest each completes within the budget"
LADDER = [(2, 3), (2, 4), (3, 3), (2, 5), (3, 4), (3, 5), (3, 6), (4, 5), (4, 6)]
MAX_STATES = 20_000_000  # the budget in seconds ends a run first on this machine


def line(label: str, r: Result) -> str:
    found = ",".join(v.invariant for v in r.violations) or "none"
    first = (
        f"  first violation {r.first_violation_seconds:.2f} s"
        if r.first_violation_seconds is not None
        else ""
    )
    c = r.config
    return (
        f"check: {label:<8} {c.protocol_text:<10} {c.enactors}e {c.plans}p keep{c.keep} "
        f"{len(c.endpoints)}ep  {r.states:>10,} states {r.transitions:>11,} transitions  "
        f"{r.seconds:7.1f} s  {r.states / r.seconds:>7,.0f} states/s  "
        f"{'complete' if r.complete else 'INCOMPLETE'}  violations {found}{first}"
    )


def atomic(protocol: str) -> dict[str, object] | None:
    """The previous checker's figures at 3 x 5 x 2, from its own source in git history."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="dnsrace-atomic-") as tmp:
        archive = Path(tmp) / "atomic.tar"
        res = subprocess.run(
            ["git", "-C", str(root), "archive", "-o", str(archive), ATOMIC_MODEL, "operator"],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            return None
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        code = (
            "import json; from dnsrace.check.explorer import Config, explore; "
            "from dnsrace.core.protocol import Variant; "
            f"print(json.dumps(explore(Config(Variant('{protocol}'), 3, 5, 1)).as_json()))"
        )
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "operator")}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
        )
        if out.returncode not in (0,):
            return None
        data: dict[str, object] = json.loads(out.stdout)
        return data


def run() -> Iterator[str]:
    """The figures, one line at a time as each is measured."""
    results = {}
    for protocol in (U, G):
        r = explore(Config((protocol,) * 3, 5, 1, max_states=MAX_STATES), max_seconds=BUDGET)
        results[protocol] = r
        yield (line("request", r))
        if protocol is G:
            change = explore(
                Config((G,) * 3, 5, 1, endpoint_change=3, max_states=MAX_STATES),
                max_seconds=BUDGET,
            )
            yield (line("request", change) + "  (endpoint list changes at g3)")
        old = atomic(protocol.value)
        if old is None:
            yield (f"check: atomic   {protocol.value}: not measured (no git history here)")
            continue
        states, seconds = int(old["states"]), float(old["seconds"])  # type: ignore[call-overload,arg-type]
        yield (
            f"check: atomic   {protocol.value:<10} 3e 5p keep1 2ep  {states:>10,} states "
            f"{int(old['transitions']):>11,} transitions  {seconds:7.1f} s  "  # type: ignore[call-overload]
            f"{states / seconds:>7,.0f} states/s  (previous checker, commit {ATOMIC_MODEL})"
        )
        yield (
            f"check: ratio    {protocol.value:<10} request/atomic: "
            f"{results[protocol].states / states:.1f}x states, "
            f"{results[protocol].seconds / seconds:.1f}x seconds"
            + ("" if results[protocol].complete else " (request model incomplete: a lower bound)")
        )
    for protocol in (U, G):
        largest = "none"
        for enactors, plans in LADDER:
            r = explore(
                Config((protocol,) * enactors, plans, 1, max_states=MAX_STATES),
                max_seconds=BUDGET,
            )
            yield (line("ladder", r))
            if not r.complete:
                break
            largest = f"{enactors}e x {plans}p x 2ep ({r.seconds:.0f} s)"
        yield (f"check: {protocol.value} completes within {BUDGET:.0f} s up to {largest}")
    for protocol in (U, G):
        t0 = time.perf_counter()
        outcomes = run_many(range(SEEDS), ScheduleConfig(protocol))
        seconds = time.perf_counter() - t0
        violating = sum(bool(o.violations) for o in outcomes)
        outages = sum(o.outage_at_end for o in outcomes)
        yield (
            f"schedules: {protocol.value:<10} {SEEDS} seeds  {violating:>4} violate  "
            f"{outages:>4} end in the outage  ({seconds:.1f} s)"
        )
