"""A small client for etcd's v3 JSON gateway (`/v3/kv/*`): range, put, delete and transactions
with compare clauses, which is all the record store needs. Keys and values are bytes on the wire
(base64 in JSON); int64 fields arrive as strings and absent fields mean zero/false (protobuf
JSON), which this module normalises."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import urllib3


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
    """One compare clause: `target` of `key` `result` `value` (e.g. MOD of k EQUAL 42)."""

    key: bytes
    target: Literal["MOD", "VERSION", "CREATE", "VALUE"]
    result: Literal["EQUAL", "NOT_EQUAL", "GREATER", "LESS"]
    value: int | bytes

    def wire(self) -> dict[str, Any]:
        field = {
            "MOD": "mod_revision",
            "VERSION": "version",
            "CREATE": "create_revision",
            "VALUE": "value",
        }[self.target]
        v: Any = _b64(self.value) if isinstance(self.value, bytes) else str(self.value)
        return {"key": _b64(self.key), "target": self.target, "result": self.result, field: v}


@dataclass(frozen=True)
class Put:
    key: bytes
    value: bytes

    def wire(self) -> dict[str, Any]:
        return {"request_put": {"key": _b64(self.key), "value": _b64(self.value)}}


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


Op = Put | Delete | DeletePrefix


@dataclass(frozen=True)
class TxnResult:
    succeeded: bool
    revision: int


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
        return TxnResult(bool(data.get("succeeded", False)), int(data["header"]["revision"]))

    def close(self) -> None:
        self._http.clear()


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        key=base64.b64decode(raw["key"]),
        value=base64.b64decode(raw.get("value", "")),
        mod_revision=int(raw.get("mod_revision", 0)),
        create_revision=int(raw.get("create_revision", 0)),
        version=int(raw.get("version", 0)),
    )
