"""The record store's limit and the client's cost, measured in one run on the lab's
record-store etcd:

- raw: etcd's own benchmark tool (`etcd-benchmark stm`, built by `hack/build.sh bench` from the
  pinned etcd modules) over gRPC, one client and then several, each transaction one read and
  one compare-and-put of that key: the shape of a guarded write, with nothing of Python's;
- client: the same read and compare-and-put from Python through `EtcdClient` (the JSON gateway,
  urllib3), one thread and then several;
- record store: what an enactor's guarded write really sends, `RecordStore.read` and a CAS
  `write_over` of a two-target record (a two-range read, then one transaction of four compares
  and three puts), and the unguarded unconditional write.

Each is printed as ms per read + write and as a ratio to the raw sequential figure; `Limits`
carries them to the convergence benchmark."""

from __future__ import annotations

import random
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.core.requests import WriteEndpoint
from dnsrace.lab import local, versions
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.etcd import Compare, EtcdClient, Put, Range
from dnsrace.stores.records import EtcdRecordStore

KEYS = 1000  # the key space the transactions draw from (as a 1,000-endpoint plan)
RAW_TOTAL = 4000  # transactions per etcd-benchmark run
PY_TOTAL = 1000  # read + CAS pairs per Python run
CLIENTS = 8  # the concurrent runs
VALUE = b"x" * 120  # about a SkyDNS value's size


@dataclass(frozen=True)
class Limits:
    raw_ms: float  # etcd-benchmark, one client: ms per read + CAS
    raw_concurrent_ms: float  # etcd-benchmark, CLIENTS clients: ms per read + CAS (1/throughput)
    client_ms: float  # EtcdClient, same shape, one thread
    client_concurrent_ms: float
    record_cas_ms: float  # RecordStore read + CAS write_over (the guarded write)
    record_unconditional_ms: float
    query_ms: float  # one DNS query through CoreDNS


def benchmark_binary() -> Path:
    v = versions.read_versions()
    path = versions.cache_dir() / f"etcd-benchmark-{v['ETCD_BENCHMARK_VERSION']}" / "etcd-benchmark"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run `hack/build.sh bench` (make bench does)")
    return path


def raw(state: local.LabState, clients: int) -> float:
    """ms per transaction (read + CAS) at `clients` concurrent clients: 1000 / throughput."""
    endpoint = state.record_store.removeprefix("http://")
    out = subprocess.run(
        [
            str(benchmark_binary()),
            "--endpoints",
            endpoint,
            "--clients",
            str(clients),
            "--conns",
            str(min(clients, 4)),
            "--precise",
            "stm",
            "--keys",
            str(KEYS),
            "--keys-per-txn",
            "1",
            "--txn-wr-percent",
            "100",
            "--val-size",
            str(len(VALUE)),
            "--total",
            str(RAW_TOTAL),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"etcd-benchmark printed no Requests/sec:\n{out[-2000:]}")
    return 1000.0 / float(match.group(1))


def _read_cas(etcd: EtcdClient, key: bytes) -> None:
    res = etcd.txn([], [Range(key)])
    found = res.ranges[0] or ()
    rev = found[0].mod_revision if found else 0
    etcd.txn([Compare(key, "MOD", "EQUAL", rev)], [Put(key, VALUE)])


def client(state: local.LabState, threads: int, rng: random.Random) -> float:
    """ms per read + CAS through EtcdClient, `threads` at once (each with its own client)."""
    keys = [f"/bench/stm/{rng.randrange(KEYS)}".encode() for _ in range(PY_TOTAL)]
    clients = [EtcdClient(state.record_store) for _ in range(threads)]
    share = [keys[i::threads] for i in range(threads)]

    def work(i: int) -> None:
        for key in share[i]:
            _read_cas(clients[i], key)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return (time.perf_counter() - t0) / PY_TOTAL * 1e3


def record_store(state: local.LabState) -> tuple[float, float, float]:
    """(guarded read + CAS, unguarded read + write, DNS query) in ms per endpoint."""
    store = EtcdRecordStore(state.record_store)
    targets = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))
    n = 300

    def walk(prefix: str, cas: bool) -> float:
        t0 = time.perf_counter()
        for i in range(n):
            name = f"{prefix}{i}.bench.amazonaws.com"
            seen = store.read(name)
            record = EndpointRecord(name, 1, "p", "a", targets)
            assert store.write_over(WriteEndpoint(record, seen, cas=cas)).succeeded
        return (time.perf_counter() - t0) / n * 1e3

    unconditional, cas = walk("u", False), walk("c", True)
    t0 = time.perf_counter()
    for i in range(n):
        assert resolve(f"u{i}.bench.amazonaws.com", state.dns).addresses
    return cas, unconditional, (time.perf_counter() - t0) / n * 1e3


def measure(state: local.LabState, seed: int = 1) -> Limits:
    rng = random.Random(seed)
    raw_seq = raw(state, 1)
    raw_conc = raw(state, CLIENTS)
    py_seq = client(state, 1, rng)
    py_conc = client(state, CLIENTS, rng)
    cas, unconditional, query = record_store(state)
    return Limits(raw_seq, raw_conc, py_seq, py_conc, cas, unconditional, query)


def lines(limits: Limits) -> list[str]:
    r = limits.raw_ms

    def row(label: str, ms: float) -> str:
        return f"store: {label:<52} {ms:7.3f} ms  {ms / r:6.2f}x raw"

    return [
        row("raw etcd (etcd-benchmark stm, gRPC, 1 client)", r),
        row(f"raw etcd ({CLIENTS} clients; ms = 1/throughput)", limits.raw_concurrent_ms),
        row("Python EtcdClient, same read + CAS, 1 thread", limits.client_ms),
        row(f"Python EtcdClient, {CLIENTS} threads (1/throughput)", limits.client_concurrent_ms),
        row("record store: guarded read + CAS (2 targets)", limits.record_cas_ms),
        row("record store: unguarded read + write", limits.record_unconditional_ms),
        f"store: DNS query through CoreDNS {limits.query_ms:29.3f} ms",
    ]


def run(state: local.LabState) -> tuple[list[str], Limits]:
    limits = measure(state)
    return lines(limits), limits
