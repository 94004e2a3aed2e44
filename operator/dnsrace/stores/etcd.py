"""A small client for etcd's v3 JSON gateway (`/v3/kv/*`): range, put, delete and transactions
with compare clauses, which is all the record store needs. Keys and values are bytes on the wire
(base64 in JSON); int64 fields arrive as strings and absent fields mean zero/false (protobuf
JSON), which this module normalises."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import urllib3

from dnsrace.stores.streams import json_lines


class EtcdError(RuntimeError):
    """The record store answered with an error or could not be reached."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def prefix_end(prefix: bytes) -> bytes:
    """The range end that makes [prefix, end) cover every key starting with `prefix`."""
    b = bytearray(prefix)
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\x00"


@dataclass(frozen=True)
class KeyValue:
    key: bytes
    value: bytes
    mod_revision: int
    create_revision: int
    version: int


@dataclass(frozen=True)
class Compare:
    """One compare clause: `target` of `key` `result` `value` (e.g. MOD of k EQUAL 42). With
    `prefix`, every key under `key` must pass (etcd's compare over [key, range_end)); no key
    there compares as one absent key (revisions and version 0)."""

    key: bytes
    target: Literal["MOD", "VERSION", "CREATE", "VALUE"]
    result: Literal["EQUAL", "NOT_EQUAL", "GREATER", "LESS"]
    value: int | bytes
    prefix: bool = False

    def wire(self) -> dict[str, Any]:
        field = {
            "MOD": "mod_revision",
            "VERSION": "version",
            "CREATE": "create_revision",
            "VALUE": "value",
        }[self.target]
        v: Any = _b64(self.value) if isinstance(self.value, bytes) else str(self.value)
        out = {"key": _b64(self.key), "target": self.target, "result": self.result, field: v}
        if self.prefix:
            out["range_end"] = _b64(prefix_end(self.key))
        return out


@dataclass(frozen=True)
class Put:
    """A put; with `prev_kv` the transaction answers the key's value before it (if any)."""

    key: bytes
    value: bytes
    prev_kv: bool = False

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"key": _b64(self.key), "value": _b64(self.value)}
        if self.prev_kv:
            body["prev_kv"] = True
        return {"request_put": body}


@dataclass(frozen=True)
class DeletePrefix:
    prefix: bytes

    def wire(self) -> dict[str, Any]:
        return {
            "request_delete_range": {
                "key": _b64(self.prefix),
                "range_end": _b64(prefix_end(self.prefix)),
            }
        }


@dataclass(frozen=True)
class Delete:
    key: bytes

    def wire(self) -> dict[str, Any]:
        return {"request_delete_range": {"key": _b64(self.key)}}


@dataclass(frozen=True)
class Range:
    """A read inside a transaction: one key, or every key under it with `prefix`. The reads of
    one transaction all see the same revision (an atomic snapshot)."""

    key: bytes
    prefix: bool = False

    def wire(self) -> dict[str, Any]:
        body = {"key": _b64(self.key)}
        if self.prefix:
            body["range_end"] = _b64(prefix_end(self.key))
        return {"request_range": body}


Op = Put | Delete | DeletePrefix | Range


@dataclass(frozen=True)
class TxnResult:
    """Whether the compares held, the store revision after the transaction, and for each op of
    the branch that ran the keys a `Range` returned, or the previous value a `Put` with
    `prev_kv` replaced (empty if none; None for other writes)."""

    succeeded: bool
    revision: int
    ranges: tuple[tuple[KeyValue, ...] | None, ...] = ()


