"""Record naming, encoding and the in-memory record store's CAS semantics."""

from __future__ import annotations

from dnsrace.core.records import (
    EndpointRecord,
    Target,
    decode_meta,
    decode_target,
    encode_meta,
    encode_target,
    skydns_dir,
    target_key,
)
from dnsrace.core.records import name_of_key as _name_of_key
from dnsrace.stores.etcd import prefix_end
from dnsrace.stores.records import MemoryRecordStore


def test_skydns_layout() -> None:
    assert (
        skydns_dir("dynamodb.us-east-1.amazonaws.com")
        == "/skydns/com/amazonaws/us-east-1/dynamodb/"
    )
    key = target_key("dynamodb.us-east-1.amazonaws.com", Target("127.0.0.11"))
    assert key == "/skydns/com/amazonaws/us-east-1/dynamodb/t-127-0-0-11"
    assert _name_of_key(key) == "dynamodb.us-east-1.amazonaws.com"


def test_encoding_round_trips() -> None:
    rec = EndpointRecord("x.amazonaws.com", 7, "plan-7", "b", (Target("127.0.0.12", 50, "lb-2"),))
    assert decode_meta(encode_meta(rec)) == rec
    target, plan, gen, enactor = decode_target(encode_target(rec, rec.targets[0]))
    assert (target, plan, gen, enactor) == (rec.targets[0], "plan-7", 7, "b")


def test_prefix_end() -> None:
    assert prefix_end(b"/skydns/") == b"/skydns0"
    assert prefix_end(b"a\xff") == b"b"


def test_memory_store_cas() -> None:
    store = MemoryRecordStore()
    r1 = EndpointRecord("n", 1, "p1", "a", (Target("127.0.0.1"),))
    assert store.write(r1, expect_revision=0)
    rev = store.read("n").revision
    assert not store.write(r1, expect_revision=0)
    r2 = EndpointRecord("n", 2, "p2", "b", (Target("127.0.0.2"),))
    assert store.write(r2, expect_revision=rev)
    assert not store.write(r1, expect_revision=rev)
    assert store.write(r1, expect_revision=None)  # unguarded: unconditional
    assert store.read("n").record == r1


def test_memory_store_clear_keys_of_plans_empties_the_record() -> None:
    store = MemoryRecordStore()
    store.write(EndpointRecord("n", 1, "p1", "a", (Target("127.0.0.1"),)), None)
    assert store.clear_keys_of_plans({"p1"}) == ["n"]
    seen = store.read("n")
    assert seen.empty
    assert seen.record is not None
    assert seen.record.plan == "p1"
