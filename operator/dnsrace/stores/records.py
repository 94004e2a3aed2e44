"""The record store: endpoint record sets where CoreDNS reads them (etcd, SkyDNS layout).

`RecordStore` turns each record request of the protocol (`dnsrace.core.requests`) into exactly
one etcd transaction, over either the real etcd (`EtcdClient`) or its in-memory twin
(`MemoryEtcd`, which the checker uses): the same transactions, the same revisions. Reads are
read-only transactions (one snapshot); a write deletes the keys its read saw that it no longer
wants and puts the rest, unconditionally (unguarded) or as a compare-and-swap on the mod
revisions of the metadata and of every key it saw, plus, for the guarded protocol, the plan's
retired mark being absent. `RetirePlan` compares every endpoint's metadata over the prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from dnsrace.core.plans import Plan
from dnsrace.core.protocol import Execute
from dnsrace.core.records import (
    META_ROOT,
    RETIRED_ROOT,
    SKYDNS_ROOT,
    EndpointRecord,
    Observed,
    decode_meta,
    decode_target,
    encode_meta,
    encode_target,
    meta_key,
    name_of_key,
    retired_key,
    skydns_dir,
    target_key,
)
from dnsrace.core.requests import (
    ClearKeys,
    DeletePlan,
    ReadAll,
    ReadEndpoint,
    Request,
    Response,
    RetirePlan,
    Snapshot,
    WriteEndpoint,
    WriteResult,
)
from dnsrace.stores.etcd import (
    Compare,
    Delete,
    EtcdClient,
    KeyValue,
    Op,
    Put,
    Range,
    TxnResult,
)
from dnsrace.stores.memetcd import MemoryEtcd

RecordRequest = ReadEndpoint | ReadAll | WriteEndpoint | ClearKeys | RetirePlan


class KV(Protocol):
    def txn(
        self, compare: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op] = ()
    ) -> TxnResult: ...
    def range_prefix(self, prefix: bytes) -> tuple[list[KeyValue], int]: ...
    def delete_prefix(self, prefix: bytes) -> int: ...
    def close(self) -> None: ...


def _observed(name: str, meta: KeyValue | None, keys: Iterable[KeyValue]) -> Observed:
    decoded = [(kv, decode_target(kv.value)) for kv in keys]
    return Observed(
        name=name,
        record=decode_meta(meta.value) if meta else None,
        served=tuple(sorted(t for _, (t, _, _, _) in decoded)),
        revision=meta.mod_revision if meta else 0,
        keys=tuple(
            sorted((kv.key.decode(), kv.mod_revision, plan) for kv, (_, plan, _, _) in decoded)
        ),
    )


class RecordStore:
    """Record requests as etcd transactions, over etcd or its twin."""

    def __init__(self, kv: KV, meta_root: str = META_ROOT) -> None:
        self.etcd = kv
        self.meta_root = meta_root

    def _meta_key(self, name: str) -> bytes:
        return meta_key(name).replace(META_ROOT, self.meta_root, 1).encode()

    # the protocol's requests ----------------------------------------------------------------
    def execute(self, request: RecordRequest) -> Observed | Snapshot | WriteResult | bool:
        if isinstance(request, ReadEndpoint):
            return self.read(request.name)
        if isinstance(request, ReadAll):
            return self.snapshot()
        if isinstance(request, WriteEndpoint):
            return self.write_over(request)
        if isinstance(request, ClearKeys):
            res = self.etcd.txn([], [Delete(k.encode()) for k in request.keys])
            return bool(res.succeeded)
        return self.retire(request.plan, request.snapshot)

    def read(self, name: str) -> Observed:
        res = self.etcd.txn(
            [], [Range(self._meta_key(name)), Range(skydns_dir(name).encode(), prefix=True)]
        )
        meta, keys = res.ranges
        assert meta is not None
        assert keys is not None
        return _observed(name, meta[0] if meta else None, keys)

    def snapshot(self) -> Snapshot:
        revision, kvs = self.raw()
        return self.snapshot_of(revision, kvs)

    def prefixes(self) -> tuple[bytes, bytes, bytes]:
        """Where the store's keys live: metadata, SkyDNS keys, retired marks."""
        return (
            (self.meta_root + "/").encode(),
            f"{SKYDNS_ROOT}/".encode(),
            f"{RETIRED_ROOT}/".encode(),
        )

    def raw(self) -> tuple[int, list[KeyValue]]:
        """Every key of the store, read in one transaction, and the revision it saw."""
        res = self.etcd.txn([], [Range(p, prefix=True) for p in self.prefixes()])
        return res.revision, [kv for kvs in res.ranges for kv in kvs or ()]

    def snapshot_of(self, revision: int, kvs: Iterable[KeyValue]) -> Snapshot:
        """The endpoints and retired plans that the store's keys `kvs` at `revision` hold."""
        meta_prefix, key_prefix, retired_prefix = self.prefixes()
        metas, keys, retired = [], [], []
        for kv in kvs:
            if kv.key.startswith(meta_prefix):
                metas.append(kv)
            elif kv.key.startswith(key_prefix):
                keys.append(kv)
            elif kv.key.startswith(retired_prefix):
                retired.append(kv)
        by_name: dict[str, tuple[KeyValue | None, list[KeyValue]]] = {}
        for kv in metas:
            by_name[decode_meta(kv.value).name] = (kv, [])
        for kv in keys:
            name = name_of_key(kv.key.decode())
            by_name.setdefault(name, (None, []))[1].append(kv)
        return Snapshot(
            revision,
            tuple(_observed(n, m, ks) for n, (m, ks) in sorted(by_name.items())),
            frozenset(kv.key.decode()[len(RETIRED_ROOT) + 1 :] for kv in retired),
        )

    def write_over(self, request: WriteEndpoint) -> WriteResult:
        record, seen = request.record, request.seen
        wanted = {target_key(record.name, t): encode_target(record, t) for t in record.targets}
        ops: list[Op] = [Delete(k.encode()) for k, _, _ in seen.keys if k not in wanted]
        ops += [Put(k.encode(), v) for k, v in wanted.items()]
        ops.append(Put(self._meta_key(record.name), encode_meta(record), prev_kv=True))
        compare: list[Compare] = []
        if request.cas:
            compare.append(Compare(self._meta_key(record.name), "MOD", "EQUAL", seen.revision))
            # the SkyDNS keys must be what this writer saw: none changed, none gone...
            compare += [Compare(k.encode(), "MOD", "EQUAL", rev) for k, rev, _ in seen.keys]
            # ...and none added (a key it did not see would stay behind)
            for key in wanted:
                if key not in {k for k, _, _ in seen.keys}:
                    compare.append(Compare(key.encode(), "CREATE", "EQUAL", 0))
        failure: list[Op] = []
        if request.unless_retired:
            mark = retired_key(record.plan).encode()
            compare.append(Compare(mark, "CREATE", "EQUAL", 0))
            failure.append(Range(mark))
        res = self.etcd.txn(compare, ops, failure)
        if res.succeeded:
            prev = res.ranges[-1] if res.ranges else None
            return WriteResult(True, replaced=decode_meta(prev[0].value) if prev else None)
        retired = bool(res.ranges and res.ranges[0])
        return WriteResult(False, plan_retired=retired)

    def retire(self, plan: str, snapshot: int) -> bool:
        unchanged = Compare((self.meta_root + "/").encode(), "MOD", "LESS", snapshot + 1, True)
        return self.etcd.txn([unchanged], [Put(retired_key(plan).encode(), b"")]).succeeded

    # maintenance paths: repair by hand, the CLI, tests ----------------------------------------
    def read_all(self, names: Iterable[str]) -> dict[str, Observed]:
        snap = self.snapshot()
        return {name: snap.observed(name) for name in names}

    def write(self, record: EndpointRecord, expect_revision: int | None) -> bool:
        """Write `record`: unconditionally (None), or only if the metadata's mod revision is
        `expect_revision` (0: must not exist yet) and the keys are as read now."""
        seen = self.read(record.name)
        if expect_revision is not None and seen.revision != expect_revision:
            return False
        return self.write_over(
            WriteEndpoint(record, seen, cas=expect_revision is not None)
        ).succeeded

    def clear_keys_of_plans(self, plans: Iterable[str]) -> list[str]:
        """Delete every SkyDNS key written from one of `plans`; returns the names touched."""
        doomed = set(plans)
        touched = []
        for obs in self.snapshot().records:
            keys = tuple(k for k, _, p in obs.keys if p in doomed)
            if keys:
                self.execute(ClearKeys(obs.name, keys, tuple(doomed)))
                touched.append(obs.name)
        return touched

    def names(self) -> list[str]:
        kvs, _ = self.etcd.range_prefix((self.meta_root + "/").encode())
        return sorted(kv.key.decode()[len(self.meta_root) + 1 :] for kv in kvs)

    def delete(self, name: str) -> None:
        self.etcd.delete_prefix(skydns_dir(name).encode())
        self.etcd.txn([], [Delete(self._meta_key(name))])

    def clear_retired(self) -> None:
        """Forget every retired-plan mark (a lab reset, once the plans are gone)."""
        self.etcd.delete_prefix(f"{RETIRED_ROOT}/".encode())


class PlanDeleter(Protocol):
    def delete(self, plan: Plan, precondition: bool) -> bool: ...


def executor(records: RecordStore, plans: PlanDeleter) -> Execute:
    """The protocol's requests against the stores: DNSPlan deletes to the plan store, every
    other request to the record store (live: etcd and the API; checker: their twins)."""

    def execute(request: Request) -> Response:
        if isinstance(request, DeletePlan):
            return plans.delete(request.plan, request.precondition)
        return records.execute(request)

    return execute


class EtcdRecordStore(RecordStore):
    """The real store: the record-store etcd that CoreDNS's etcd plugin reads per query."""

    def __init__(self, url: str, meta_root: str = META_ROOT) -> None:
        self.client = EtcdClient(url)
        super().__init__(self.client, meta_root)


class MemoryRecordStore(RecordStore):
    """The in-memory twin: the same transactions on `MemoryEtcd`."""

    def __init__(self, kv: MemoryEtcd | None = None) -> None:
        super().__init__(kv if kv is not None else MemoryEtcd())