class EtcdClient:
    """Blocking client over one pooled HTTP connection set (urllib3)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout), retries=urllib3.Retry(3, backoff_factor=0.1)
        )

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self._http.request(
                "POST",
                f"{self.url}/v3/{path}",
                body=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EtcdError(f"record store at {self.url} unreachable: {exc}") from exc
        data: dict[str, Any] = json.loads(resp.data or b"{}")
        if resp.status != 200 or "error" in data or ("code" in data and "message" in data):
            raise EtcdError(
                f"record store {path}: {data.get('message') or data.get('error') or resp.status}"
            )
        return data

    def range_prefix(self, prefix: bytes) -> tuple[list[KeyValue], int]:
        """Every key under `prefix`, and the store revision the read saw."""
        data = self._call("kv/range", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))})
        return [_kv(raw) for raw in data.get("kvs", [])], int(data["header"]["revision"])

    def everything_at(self, revision: int) -> list[KeyValue]:
        """Every key as it stood at `revision` (a historical read)."""
        data = self._call(
            "kv/range", {"key": _b64(b"\x00"), "range_end": _b64(b"\x00"), "revision": revision}
        )
        return [_kv(raw) for raw in data.get("kvs", [])]

    def revision(self) -> int:
        """The store's current revision."""
        data = self._call("kv/range", {"key": _b64(b"\x00"), "count_only": True})
        return int(data["header"]["revision"])

    def get(self, key: bytes) -> tuple[KeyValue | None, int]:
        data = self._call("kv/range", {"key": _b64(key)})
        kvs = data.get("kvs", [])
        return (_kv(kvs[0]) if kvs else None), int(data["header"]["revision"])

    def put(self, key: bytes, value: bytes) -> int:
        data = self._call("kv/put", {"key": _b64(key), "value": _b64(value)})
        return int(data["header"]["revision"])

    def delete_prefix(self, prefix: bytes) -> int:
        data = self._call(
            "kv/deleterange", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))}
        )
        return int(data.get("deleted", 0))

    def txn(
        self, compare: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op] = ()
    ) -> TxnResult:
        data = self._call(
            "kv/txn",
            {
                "compare": [c.wire() for c in compare],
                "success": [o.wire() for o in success],
                "failure": [o.wire() for o in failure],
            },
        )
        ranges = tuple(
            _answer(r, op)
            for r, op in zip(
                data.get("responses", []), _branch(data, success, failure), strict=False
            )
        )
        return TxnResult(
            bool(data.get("succeeded", False)), int(data["header"]["revision"]), ranges
        )

    def history(self, start: int, end: int, timeout: float = 30.0) -> list[HistoryEvent]:
        """Every put and delete of every key at revisions `start` to `end`, in order: a watch
        over the whole keyspace from `start`, read until it has replayed `end` (etcd keeps every
        revision until compacted; a compacted start is an error)."""
        if end < start:
            return []
        events: list[HistoryEvent] = []
        for batch in self.watch(b"\x00", start, timeout, every_key=True):
            events += batch
            if events and events[-1].revision >= end:
                break
        return [e for e in events if e.revision <= end]

    def watch(
        self, prefix: bytes, start: int, timeout: float = 30.0, every_key: bool = False
    ) -> Iterator[list[HistoryEvent]]:
        """The puts and deletes under `prefix` (every key with `every_key`) from revision
        `start` on, batch by batch as etcd sends them, until the caller stops iterating or
        nothing arrives for `timeout` seconds (an EtcdError)."""
        key, end = (b"\x00", b"\x00") if every_key else (prefix, prefix_end(prefix))
        body = {
            "create_request": {"key": _b64(key), "range_end": _b64(end), "start_revision": start}
        }
        # a connection of its own, closed after: a watch stream never ends by itself, so its
        # connection must not go back to the pool with unread chunks
        http = urllib3.PoolManager(retries=False)
        try:
            resp = http.request(
                "POST",
                f"{self.url}/v3/watch",
                body=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                preload_content=False,
                timeout=urllib3.Timeout(connect=5.0, read=timeout),
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EtcdError(f"record store at {self.url} unreachable: {exc}") from exc

        def chunks() -> Iterator[bytes]:
            while chunk := resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536):
                yield chunk
            raise EtcdError(f"record store watch from {start} ended")

        try:
            for message in json_lines(chunks()):
                yield _watch_events(message)
        except urllib3.exceptions.HTTPError as exc:
            raise EtcdError(f"record store watch from {start}: {exc}") from exc
        finally:
            resp.close()
            http.clear()

    def close(self) -> None:
        self._http.clear()


@dataclass(frozen=True)
class HistoryEvent:
    """One put (value) or delete (value None) in the store's history."""

    revision: int
    key: bytes
    value: bytes | None


def _watch_events(message: dict[str, Any]) -> list[HistoryEvent]:
    result = message.get("result") or {}
    if "error" in message or result.get("canceled"):
        reason = result.get("cancel_reason") or message.get("error") or "canceled"
        compacted = result.get("compact_revision")
        raise EtcdError(
            f"record store watch: {reason}"
            + (f" (history compacted up to {compacted})" if compacted else "")
        )
    out = []
    for event in result.get("events", []):
        kv = event.get("kv") or {}
        deleted = event.get("type") == "DELETE"
        out.append(
            HistoryEvent(
                int(kv.get("mod_revision", 0)),
                base64.b64decode(kv["key"]),
                None if deleted else base64.b64decode(kv.get("value", "")),
            )
        )
    return out


def _branch(data: dict[str, Any], success: Sequence[Op], failure: Sequence[Op]) -> Sequence[Op]:
    return success if data.get("succeeded", False) else failure


def _answer(raw: dict[str, Any], op: Op) -> tuple[KeyValue, ...] | None:
    if "response_range" in raw:
        return tuple(_kv(kv) for kv in raw["response_range"].get("kvs", []))
    if isinstance(op, Put) and op.prev_kv:
        prev = (raw.get("response_put") or {}).get("prev_kv")
        return (_kv(prev),) if prev else ()
    return None


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        key=base64.b64decode(raw["key"]),
        value=base64.b64decode(raw.get("value", "")),
        mod_revision=int(raw.get("mod_revision", 0)),
        create_revision=int(raw.get("create_revision", 0)),
        version=int(raw.get("version", 0)),
    )
