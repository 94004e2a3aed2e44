"""The checker's etcd twin answers the record store's transactions as the real etcd does: one
script of reads, CAS writes that win and lose, unconditional writes, retire marks and their
snapshot compare, run on the lab's record-store etcd and on `MemoryEtcd`, gives the same
transcript (revisions compared by their order, since the real store's numbers start elsewhere)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from dnsrace.core.records import RETIRED_ROOT, EndpointRecord, Observed, Target
from dnsrace.core.requests import ClearKeys, WriteEndpoint, WriteResult
from dnsrace.lab import local
from dnsrace.stores.etcd import Delete, EtcdClient, EtcdError, Op, Put
from dnsrace.stores.memetcd import MemoryEtcd
from dnsrace.stores.records import KV, RecordStore

POOL = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))


def script(kv: KV, tag: str) -> list[Any]:
    """What the protocol's requests answer, in order."""
    store = RecordStore(kv, meta_root=f"/dnsrace-twin-{tag}/endpoints")
    name, other = f"r.{tag}.twin.amazonaws.com", f"o.{tag}.twin.amazonaws.com"
    p1, p2, gone = f"{tag}-g1", f"{tag}-g2", f"{tag}-gone"

    def rec(gen: int, plan: str, targets: tuple[Target, ...] = POOL) -> EndpointRecord:
        return EndpointRecord(name, gen, plan, "a", targets)

    out: list[Any] = []
    first = store.read(name)
    out.append(first)
    out.append(store.write_over(WriteEndpoint(rec(1, p1), first, cas=True, unless_retired=True)))
    fresh = store.read(name)
    out.append(fresh)
    # a CAS over the stale read loses; over the fresh one it wins and says what it replaced
    out.append(store.write_over(WriteEndpoint(rec(2, p2), first, cas=True)))
    out.append(store.write_over(WriteEndpoint(rec(2, p2, POOL[:1]), fresh, cas=True)))
    # unconditional over an old read: deletes only the keys that read saw
    out.append(store.write_over(WriteEndpoint(rec(1, p1), first, cas=False)))
    out.append(store.read(name))
    snap = store.snapshot()
    out.append(store.retire(gone, snap.revision))
    out.append(
        store.write_over(
            WriteEndpoint(rec(3, gone), store.read(name), cas=True, unless_retired=True)
        )
    )
    store.write_over(
        WriteEndpoint(EndpointRecord(other, 1, p1, "b", POOL), store.read(other), cas=False)
    )
    out.append(store.retire(f"{tag}-late", snap.revision))  # a record changed since: refused
    keys = tuple(k for k, _, _ in store.read(name).keys)
    out.append(store.execute(ClearKeys(name, keys, (p1,))))
    out.append(store.read(name))
    put_and_delete: list[Op] = [
        Put(b"/twin/" + tag.encode(), b"1"),
        Delete(b"/twin/" + tag.encode()),
    ]
    for ops in (put_and_delete,):
        try:
            kv.txn([], ops)
            out.append("accepted")
        except (EtcdError, ValueError) as exc:
            out.append("refused: duplicate key" if "duplicate key" in str(exc) else str(exc))
    kv.delete_prefix(f"/dnsrace-twin-{tag}/".encode())
    kv.delete_prefix(f"{RETIRED_ROOT}/{tag}-".encode())
    kv.delete_prefix(f"/skydns/com/amazonaws/twin/{tag}/".encode())
    return [normalise(item, tag) for item in out]


def normalise(item: Any, tag: str) -> Any:
    """Revisions by order of appearance (what the protocol's compares can tell), tags out."""
    if isinstance(item, Observed):
        return (
            item.record,
            item.served,
            item.revision > 0,
            tuple((k.replace(tag, "T"), p.replace(tag, "T")) for k, _, p in item.keys),
            len({rev for _, rev, _ in item.keys}),
        )
    if isinstance(item, WriteResult):
        return (item.succeeded, item.plan_retired, item.replaced)
    return item


def _untag(items: list[Any], tag: str) -> str:
    return repr(items).replace(tag, "T")


def test_memory_etcd_answers_the_protocol_as_etcd_does(local_lab: local.LabState) -> None:
    tag = f"t{secrets.token_hex(3)}"
    real = EtcdClient(local_lab.record_store)
    try:
        live = script(real, tag)
    finally:
        real.close()
    twin = script(MemoryEtcd(), tag)
    assert _untag(twin, tag) == _untag(live, tag)
    # and the script had ways to fail: CAS lost and won, retire refused and granted
    writes = [x for x in live if isinstance(x, tuple) and len(x) == 3]
    assert [w[0] for w in writes] == [True, False, True, True, False]
    assert writes[-1][1] is True  # refused because its plan was retired
    assert [x for x in live if isinstance(x, bool)] == [True, False, True]
    assert live[-1] == "refused: duplicate key"


@pytest.mark.parametrize("prefix", [False, True])
def test_a_compare_over_an_empty_range_is_an_absent_key(
    local_lab: local.LabState, prefix: bool
) -> None:
    from dnsrace.stores.etcd import Compare

    key = f"/twin-empty/{secrets.token_hex(3)}/".encode()
    real = EtcdClient(local_lab.record_store)
    try:
        for target, value in (("MOD", 0), ("CREATE", 0), ("VALUE", b"")):
            c = Compare(key, target, "EQUAL", value, prefix)  # type: ignore[arg-type]
            assert real.txn([c], []).succeeded == MemoryEtcd().txn([c], []).succeeded
    finally:
        real.close()


def test_a_prefix_watch_gives_the_puts_and_deletes_under_it_in_order(
    local_lab: local.LabState,
) -> None:
    """`EtcdClient.watch` (the bench's arrival clock) and `history` (the oracle's source) read
    the same stream: only keys under the prefix, from the start revision, in order."""
    tag = secrets.token_hex(3)
    mine, other = f"/watch-{tag}/".encode(), f"/watch-{tag}-other/".encode()
    real = EtcdClient(local_lab.record_store)
    try:
        start = real.revision() + 1
        real.put(mine + b"a", b"1")
        real.put(other + b"x", b"9")
        real.put(mine + b"b", b"2")
        real.txn([], [Delete(mine + b"a")])
        end = real.revision()
        seen = []
        for batch in real.watch(mine, start, timeout=10):
            seen += [(e.key, e.value) for e in batch]
            if len(seen) >= 3:
                break
        assert seen == [(mine + b"a", b"1"), (mine + b"b", b"2"), (mine + b"a", None)]
        everything = real.history(start, end)
        assert [e.key for e in everything] == [mine + b"a", other + b"x", mine + b"b", mine + b"a"]
        assert [e.revision for e in everything] == list(range(start, end + 1))
    finally:
        real.close()
