"""`make bench`: start a lab of its own (timed: `dnsrace up` warm), run every benchmark, print
the figures (and the lab's kube-apiserver's CPU, GC cycles and memory over them), stop the lab.
BENCH_ONLY=store,convergence,scale,freerun,check picks some."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from bench import check, convergence, freerun, measure, scale, storelimit
from dnsrace.lab import local

ALL = ("check", "store", "convergence", "scale", "freerun")


def main() -> int:
    only = [s for s in os.environ.get("BENCH_ONLY", ",".join(ALL)).split(",") if s]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        print(f"bench: unknown BENCH_ONLY part(s) {unknown}; known: {', '.join(ALL)}")
        return 2
    if "check" in only:
        for line in check.run():
            print(line, flush=True)
    if not set(only) - {"check"}:
        return 0
    with tempfile.TemporaryDirectory(prefix="dnsrace-bench-") as tmp:
        t0 = time.monotonic()
        state = local.up(Path(tmp) / "lab")
        print(f"lab: dnsrace up (binaries built)     {time.monotonic() - t0:7.1f} s", flush=True)
        try:
            api = measure.admin_api(state)
            before = measure.go_runtime(api)
            if "freerun" in only:
                for line in freerun.run(state):
                    print(line, flush=True)
            if {"store", "convergence"} & set(only):
                lines, limits = storelimit.run(state)
                for line in lines:
                    print(line, flush=True)
                if "convergence" in only:
                    for line in convergence.run(state, limits):
                        print(line, flush=True)
            if "scale" in only:
                for line in scale.run(state):
                    print(line, flush=True)
            after = measure.go_runtime(api)
            print(
                f"lab: kube-apiserver over the benchmarks (GOGC={after['gogc']:.0f}): "
                f"{after['cpu'] - before['cpu']:.1f} CPU s, "
                f"{after['cycles'] - before['cycles']:.0f} GC cycles, "
                f"{after['resident'] / 2**20:.0f} MiB resident at the end",
                flush=True,
            )
        finally:
            local.down(state.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
