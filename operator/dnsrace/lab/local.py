"""The local lab's state folder and its client side: `up`, `down`, `status`, `env`.

`up` starts a detached supervisor (see supervisor.py) that owns every lab process, then waits
until the supervisor reports the lab ready in `<state>/state.json`. `down` stops the supervisor
and then makes sure nothing of its process group is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dnsrace.lab import processes, versions

STATE_FILE = "state.json"
DNS_ZONES = ("amazonaws.com", "api.aws")


class LabError(RuntimeError):
    """A lab operation failed; the message is one readable line for the CLI."""


def default_state_dir() -> Path:
    env = os.environ.get("DNSRACE_STATE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "dnsrace"


@dataclass
class ComponentState:
    pid: int = 0
    restarts: int = 0
    ready: bool = False
    # what runs: its command line (`python -m MODULE` for an operator forked from the
    # supervisor, whose /proc/PID/cmdline and environ are the supervisor's) and the variables
    # it was given over the supervisor's environment
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class LabState:
    """What the supervisor writes to `<state>/state.json` (and `dnsrace status` reads)."""

    state_dir: str
    supervisor_pid: int
    phase: str = "starting"  # starting | ready | failed | stopping
    error: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    components: dict[str, ComponentState] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return Path(self.state_dir)

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def dns(self) -> str:
        return f"{processes.LOOPBACK}:{self.ports['dns']}"

    @property
    def record_store(self) -> str:
        return f"http://{processes.LOOPBACK}:{self.ports['etcd_records']}"

    @property
    def apiserver(self) -> str:
        return f"https://{processes.LOOPBACK}:{self.ports['apiserver']}"

    def save(self) -> None:
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        tmp.replace(self.dir / STATE_FILE)

    @classmethod
    def load(cls, state_dir: Path) -> LabState | None:
        try:
            raw = json.loads((state_dir / STATE_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        comps = {k: ComponentState(**v) for k, v in raw.pop("components", {}).items()}
        return cls(components=comps, **raw)

    def alive(self) -> bool:
        return processes.pid_alive(self.supervisor_pid)


def env_lines(state: LabState) -> list[str]:
    """Shell lines for `eval "$(dnsrace env)"`."""
    kubectl_dir = versions.binaries().kubectl.parent
    return [
        f"export KUBECONFIG={state.kubeconfig}",
        f"export DNSRACE_DNS={state.dns}",
        f"export DNSRACE_RECORD_STORE={state.record_store}",
        f"export DNSRACE_STATE_DIR={state.dir}",
        f'export PATH="{kubectl_dir}:{Path(sys.executable).parent}:$PATH"',
    ]


def require_binaries() -> versions.Binaries:
    bins = versions.binaries()
    missing = bins.missing()
    if missing:
        raise LabError(
            f"pinned binaries not built ({', '.join(p.name for p in missing)}); run 'make setup'"
        )
    return bins


def up(
    state_dir: Path,
    dns_port: int | None = None,
    timeout: float = 300.0,
    control_plane_only: bool = False,
) -> LabState:
    """Start the local lab (or return the one already running) and wait until it is ready."""
    require_binaries()
    existing = LabState.load(state_dir)
    if existing is not None:
        if existing.alive() and existing.phase == "ready":
            return existing
        if existing.alive():
            raise LabError(
                f"a lab supervisor (pid {existing.supervisor_pid}) is {existing.phase} in "
                f"{state_dir}; wait for it or run 'dnsrace down'"
            )
        clean_stale(state_dir, existing)
    if dns_port is not None and not processes.port_is_free(dns_port, _DNS_KINDS):
        raise LabError(
            f"DNS port {dns_port} on 127.0.0.1 is taken by another process; free it or pick another"
        )
    if state_dir.exists():
        shutil.rmtree(state_dir)
    (state_dir / "logs").mkdir(parents=True)
    argv = [sys.executable, "-m", "dnsrace.lab.supervisor", "--state-dir", str(state_dir)]
    if dns_port is not None:
        argv += ["--dns-port", str(dns_port)]
    if control_plane_only:
        argv.append("--control-plane-only")
    with (state_dir / "logs" / "supervisor.log").open("ab") as log:
        sup = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = LabState.load(state_dir)
        if state is not None and state.phase == "ready":
            return state
        if state is not None and state.phase == "failed":
            _wait_gone(sup.pid, 30)
            raise LabError(f"lab failed to start: {state.error}")
        if sup.poll() is not None:
            tail = processes.last_lines(state_dir / "logs" / "supervisor.log", 1)
            raise LabError(f"lab supervisor exited with code {sup.returncode}: {tail.strip()}")
        time.sleep(0.2)
    down(state_dir)
    raise LabError(f"lab not ready after {timeout:.0f}s; see {state_dir}/logs/")


_DNS_KINDS = (socket.SOCK_DGRAM, socket.SOCK_STREAM)


def clean_stale(state_dir: Path, state: LabState) -> None:
    """A state folder whose supervisor is gone: kill whatever of its group survived."""
    leftovers = processes.group_members(state.supervisor_pid)
    if leftovers:
        processes.kill_group(state.supervisor_pid, grace=5)
    print(
        f"dnsrace: cleaned a stale lab in {state_dir} (supervisor pid {state.supervisor_pid} "
        f"was gone; {len(leftovers)} leftover processes stopped)",
        file=sys.stderr,
    )


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and processes.group_members(pid):
        time.sleep(0.1)


def down(state_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the lab: SIGTERM the supervisor (it stops its children in order), then make sure no
    process of its group is left. Returns False when there was no lab to stop."""
    state = LabState.load(state_dir)
    if state is None:
        return False
    pgid = state.supervisor_pid
    if processes.pid_alive(pgid):
        os.kill(pgid, signal.SIGTERM)
        _wait_gone(pgid, timeout)
    if processes.group_members(pgid):
        processes.kill_group(pgid, grace=5)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True


def _component_of(state_dir: Path, component: str) -> LabState:
    """The running lab's state, when `component` is one of its processes; LabError if not."""
    state = LabState.load(state_dir)
    if state is None or not state.alive():
        raise LabError(f"no lab is running in {state_dir}")
    if component not in state.components:
        raise LabError(f"no component {component!r}; one of: {', '.join(state.components)}")
    return state


def kill(state_dir: Path, component: str, hold: bool) -> int:
    """SIGKILL one lab process (the supervisor restarts it unless `hold`). Returns its pid."""
    state = _component_of(state_dir, component)
    holds = state_dir / "holds"
    holds.mkdir(exist_ok=True)
    if hold:
        (holds / component).touch()
    pid = state.components[component].pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return pid


def release(state_dir: Path, component: str, missing_ok: bool = False) -> None:
    """Let the supervisor restart a held component; LabError (nothing changed) when there is
    no such component or it is not held, unless `missing_ok` (clean-up code)."""
    hold = state_dir / "holds" / component
    if missing_ok:
        hold.unlink(missing_ok=True)
        return
    _component_of(state_dir, component)
    if not hold.exists():
        raise LabError(f"{component} is not held; nothing to release ('dnsrace kill --hold' holds)")
    hold.unlink()
