"""Guarded convergence of a 1,000-endpoint plan on the live lab, against the store's limit.

The three enactors run the guarded protocol; the bench creates the plan as the planner does
(the planner paused) and a watch on the record store notes when each endpoint first carries the
plan's generation. Convergence is the time from the create request to the last endpoint; its
per-endpoint cost is printed as a ratio to the raw etcd limit and to the client's own sequential
read + CAS (`bench.storelimit`). The profile of the same convergence says where the time goes:
CPU seconds per lab process (from /proc), and a py-spy sample of one enactor grouped by what the
sampled stack was doing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import measure
from bench.storelimit import Limits
from dnsrace.core.names import ENACTORS
from dnsrace.lab import local

ENDPOINTS = 1000
PROFILED = "enactor-a"

# What a sampled stack was doing: the first of these whose marker is in the stack, innermost
# frame first (a status PATCH is "kube API", even though it passes through urllib3).
_CATEGORIES = (
    ("JSON encode/decode", ("json/encoder.py", "json/decoder.py", "json/__init__.py")),
    ("kube API (status, events)", ("kubernetes/client", "dnsrace/stores/kube.py")),
    ("record store HTTP (urllib3, sockets)", ("urllib3/", "http/client.py", "socket.py")),
    ("record store (de)coding", ("dnsrace/stores/records.py", "dnsrace/stores/etcd.py")),
    ("records codec", ("dnsrace/core/records.py",)),
    ("protocol (decide/absorb)", ("dnsrace/core/protocol.py", "dnsrace/core/plans.py")),
    ("plan view (watch, cache)", ("dnsrace/stores/planwatch.py", "dnsrace/stores/plans.py")),
    ("telemetry (logs, metrics)", ("dnsrace/operators/telemetry.py", "prometheus_client")),
    ("enactor loop", ("dnsrace/operators/enactor.py", "dnsrace/core/faults.py")),
    ("kopf and asyncio", ("kopf/", "asyncio/")),
)


def endpoints(tag: str, count: int) -> tuple[str, ...]:
    """Fresh names per run, under one prefix so a run's records can be cleared at once."""
    return tuple(f"{tag}-e{i:05d}.bench.us-east-1.amazonaws.com" for i in range(count))


def categorise(raw: str) -> Counter[str]:
    """py-spy's raw (collapsed) output: `frame;frame;... count` per line, outermost first."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        for frame in reversed(frames):
            found = next((c for c, marks in _CATEGORIES if any(m in frame for m in marks)), None)
            if found:
                counts[found] += int(n)
                break
        else:
            counts["other"] += int(n)
    return counts


class Profile:
    """py-spy recording one process until stopped (SIGINT makes it write its output)."""

    def __init__(self, pid: int) -> None:
        self.out = Path(tempfile.mkstemp(prefix="dnsrace-pyspy-", suffix=".txt")[1])
        py_spy = Path(sys.executable).parent / "py-spy"
        self.proc = subprocess.Popen(
            [
                *(str(py_spy), "record", "--pid", str(pid), "--rate", "250", "--format", "raw"),
                *("--output", str(self.out), "--nonblocking", "--duration", "600"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # attached before the clock starts

    def stop(self) -> Counter[str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return Counter()
        text = self.out.read_text() if self.out.exists() else ""
        self.out.unlink(missing_ok=True)
        if not text:
            print(f"convergence: py-spy wrote nothing: {err.decode()[-300:]}", file=sys.stderr)
        return categorise(text)


@dataclass(frozen=True)
class Convergence:
    started: float  # monotonic time just before the plan's create request
    seconds: float  # to the last endpoint carrying the plan's generation
    cpu: measure.CpuMeter
    generation: int
    conflicts: int  # CAS conflicts the enactors met in the walk
    all_applied: float  # seconds until every enactor had walked the plan and cleaned up


def converge(
    state: local.LabState,
    count: int,
    tag: str,
    enactors: Sequence[str] = ENACTORS,
    extra_pids: dict[str, int] | None = None,
) -> Convergence:
    """Create a plan of `count` fresh endpoints and wait until every one carries it."""
    names = endpoints(tag, count)
    control = measure.lab_control(state)
    arrivals = measure.Arrivals(state.record_store, names)
    conflicts = measure.cas_conflicts(control, enactors)
    cpu = measure.CpuMeter.of(state, extra_pids)
    cpu.start()
    plan, t0 = measure.make_plan(control, names)
    at = arrivals.wait(plan.generation, timeout=max(120.0, count * 0.1))
    cpu.stop()
    # the enactors report their conflicts once their walk is done: wait for every one
    done = measure.wait_applied(control, enactors, plan.generation, timeout=max(120, count * 0.1))
    conflicts = measure.cas_conflicts(control, enactors) - conflicts
    return Convergence(t0, max(at.values()) - t0, cpu, plan.generation, conflicts, done - t0)


def run(state: local.LabState, limits: Limits) -> list[str]:
    control = measure.lab_control(state)
    measure.set_enactors(control, ENACTORS, protocol="guarded", paused=False)
    time.sleep(2)  # the enactors pick the standing plan again as guarded, then idle
    converge(state, 50, "warm")  # connections and caches warm, as in a running region
    # the same convergence with the three walking in step (all from the first endpoint)
    measure.set_enactors(control, ENACTORS, walkStart=0)
    in_step = converge(state, ENDPOINTS, "step")
    measure.set_enactors(control, ENACTORS, walkStart=None)  # back to their standing starts
    fresh = local.LabState.load(state.dir) or state
    profile = Profile(fresh.components[PROFILED].pid) if os.geteuid() == 0 else None
    result = converge(state, ENDPOINTS, "conv")
    seconds, cpu, gen = result.seconds, result.cpu, result.generation
    samples = profile.stop() if profile else Counter()
    per = seconds / ENDPOINTS * 1e3
    out = [
        f"convergence: guarded, 3 enactors, {ENDPOINTS:,} endpoints (g{gen}): {seconds:6.2f} s, "
        f"{per:6.2f} ms/endpoint",
        f"convergence: per endpoint / raw etcd read + CAS            {per / limits.raw_ms:6.2f}x",
        f"convergence: per endpoint / client's read + CAS (1 thread) "
        f"{per / limits.client_ms:6.2f}x",
        f"convergence: per endpoint / record store's guarded write   "
        f"{per / limits.record_cas_ms:6.2f}x",
        f"convergence: CAS conflicts {result.conflicts} spread, {in_step.conflicts} in step; "
        f"in step (all walks from the first endpoint) {in_step.seconds:6.2f} s, "
        f"{in_step.seconds / seconds:4.1f}x the spread walks' time",
        f"profile: CPU seconds during the convergence ({seconds:.1f} s wall, 2 cores here):",
    ]
    for name, spent in sorted(cpu.spent.items(), key=lambda kv: -kv[1])[:8]:
        out.append(f"profile:   {name:<26} {spent:6.2f} s")
    total = sum(samples.values())
    if total:
        out.append(f"profile: {PROFILED} on CPU, by what its stack was doing ({total} samples):")
        for category, n in samples.most_common():
            out.append(f"profile:   {category:<40} {n / total:6.1%}")
    else:
        out.append(f"profile: no py-spy samples of {PROFILED} (needs ptrace: run as root)")
    return out
