"""Where a whole command's CPU goes, by component: `python -m bench.suitecpu [command ...]`
(default `make test`) runs the command and samples every process on the host once a second,
then prints the CPU seconds each component used while it ran (the lab's API servers, etcds,
CoreDNS, each operator, the mock services, the pytest workers, kubectl, ...). A process that
ends between two samples loses at most its last second; the total says how much work the
command was for the machine, which is what bounds a CPU-bound suite's wall time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.measure import process_times

PYTHON_RUNNERS = ("pytest", "xdist", "execnet", "import sys")
NO_COMMAND_LINE = "(no command line: kernel threads)"


def component_of(argv: Sequence[str], comm: str = "") -> str:
    """The component a command line belongs to: a Python module (`-m x`, operators by their
    short name), pytest's workers, an etcd by its --name, otherwise the executable's name; a
    process that named itself (`comm`, as the supervisor's forked operators: `enactor-a`,
    `scenario-contro`) by that name, since its command line is its parent's."""
    if not argv or not argv[0]:
        return NO_COMMAND_LINE
    exe = Path(argv[0]).name
    if comm and comm != exe[:15]:
        return comm
    if exe.startswith("python"):
        args = [a for a in argv[1:] if a]
        if any(r in a for a in args for r in PYTHON_RUNNERS):
            return "pytest (tests and the checker's searches)"
        if "-m" in args and args.index("-m") + 1 < len(args):
            return args[args.index("-m") + 1].removeprefix("dnsrace.operators.")
        return "python"
    if exe == "etcd" and "--name" in argv and argv.index("--name") + 1 < len(argv):
        return argv[argv.index("--name") + 1]
    return exe


Sample = tuple[tuple[int, int], str, float]  # (pid, start time), component, CPU seconds so far


def tally(samples: Iterable[Sample], before: Iterable[Sample]) -> dict[str, float]:
    """CPU seconds per component: each process's last sample, less what it had already used
    in `before` (the processes running when the command started; one started later counts
    from zero). A process keeps the first name it was seen with: an exited one awaiting its
    parent has no command line left, but its CPU is still its component's."""
    base = {key: cpu for key, _, cpu in before}
    last: dict[tuple[int, int], tuple[str, float]] = {}
    for key, component, cpu in samples:
        named = last.get(key, (NO_COMMAND_LINE, 0.0))[0]
        last[key] = (component if named == NO_COMMAND_LINE else named, cpu)
    out: dict[str, float] = {}
    for key, (component, cpu) in last.items():
        out[component] = out.get(component, 0.0) + cpu - base.get(key, 0.0)
    return out


class Sampler:
    """Every process's CPU seconds, once a second, in a thread of its own."""

    def __init__(self) -> None:
        self.before: list[Sample] = []
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> list[Sample]:
        found: list[Sample] = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            times = process_times(int(proc.name))
            if times is None:
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                comm = (proc / "comm").read_text(errors="replace").strip()
            except OSError:
                continue
            cpu, started = times
            key = (int(proc.name), started)  # pid and start time: a pid reused is new
            named = component_of([a.decode(errors="replace") for a in argv], comm)
            found.append((key, named, cpu))
        return found

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.samples += self._sample()

    def __enter__(self) -> Sampler:
        self.before = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples += self._sample()


def main(argv: Sequence[str]) -> int:
    command = list(argv) or ["make", "test"]
    started = time.monotonic()
    with Sampler() as sampler:
        rc = subprocess.run(command, check=False).returncode
    wall = time.monotonic() - started
    spent = tally(sampler.samples, sampler.before)
    total = sum(spent.values())
    print(f"suitecpu: {' '.join(command)}: exit {rc}, {wall:.0f} s wall, {total:.0f} CPU s")
    for component, cpu in sorted(spent.items(), key=lambda item: -item[1]):
        if cpu >= 0.5:
            print(f"  {cpu:8.1f} CPU s  {100 * cpu / total:5.1f} %  {component}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
