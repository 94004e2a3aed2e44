"""Record-store writes: unconditional (the unguarded protocol) against compare-and-swap (the
guarded one) on the real record-store etcd, and how soon CoreDNS serves a write."""

from __future__ import annotations

import time

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.lab import local
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.records import EtcdRecordStore

N = 300


def run(state: local.LabState) -> list[str]:
    store = EtcdRecordStore(state.record_store)
    targets = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))

    t0 = time.perf_counter()
    for i in range(N):
        store.write(EndpointRecord(f"u{i}.bench.amazonaws.com", 1, "p", "a", targets), None)
    unconditional = (time.perf_counter() - t0) / N

    t0 = time.perf_counter()
    for i in range(N):
        name = f"c{i}.bench.amazonaws.com"
        seen = store.read(name)
        assert store.write(EndpointRecord(name, 1, "p", "a", targets), seen.revision)
    cas = (time.perf_counter() - t0) / N

    t0 = time.perf_counter()
    for i in range(N):
        assert resolve(f"u{i}.bench.amazonaws.com", state.dns).addresses
    query = (time.perf_counter() - t0) / N
    return [
        f"records: unconditional write   {unconditional * 1e3:7.2f} ms/endpoint (n={N})",
        f"records: read + CAS write      {cas * 1e3:7.2f} ms/endpoint (n={N})",
        f"records: CAS / unconditional   {cas / unconditional:7.2f}x",
        f"records: DNS query via CoreDNS {query * 1e3:7.2f} ms/query (n={N})",
    ]
