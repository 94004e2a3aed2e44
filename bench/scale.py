"""Scale: guarded convergence of one plan of 100, 1,000 and 10,000 fresh endpoints, with the
lab's 3 enactors and with 9 (six more run by the bench). Per run: convergence time, CAS
conflicts per endpoint, CPU seconds of the API server and of the two etcds, and the time from
the plan's creation to each endpoint answering through CoreDNS (a sample of endpoints probed in
turn; p50 and p99). Then how cost grows per 10x endpoints.

One region is one DNSPlan however large (docs/architecture.md, "Scale"); each size uses fresh
names under its own prefix, and a run's records are cleared before the next."""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass

from bench import measure
from bench.convergence import converge, endpoints
from dnsrace.core.names import ENACTORS
from dnsrace.core.records import META_ROOT, skydns_dir
from dnsrace.lab import local
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.etcd import EtcdClient

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "100,1000,10000").split(","))
# With the lab's a, b, c (walks from 0, 3/9, 6/9): nine, a ninth apart.
EXTRA = {"d": 1 / 9, "e": 2 / 9, "f": 4 / 9, "g": 5 / 9, "h": 7 / 9, "i": 8 / 9}
PROBED = 200  # endpoints sampled through CoreDNS per run


@dataclass(frozen=True)
class ScaleRun:
    endpoints: int
    enactors: int
    seconds: float
    walks_done: float  # until every enactor had walked the plan (reads of what others wrote)
    conflicts_per_endpoint: float
    apiserver_cpu: float
    etcd_api_cpu: float
    etcd_records_cpu: float
    answer_p50: float
    answer_p99: float


class FirstAnswers:
    """Probes a sample of endpoints through CoreDNS in turn, noting when each first answers."""

    def __init__(self, dns: str, names: tuple[str, ...]) -> None:
        step = max(1, len(names) // PROBED)
        self.names = list(names[::step])
        self.dns = dns
        self.at: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="first-answers", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set() and len(self.at) < len(self.names):
            for name in self.names:
                if name not in self.at and resolve(name, self.dns).addresses:
                    self.at[name] = time.monotonic()

    def finish(self, t0: float, timeout: float = 60) -> list[float]:
        deadline = time.monotonic() + timeout
        while len(self.at) < len(self.names) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop.set()
        self.thread.join()
        return [at - t0 for at in self.at.values()]


def _clear(state: local.LabState, tag: str) -> None:
    etcd = EtcdClient(state.record_store)
    first = endpoints(tag, 1)[0]
    etcd.delete_prefix(skydns_dir(first).rsplit("-e", 1)[0].encode())
    etcd.delete_prefix(f"{META_ROOT}/{tag}-e".encode())


def one(state: local.LabState, count: int, names: list[str], pids: dict[str, int]) -> ScaleRun:
    tag = f"s{count}x{len(names)}"
    probe = FirstAnswers(state.dns, endpoints(tag, count))
    result = converge(state, count, tag, names, pids)
    answers = probe.finish(result.started)
    _clear(state, tag)
    cpu = result.cpu
    return ScaleRun(
        count,
        len(names),
        result.seconds,
        result.all_applied,
        result.conflicts / count,
        cpu.total("kube-apiserver"),
        cpu.total("etcd-api"),
        cpu.total("etcd-records"),
        measure.percentile(answers, 0.5),
        measure.percentile(answers, 0.99),
    )


def runs(state: local.LabState) -> list[ScaleRun]:
    out = []
    measure.set_enactors(measure.lab_control(state), ENACTORS, protocol="guarded", paused=False)
    for count in SIZES:
        out.append(one(state, count, list(ENACTORS), {}))
    with measure.ExtraEnactors(state, EXTRA, "guarded") as extra:
        names = [*ENACTORS, *EXTRA]
        for count in SIZES:
            out.append(one(state, count, names, extra.pids))
    return out


def lines(results: list[ScaleRun]) -> list[str]:
    out = [
        "scale: endpoints enactors  converge  ms/endpt  all walked  CAS/endpt  CPU s: apiserver "
        "etcd-api etcd-rec  answer p50   p99"
    ]
    for r in results:
        out.append(
            f"scale: {r.endpoints:9,} {r.enactors:8} {r.seconds:8.2f}s"
            f" {r.seconds / r.endpoints * 1e3:9.2f} {r.walks_done:10.2f}s"
            f" {r.conflicts_per_endpoint:10.2f} {r.apiserver_cpu:16.2f} {r.etcd_api_cpu:8.2f}"
            f" {r.etcd_records_cpu:8.2f} {r.answer_p50:10.2f}s {r.answer_p99:6.2f}s"
        )
    for enactors in sorted({r.enactors for r in results}):
        mine = sorted((r for r in results if r.enactors == enactors), key=lambda r: r.endpoints)
        steps = [
            f"{a.endpoints:,}->{b.endpoints:,}: {b.seconds / a.seconds:5.1f}x time"
            for a, b in itertools.pairwise(mine)
        ]
        out.append(f"scale: growth per 10x endpoints, {enactors} enactors: " + "; ".join(steps))
    return out


def run(state: local.LabState) -> list[str]:
    return lines(runs(state))
