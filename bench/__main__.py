"""`make bench`: start a lab of its own, run every benchmark, print a table, stop the lab."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench import check, convergence, freerun, records
from dnsrace.lab import local


def main() -> int:
    for line in check.run():
        print(line, flush=True)
    with tempfile.TemporaryDirectory(prefix="dnsrace-bench-") as tmp:
        state = local.up(Path(tmp) / "lab")
        try:
            for bench in (records, convergence, freerun):
                for line in bench.run(state):
                    print(line, flush=True)
        finally:
            local.down(state.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
