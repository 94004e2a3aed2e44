"""Starting the lab's kopf operators by forking the supervisor rather than executing a new
interpreter.

Every operator (the three enactors, the planner, the scenario controller) spends about 0.5 CPU
s of its start importing kopf and, through it, aiohttp and the Kubernetes client: 2.5 CPU s of
each `dnsrace up` (about a quarter of a lab start) and 0.5 s again at every restart. The
supervisor imports those libraries once (`preload`) and forks a child per operator, which runs
its module as `python -m MODULE` would (`runpy`, `__name__ == "__main__"`); the child's own
modules (`dnsrace.operators.*`, which register kopf handlers) are imported in the child only.

What a forked child gets is what an executed one gets from `processes.spawn`: stdin from
/dev/null, stdout and stderr appended to its log, the supervisor's environment with the
component's variables over it, no other open file, default SIGTERM and SIGINT handling, the
parent-death signal, the supervisor's process group; at its end, Python's own shutdown (its
non-daemon threads joined, then atexit's handlers) and its exit code as `SystemExit` gives it.
It differs in what a user may see of it: `/proc/PID/cmdline` (so `ps aux`) and
`/proc/PID/environ` are the supervisor's (the lab's state.json records each component's command
and variables instead), and the process's name (`ps -e`, `top`, `/proc/PID/comm`) is the
component's (`enactor-a`, `planner`, `scenario-contro`: the kernel keeps 15 bytes).

A process with threads is not forked (a lock another thread held would stay locked in the
child forever): the supervisor has none, and should one appear the child is executed as before.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import BinaryIO, NoReturn, TextIO

from dnsrace.lab import commands, processes

# What every kopf operator of the lab imports before its own code: kopf imports aiohttp and,
# when it is installed, the Kubernetes client's models.
PRELOADED = ("kopf", "kubernetes.client", "kubernetes.config", "kubernetes.watch")


def preload() -> None:
    """Import the operators' libraries into this process, so that forked children share them,
    and move every object there is now out of reach of Python's cyclic collector
    (`gc.freeze`): they live as long as the process, yet each full collection in an operator
    walked all of them again. Three race scenarios on a fresh lab: the collector's time in an
    enactor 0.08 to 0.10 s of its 0.5 to 0.9 CPU s, in the scenario controller 0.11 of 3.1 s;
    with the freeze 0.004 to 0.006 s and 0.010 s (measured with `gc.callbacks`)."""
    for module in PRELOADED:
        importlib.import_module(module)
    gc.freeze()


class Forked:
    """A child forked by `fork_module`: the part of `subprocess.Popen` the supervisor uses."""

    def __init__(self, pid: int, args: list[str]) -> None:
        self.pid, self.args = pid, args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone, its status lost (as Popen)
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            while (code := self.poll()) is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            return code
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


Child = subprocess.Popen[bytes] | Forked


def fork_module(module: str, log: Path, env: dict[str, str], name: str) -> Child:
    """Run `python -m module` as a child of this process, forked (executed instead when this
    process has threads), output appended to `log`, `env` over this process's environment."""
    argv = commands.python_module(module)
    if threading.active_count() > 1:
        return processes.spawn(argv, log, env)
    log.parent.mkdir(parents=True, exist_ok=True)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would write the parent's pending output again
    pid = os.fork()
    if pid == 0:
        _child(module, out, {**os.environ, **env}, name, parent)
    os.close(out)
    return Forked(pid, argv)


def _child(module: str, out: int, env: dict[str, str], name: str, parent: int) -> NoReturn:
    code = 1
    try:
        processes.die_with_parent()
        if os.getppid() != parent:  # the supervisor died before the signal was asked for
            os._exit(1)
        processes.name_this_process(name)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        for fd in [int(f) for f in os.listdir("/proc/self/fd")]:
            if fd > 2:  # (the listing's own descriptor is closed already)
                with contextlib.suppress(OSError):
                    os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 outlives this frame
        unbuffered = bool(env.get("PYTHONUNBUFFERED"))
        sys.stdout = _output(1, sys.stdout, unbuffered, by_line=False)
        sys.stderr = _output(2, sys.stderr, unbuffered, by_line=True)
        os.environ.clear()
        os.environ.update(env)
        _read_at_import_again()
        atexit._clear()  # the supervisor's handlers are not the child's
        sys.argv = [module]
        code = _run(module)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # nothing is left to report it to
                stream.flush()
        os._exit(code)


def _output(fd: int, old: TextIO, unbuffered: bool, by_line: bool) -> TextIO:
    """Standard output or error as a new interpreter opens them on a file: stdout in blocks,
    stderr by the line, both written through at once under $PYTHONUNBUFFERED (`-u`)."""
    raw = io.FileIO(fd, "w", closefd=False)
    binary: BinaryIO = raw if unbuffered else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        binary,
        encoding=old.encoding,
        errors=old.errors,
        line_buffering=by_line and not unbuffered,
        write_through=unbuffered,
    )


def _read_at_import_again() -> None:
    """What a preloaded library took from the environment when the supervisor imported it,
    taken again from the child's: the Kubernetes client's default kubeconfig, which kopf's login
    reads (`KUBE_CONFIG_DEFAULT_LOCATION`, kept by `kubernetes.config.kube_config` and copied
    into `kubernetes.config`). Without this an operator would log in with the supervisor's
    $KUBECONFIG (a user's own cluster, if one is set) instead of its ServiceAccount's.
    `tests/unit/test_forking.py` lists every read of the environment at import in the
    preloaded modules, so a library upgrade that adds one fails there."""
    if "kubernetes.config" not in sys.modules:
        return
    from kubernetes import config
    from kubernetes.config import kube_config

    location = os.environ.get("KUBECONFIG", "~/.kube/config")
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = location
    config.KUBE_CONFIG_DEFAULT_LOCATION = location


def _run(module: str) -> int:
    """The module as `python -m` runs it, then Python's own shutdown; its exit code."""
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # an uncaught exception: its traceback and 1, as the interpreter does
        traceback.print_exc()
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # non-daemon threads, as at exit
    atexit._run_exitfuncs()
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
