"""What the benchmarks share: the lab's API clients (admin and the Planner's own identity), plans
made as the planner makes them, the enactors set to a protocol, extra enactor processes, the CPU
time each lab process spent, and a passive observer of the record store that timestamps the
moment each endpoint first carries a generation (a watch on the metadata keys, so measuring
adds no reads to the store being measured)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, config

from dnsrace.core.names import GROUP, NAMESPACE, VERSION
from dnsrace.core.plans import Plan
from dnsrace.core.records import META_ROOT, decode_meta
from dnsrace.lab import identities, local, processes
from dnsrace.scenarios.control import LabControl
from dnsrace.stores import kube
from dnsrace.stores.etcd import EtcdClient, EtcdError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def admin_api(state: local.LabState) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(state.kubeconfig))


def planner_api(state: local.LabState) -> client.ApiClient:
    """The Planner's own ServiceAccount: the admission policy lets only it create plans."""
    path = identities.kubeconfig_path(state.dir, "planner")
    return config.new_client_from_config(config_file=str(path))


def lab_control(state: local.LabState) -> LabControl:
    """The lab driven from outside, as scenarios drive it; plans are created as the Planner's
    ServiceAccount (the admission policy lets only it, and the scenario controller, do so)."""
    return LabControl(admin_api(state), state.record_store, allocator=planner_api(state))


def set_enactors(control: LabControl, names: Iterable[str], **spec: Any) -> None:
    for name in names:
        control.enactor(name, **spec)


def make_plan(control: LabControl, endpoints: tuple[str, ...]) -> tuple[Plan, float]:
    """Create the next plan for `endpoints` as the planner does (the planner itself paused),
    with the targets of the newest plan; returns it and the monotonic time just before the
    create request (the moment the convergence clock starts)."""
    control.planner(paused=True)
    latest = control.newest_plan()
    assert latest is not None, "the lab has no plan to take targets from"
    t0 = time.monotonic()
    return control.create_plan(latest.targets, endpoints), t0


