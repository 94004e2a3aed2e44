"""The in-memory twin of the record-store etcd: the same `txn` as `EtcdClient`, with etcd's
semantics where the protocol can tell them apart: one store revision per transaction that
changes something, mod/create revisions and versions per key, compares on a key or over a prefix
(no key there compares as an absent key: revisions 0, a VALUE compare fails), reads inside a
transaction see one snapshot, and a transaction that writes and deletes the same key is refused.

The checker runs the enactors' very transactions against it, so a compare-and-swap or a
snapshot compare can fail here exactly when it can fail on etcd
(`tests/integration/test_memetcd_twin.py` runs one script on both and compares)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dnsrace.stores.etcd import Compare, Delete, DeletePrefix, KeyValue, Op, Put, Range, TxnResult

Frozen = tuple[int, tuple[KeyValue, ...]]


def _compare_one(c: Compare, kv: KeyValue | None) -> bool:
    if kv is None:
        if c.target == "VALUE":
            return False
        kv = KeyValue(c.key, b"", 0, 0, 0)
    actual: int | bytes
    if c.target == "MOD":
        actual = kv.mod_revision
    elif c.target == "CREATE":
        actual = kv.create_revision
    elif c.target == "VERSION":
        actual = kv.version
    else:
        actual = kv.value
    want = c.value
    if isinstance(actual, bytes) != isinstance(want, bytes):
        raise ValueError(f"compare {c.target} with a {type(want).__name__}")
    if c.result == "EQUAL":
        return actual == want
    if c.result == "NOT_EQUAL":
        return actual != want
    if c.result == "GREATER":
        return actual > want  # type: ignore[operator]
    return actual < want  # type: ignore[operator]


@dataclass
class MemoryEtcd:
    kvs: dict[bytes, KeyValue] = field(default_factory=dict)
    revision: int = 1  # a fresh etcd answers revision 1

    def _range(self, key: bytes, prefix: bool) -> tuple[KeyValue, ...]:
        if not prefix:
            kv = self.kvs.get(key)
            return (kv,) if kv is not None else ()
        return tuple(self.kvs[k] for k in sorted(self.kvs) if k.startswith(key))

    def _holds(self, c: Compare) -> bool:
        found = self._range(c.key, c.prefix)
        if not found:
            return _compare_one(c, None)
        return all(_compare_one(c, kv) for kv in found)

    def txn(
        self, compare: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op] = ()
    ) -> TxnResult:
        ok = all(self._holds(c) for c in compare)
        ops = success if ok else failure
        _refuse_duplicates(ops)
        rev = self.revision + 1
        changed = False
        ranges: list[tuple[KeyValue, ...] | None] = []
        for op in ops:
            if isinstance(op, Range):
                ranges.append(self._range(op.key, op.prefix))
                continue
            if isinstance(op, Put):
                old = self.kvs.get(op.key)
                ranges.append(((old,) if old else ()) if op.prev_kv else None)
                self.kvs[op.key] = KeyValue(
                    op.key,
                    op.value,
                    rev,
                    old.create_revision if old else rev,
                    old.version + 1 if old else 1,
                )
                changed = True
                continue
            ranges.append(None)
            if isinstance(op, Delete):
                changed |= self.kvs.pop(op.key, None) is not None
            elif isinstance(op, DeletePrefix):
                for kv in self._range(op.prefix, True):
                    del self.kvs[kv.key]
                    changed = True
        if changed:
            self.revision = rev
        return TxnResult(ok, self.revision, tuple(ranges))

    # the ordinary client calls, for the record store's maintenance paths -----------------------
    def range_prefix(self, prefix: bytes) -> tuple[list[KeyValue], int]:
        return list(self._range(prefix, True)), self.revision

    def get(self, key: bytes) -> tuple[KeyValue | None, int]:
        return self.kvs.get(key), self.revision

    def delete_prefix(self, prefix: bytes) -> int:
        before = len(self.kvs)
        self.txn([], [DeletePrefix(prefix)])
        return before - len(self.kvs)

    def close(self) -> None:
        pass

    # the checker's state -----------------------------------------------------------------------
    def freeze(self) -> Frozen:
        return self.revision, tuple(self.kvs[k] for k in sorted(self.kvs))


def _refuse_duplicates(ops: Sequence[Op]) -> None:
    """etcd refuses a transaction that puts a key twice or puts a key it also deletes."""
    puts = [op.key for op in ops if isinstance(op, Put)]
    if len(puts) != len(set(puts)):
        raise ValueError("etcd: duplicate key given in txn request")
    for op in ops:
        if isinstance(op, Delete) and op.key in puts:
            raise ValueError("etcd: duplicate key given in txn request")
        if isinstance(op, DeletePrefix) and any(k.startswith(op.prefix) for k in puts):
            raise ValueError("etcd: duplicate key given in txn request")
