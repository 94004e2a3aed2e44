"""The history oracle on the lab's real record-store etcd: the record store's own transactions
(a CAS write, an unconditional stale write, a clean-up's clear), read back as etcd's history
(a historical range at the start revision and a watch from it), judged at every revision."""

from __future__ import annotations

import secrets

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.core.requests import ClearKeys, WriteEndpoint
from dnsrace.lab import local
from dnsrace.scenarios import history
from dnsrace.scenarios.oracle import PlanPoll
from dnsrace.stores.etcd import EtcdClient
from dnsrace.stores.records import RecordStore

POOL = (Target("127.0.0.11", 100, "lb-1"),)


def test_the_oracle_reads_the_real_history_and_finds_each_break(local_lab: local.LabState) -> None:
    client = EtcdClient(local_lab.record_store)
    store = RecordStore(client)
    tag = secrets.token_hex(3)
    first, second = f"dynamodb.{tag}.oracle.amazonaws.com", f"account.{tag}.oracle.amazonaws.com"

    def rec(name: str, gen: int) -> EndpointRecord:
        return EndpointRecord(name, gen, f"oracle-{tag}-g{gen}", "a", POOL)

    # a record written before the run: the oracle starts from the store as it then stands
    assert store.write_over(WriteEndpoint(rec(first, 1), store.read(first), cas=True)).succeeded
    start = client.revision()
    assert store.write_over(WriteEndpoint(rec(first, 3), store.read(first), cas=True)).succeeded
    assert store.write_over(WriteEndpoint(rec(second, 3), store.read(second), cas=True)).succeeded
    # a stale, unconditional write of the first endpoint: back to g2, still answering
    assert store.write_over(WriteEndpoint(rec(first, 2), store.read(first), cas=False)).succeeded
    # the clean-up clears the second endpoint's keys: it has metadata and no targets
    keys = tuple(k for k, _, _ in store.read(second).keys)
    assert store.execute(ClearKeys(second, keys, (f"oracle-{tag}-g3",)))
    mid = client.revision()
    # the lab's own operators may write meanwhile: find this test's revisions in the history
    _, so_far = history.read(client, start, mid)
    stale = next(
        c.revision
        for c in so_far
        if c.key == f"/dnsrace/endpoints/{first}" and c.value and b'"generation": 2' in c.value
    )
    cleared = next(c.revision for c in so_far if second_dir(second) in c.key and c.value is None)
    # the plan the first endpoint now uses is deleted while it does (polls order it)
    g2 = f"oracle-{tag}-g2"
    polls = [PlanPoll(start, frozenset({g2}), start), PlanPoll(stale, frozenset(), stale)]
    end = client.revision()

    initial, changes = history.read(client, start, end)
    assert f"/dnsrace/endpoints/{first}" in initial  # the state at the start revision
    assert [c.revision for c in changes] == sorted(c.revision for c in changes)
    assert {stale, cleared} <= {c.revision for c in changes}

    report = history.judge(client, start, end, polls)
    mine = {(f.invariant, f.revision, f.endpoint) for f in report.findings if tag in f.endpoint}
    assert mine == {("I2", stale, first), ("I1", cleared, second), ("I3", stale + 1, first)}
    assert report.word == "OUTAGE"
    assert report.revisions_checked == end - start + 1


def second_dir(name: str) -> str:
    return "/skydns/" + "/".join(reversed(name.split("."))) + "/"
