"""The record store: endpoint record sets where CoreDNS reads them (etcd, SkyDNS layout), behind
a small interface with an in-memory twin.

`write(record, expect_revision)` is the one write path. `expect_revision=None` is the unguarded,
unconditional write; an int makes it a compare-and-swap on the endpoint's metadata key
(mod_revision must equal it; 0 means "must not exist yet"), done as one etcd transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dnsrace.core.records import (
    META_ROOT,
    SKYDNS_ROOT,
    EndpointRecord,
    Observed,
    Target,
    decode_meta,
    decode_target,
    encode_meta,
    encode_target,
    meta_key,
    skydns_dir,
    target_key,
)
from dnsrace.stores.etcd import Compare, Delete, EtcdClient, Put


class EtcdRecordStore:
    """The real store: the record-store etcd that CoreDNS's etcd plugin reads per query."""

    def __init__(self, url: str, meta_root: str = META_ROOT) -> None:
        self.etcd = EtcdClient(url)
        self.meta_root = meta_root

    def _meta_key(self, name: str) -> bytes:
        return meta_key(name).replace(META_ROOT, self.meta_root, 1).encode()

    def read(self, name: str) -> Observed:
        meta, _ = self.etcd.get(self._meta_key(name))
        kvs, _ = self.etcd.range_prefix(skydns_dir(name).encode())
        served = tuple(sorted(decode_target(kv.value)[0] for kv in kvs))
        return Observed(
            name=name,
            record=decode_meta(meta.value) if meta else None,
            served=served,
            revision=meta.mod_revision if meta else 0,
        )

    def read_all(self, names: Iterable[str]) -> dict[str, Observed]:
        """Many endpoints in two range reads (metadata, then every SkyDNS key)."""
        metas, _ = self.etcd.range_prefix((self.meta_root + "/").encode())
        records = {r.name: (r, kv.mod_revision) for kv in metas for r in [decode_meta(kv.value)]}
        keys, _ = self.etcd.range_prefix(f"{SKYDNS_ROOT}/".encode())
        served: dict[str, list[Target]] = {}
        for kv in keys:
            served.setdefault(_name_of_key(kv.key.decode()), []).append(decode_target(kv.value)[0])
        out = {}
        for name in names:
            rec, rev = records.get(name, (None, 0))
            out[name] = Observed(name, rec, tuple(sorted(served.get(name, []))), rev)
        return out

    def write(self, record: EndpointRecord, expect_revision: int | None) -> bool:
        existing, _ = self.etcd.range_prefix(skydns_dir(record.name).encode())
        wanted = {
            target_key(record.name, t).encode(): encode_target(record, t) for t in record.targets
        }
        ops: list[Put | Delete] = [Delete(kv.key) for kv in existing if kv.key not in wanted]
        ops += [Put(k, v) for k, v in wanted.items()]
        ops.append(Put(self._meta_key(record.name), encode_meta(record)))
        compare = (
            []
            if expect_revision is None
            else [Compare(self._meta_key(record.name), "MOD", "EQUAL", expect_revision)]
        )
        if expect_revision is not None:
            # The SkyDNS keys must also be what this writer saw: none added or removed since.
            compare += [Compare(kv.key, "MOD", "EQUAL", kv.mod_revision) for kv in existing]
        return self.etcd.txn(compare, ops).succeeded

    def clear_keys_of_plans(self, plans: Iterable[str]) -> list[str]:
        """Delete every SkyDNS key written from one of `plans`; returns the names touched."""
        doomed = set(plans)
        kvs, _ = self.etcd.range_prefix(f"{SKYDNS_ROOT}/".encode())
        touched: set[str] = set()
        for kv in kvs:
            _, plan, _, _ = decode_target(kv.value)
            if plan in doomed:
                self.etcd.txn([], [Delete(kv.key)])
                touched.add(_name_of_key(kv.key.decode()))
        return sorted(touched)

    def names(self) -> list[str]:
        kvs, _ = self.etcd.range_prefix((self.meta_root + "/").encode())
        return sorted(kv.key.decode()[len(self.meta_root) + 1 :] for kv in kvs)

    def delete(self, name: str) -> None:
        self.etcd.delete_prefix(skydns_dir(name).encode())
        self.etcd.txn([], [Delete(self._meta_key(name))])


def _name_of_key(key: str) -> str:
    """`/skydns/com/amazonaws/us-east-1/dynamodb/t-1` -> `dynamodb.us-east-1.amazonaws.com`."""
    labels = key.split("/")[2:-1]
    return ".".join(reversed(labels))


@dataclass
class MemoryRecordStore:
    """In-memory twin with the same CAS semantics (a revision counter per write)."""

    records: dict[str, EndpointRecord] = field(default_factory=dict)
    served: dict[str, tuple[Target, ...]] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    revision: int = 0

    def read(self, name: str) -> Observed:
        return Observed(
            name, self.records.get(name), self.served.get(name, ()), self.revisions.get(name, 0)
        )

    def read_all(self, names: Iterable[str]) -> dict[str, Observed]:
        return {name: self.read(name) for name in names}

    def write(self, record: EndpointRecord, expect_revision: int | None) -> bool:
        if expect_revision is not None and self.revisions.get(record.name, 0) != expect_revision:
            return False
        self.revision += 1
        self.records[record.name] = record
        self.served[record.name] = tuple(sorted(record.targets))
        self.revisions[record.name] = self.revision
        return True

    def clear_keys_of_plans(self, plans: Iterable[str]) -> list[str]:
        doomed = set(plans)
        touched = sorted(
            n for n, r in self.records.items() if r.plan in doomed and self.served.get(n)
        )
        for name in touched:
            self.served[name] = ()
        return touched

    def names(self) -> list[str]:
        return sorted(self.records)

    def delete(self, name: str) -> None:
        self.records.pop(name, None)
        self.served.pop(name, None)
        self.revisions.pop(name, None)
