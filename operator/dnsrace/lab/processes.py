"""Child processes of the lab supervisor: free loopback ports, spawning with parent-death signal,
readiness probes over HTTP(S), and finding every process of a process group (no orphans)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dnsrace.lab.forking import Child

LOOPBACK = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


class PortTaken(RuntimeError):
    """A port the lab was asked to use is already bound by another process."""


def free_port(kinds: tuple[int, ...] = (socket.SOCK_STREAM,)) -> int:
    """A loopback port that is free now for every socket kind given (TCP, and UDP for DNS)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kinds[0]) as first:
            first.bind((LOOPBACK, 0))
            port = int(first.getsockname()[1])
            if all(port_is_free(port, (k,)) for k in kinds[1:]):
                return port
    raise RuntimeError("no free loopback port found after 50 tries")


def port_is_free(
    port: int, kinds: tuple[int, ...] = (socket.SOCK_STREAM,), address: str = LOOPBACK
) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return False
                raise
    return True


def _prctl(option: int, arg: int | bytes) -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, arg, 0, 0, 0)


def die_with_parent() -> None:
    """preexec_fn: the kernel SIGKILLs this child when the supervisor dies (no graceful path
    is left to wait for: the supervisor that would order the shutdown is gone)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def name_this_process(name: str) -> None:
    """This process's name as `ps -e`, `top` and /proc/PID/comm show it (the kernel keeps 15
    bytes); its command line stays as it was."""
    _prctl(_PR_SET_NAME, name.encode()[:15])


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a child in the supervisor's process group, output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=die_with_parent,
        )


def http_ok(url: str, ctx: ssl.SSLContext | None = None, expect: bytes | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
            body: bytes = resp.read()
            return resp.status == 200 and (expect is None or expect in body)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def http_post(url: str, doc: object, ctx: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """POST `doc` as JSON: the status and body, whatever the status (0: no answer)."""
    req = urllib.request.Request(
        url,
        data=json.dumps(doc).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=2, context=ctx) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return 0, b""


def wait_until(
    ready: Callable[[], bool],
    proc: Child,
    timeout: float,
    what: str,
    log: Path,
) -> None:
    """Poll `ready` until true; fail early with the log's last line if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChildFailed(what, proc.returncode, last_lines(log))
        if ready():
            return
        time.sleep(0.2)
    raise ChildFailed(what, None, last_lines(log), timed_out=timeout)


class ChildFailed(RuntimeError):
    def __init__(self, what: str, code: int | None, tail: str, timed_out: float | None = None):
        self.what, self.code, self.tail = what, code, tail
        self.address_in_use = "address already in use" in tail.lower()
        how = f"not ready after {timed_out:.0f}s" if timed_out else f"exited with code {code}"
        super().__init__(
            f"{what} {how}: {tail.strip().splitlines()[-1] if tail.strip() else '(no output)'}"
        )


def last_lines(log: Path, n: int = 5) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return ""


def group_members(pgid: int) -> list[int]:
    """Pids of live processes whose process group is `pgid` (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields after "comm)": state ppid pgrp ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def kill_group(pgid: int, grace: float = 10.0) -> list[int]:
    """SIGTERM every member of the group, then SIGKILL what is left after `grace` seconds.
    Returns the pids that had to be killed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_members(pgid):
        time.sleep(0.1)
    stubborn = group_members(pgid)
    if stubborn:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and group_members(pgid):
            time.sleep(0.05)
    return stubborn
