"""The probes' live copy of the record store (`RecordView`) against the lab's real etcd: after
every kind of write the protocol makes, once the copy has caught up with the store's revision,
it reads exactly what a snapshot transaction reads; a quiet stream is re-read and still
followed; an unreachable store is said (None), never answered from an empty copy."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.core.requests import ClearKeys, Snapshot
from dnsrace.lab import local
from dnsrace.scenarios.control import wait_for
from dnsrace.stores.records import EtcdRecordStore
from dnsrace.stores.recordview import RecordView

pytestmark = pytest.mark.integration


@pytest.fixture
def store(local_lab: local.LabState) -> Iterator[EtcdRecordStore]:
    s = EtcdRecordStore(local_lab.record_store)
    yield s
    s.client.close()


def caught_up(view: RecordView, store: EtcdRecordStore) -> Snapshot:
    revision = store.client.revision()
    return wait_for(
        lambda: (s := view.snapshot()) is not None and s.revision >= revision and s,
        10,
        f"the view to reach revision {revision}",
    )


def mine(snapshot: Snapshot, suffix: str) -> tuple[object, ...]:
    return tuple(o for o in snapshot.records if o.name.endswith(suffix))


def test_the_copy_reads_what_a_snapshot_reads_after_every_kind_of_write(
    store: EtcdRecordStore, dns_suffix: str
) -> None:
    regional, fips = f"dynamodb.{dns_suffix}", f"dynamodb-fips.{dns_suffix}"
    plan_1, plan_2 = f"p1-{dns_suffix}", f"p2-{dns_suffix}"
    lb1, lb2, lb3 = Target("127.0.0.11"), Target("127.0.0.12"), Target("127.0.0.13")
    view = RecordView(store).start()
    try:
        writes: list[Callable[[], object]] = [
            lambda: store.write(EndpointRecord(regional, 1, plan_1, "a", (lb1, lb2)), None),
            lambda: store.write(EndpointRecord(fips, 1, plan_1, "a", (lb1,)), 0),
            # a newer plan replaces one key and adds another (deletes and puts in one txn)
            lambda: store.write(
                EndpointRecord(regional, 2, plan_2, "b", (lb2, lb3)),
                store.read(regional).revision,
            ),
            # the clean-up: keys of a plan cleared, then the plan retired
            lambda: store.clear_keys_of_plans([plan_1]),
            lambda: store.retire(plan_1, store.client.revision()),
            lambda: store.execute(
                ClearKeys(regional, tuple(k for k, _, _ in store.read(regional).keys), (plan_2,))
            ),
            lambda: store.delete(fips),
        ]
        for write in writes:
            write()
            copy = caught_up(view, store)
            truth = store.snapshot()
            assert mine(copy, dns_suffix) == mine(truth, dns_suffix)
            assert (plan_1 in copy.retired) == (plan_1 in truth.retired)
        assert plan_1 in copy.retired, "the retired mark was followed"
        assert mine(copy, dns_suffix) != (), "the cleared endpoint keeps its metadata"
    finally:
        view.stop()


def test_a_quiet_stream_is_read_again_and_still_followed(
    store: EtcdRecordStore, dns_suffix: str
) -> None:
    view = RecordView(store, quiet_seconds=0.3).start()
    try:
        wait_for(lambda: view.resyncs >= 2, 10, "two quiet spells")
        name = f"dynamodb.{dns_suffix}"
        store.write(EndpointRecord(name, 3, "p", "c", (Target("127.0.0.12"),)), None)
        copy = caught_up(view, store)
        assert copy.observed(name) == store.read(name)
    finally:
        view.stop()


def test_an_unreachable_store_is_said_not_answered_from_an_empty_copy() -> None:
    view = RecordView(EtcdRecordStore("http://127.0.0.1:9"), quiet_seconds=0.3).start(0.5)
    try:
        assert view.snapshot() is None
    finally:
        view.stop()