def process_times(pid: int) -> tuple[float, int] | None:
    """User + system CPU seconds a process has used so far, and its start time (clock ticks
    since boot: with the pid, what tells it from a later process given the same pid); None if
    it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[19])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    times = process_times(pid)
    return times[0] if times else 0.0


@dataclass
class CpuMeter:
    """CPU seconds per lab process between `start` and `stop` (by component name)."""

    pids: dict[str, int]
    before: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, state: local.LabState, extra: dict[str, int] | None = None) -> CpuMeter:
        fresh = local.LabState.load(state.dir) or state
        pids = {name: c.pid for name, c in fresh.components.items() if c.pid}
        return cls({**pids, **(extra or {})})

    def start(self) -> None:
        self.before = {n: cpu_seconds(p) for n, p in self.pids.items()}

    def stop(self) -> dict[str, float]:
        self.spent = {n: cpu_seconds(p) - self.before.get(n, 0.0) for n, p in self.pids.items()}
        return self.spent

    def total(self, prefix: str) -> float:
        return sum(s for n, s in self.spent.items() if n.startswith(prefix))


class Arrivals:
    """Watches the record store's metadata keys and notes, per endpoint and generation, the
    monotonic time the endpoint first carried it. Start it before the plan is created; `wait`
    for a generation once it is known (writes that came first are already noted)."""

    def __init__(self, url: str, names: Iterable[str]) -> None:
        self.client = EtcdClient(url)
        self.names = set(names)
        self.first: dict[tuple[str, int], float] = {}
        self.target: int | None = None
        self.arrived: dict[str, float] = {}
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = False
        self._start_revision = self.client.revision() + 1
        self._thread = threading.Thread(target=self._run, name="arrivals", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        prefix = (META_ROOT + "/").encode()
        try:
            for batch in self.client.watch(prefix, self._start_revision, timeout=900):
                now = time.monotonic()
                with self._changed:
                    for event in batch:
                        if event.value is not None:
                            record = decode_meta(event.value)
                            if record.name in self.names:
                                self.first.setdefault((record.name, record.generation), now)
                                if self.target is not None and record.generation >= self.target:
                                    self.arrived.setdefault(record.name, now)
                    self._changed.notify_all()
                    if self._stop:
                        return
        except (EtcdError, ValueError) as exc:
            with self._changed:
                self.error = exc
                self._changed.notify_all()

    def reached(self, generation: int) -> dict[str, float]:
        """Per endpoint, when it first carried `generation` or a newer one."""
        out: dict[str, float] = {}
        for (name, gen), at in self.first.items():
            if gen >= generation and (name not in out or at < out[name]):
                out[name] = at
        return out

    def wait(self, generation: int, timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        with self._changed:
            self.target = generation
            self.arrived = self.reached(generation)
            while True:
                if self.error:
                    raise self.error
                at = self.arrived
                if len(at) == len(self.names):
                    self._stop = True
                    return dict(at)
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = len(self.names) - len(at)
                    raise TimeoutError(f"{missing} endpoints not at g{generation} in {timeout:g} s")
                self._changed.wait(min(left, 1.0))


class ExtraEnactors:
    """Enactors beyond the lab's three (d, e, ...) for the scale benchmark: the same operator
    module, run by the bench with the lab's admin credentials (the lab's permission table names
    only a, b and c), stopped on exit."""

    def __init__(self, state: local.LabState, starts: dict[str, float], protocol: str) -> None:
        self.state = state
        self.starts = starts
        self.names = list(starts)
        self.protocol = protocol
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> ExtraEnactors:
        crd = client.CustomObjectsApi(admin_api(self.state))
        for name in self.names:
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Enactor",
                "metadata": {"name": name},
                "spec": {
                    "zone": "use1-az1",
                    "protocol": self.protocol,
                    "keep": 3,
                    "walkStart": self.starts[name],
                },
            }
            crd.create_namespaced_custom_object(
                GROUP, VERSION, NAMESPACE, "enactors", body, field_validation=kube.STRICT
            )
            metrics, live = processes.free_port(), processes.free_port()
            env = {
                **os.environ,
                "KUBECONFIG": str(self.state.kubeconfig),
                "DNSRACE_NAMESPACE": NAMESPACE,
                "DNSRACE_RECORD_STORE": self.state.record_store,
                "DNSRACE_METRICS_PORT": str(metrics),
                "DNSRACE_LIVENESS": f"http://{processes.LOOPBACK}:{live}/healthz",
                "DNSRACE_ENACTOR_ID": name,
            }
            log = (self.state.dir / f"bench-enactor-{name}.log").open("wb")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "dnsrace.operators.enactor"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # a new enactor first walks the newest plan there is (maybe a 10,000-endpoint one):
        # measure nothing until every one has caught up
        control = lab_control(self.state)
        newest_plan = control.newest_plan()
        wait_applied(
            control,
            self.names,
            newest_plan.generation if newest_plan else 0,
            timeout=60 + (len(newest_plan.endpoints) * 0.1 if newest_plan else 0),
        )
        return self

    @property
    def pids(self) -> dict[str, int]:
        return {f"enactor-{n}": p.pid for n, p in self.procs.items()}

    def __exit__(self, *_: object) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        crd = client.CustomObjectsApi(admin_api(self.state))
        for name in self.names:
            crd.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "enactors", name)


def go_runtime(api: client.ApiClient) -> dict[str, float]:
    """The API server's Go runtime, from its own /metrics: CPU seconds, GC cycles, resident
    bytes and the GOGC it runs with."""
    wanted = {
        "process_cpu_seconds_total": "cpu",
        "go_gc_duration_seconds_count": "cycles",
        "process_resident_memory_bytes": "resident",
        "go_gc_gogc_percent": "gogc",
    }
    answer = api.call_api("/metrics", "GET", auth_settings=["BearerToken"], _preload_content=False)
    out: dict[str, float] = {}
    for line in answer.data.decode().splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            out[wanted[name]] = float(value)
    return out


def cas_conflicts(control: LabControl, names: Iterable[str]) -> int:
    """The enactors' CAS conflicts so far (their status.casConflicts, summed)."""
    return sum(int(control.enactor_status(n).get("casConflicts", 0) or 0) for n in names)


def wait_applied(
    control: LabControl, names: Iterable[str], generation: int, timeout: float
) -> float:
    """Wait until every enactor says it applied `generation` (its walk and clean-up done);
    returns the monotonic time it saw the last one."""
    deadline = time.monotonic() + timeout
    for name in names:
        control.wait_applied(name, generation, max(1.0, deadline - time.monotonic()))
    return time.monotonic()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
