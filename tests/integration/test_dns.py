"""A SkyDNS record written to the record store is answered by the real CoreDNS (queried over
UDP by the probes' codec), and once its keys are removed the name answers NXDOMAIN."""

from __future__ import annotations

import pytest

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.lab import local
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.records import EtcdRecordStore

pytestmark = pytest.mark.integration


def test_record_served_then_nxdomain(local_lab: local.LabState, dns_suffix: str) -> None:
    store = EtcdRecordStore(local_lab.record_store)
    name = f"dynamodb.{dns_suffix}"
    assert resolve(name, local_lab.dns).nxdomain

    targets = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))
    store.write(EndpointRecord(name, 1, "plan-1", "a", targets), expect_revision=None)
    answer = resolve(name, local_lab.dns)
    assert answer.rcode == "NOERROR"
    assert answer.addresses == ("127.0.0.11", "127.0.0.12")

    store.delete(name)
    gone = resolve(name, local_lab.dns)
    assert gone.nxdomain
    assert gone.empty


def test_sibling_names_do_not_leak_into_each_other(
    local_lab: local.LabState, dns_suffix: str
) -> None:
    """`dynamodb` and `dynamodb-fips` share a parent path; each answers only its own keys."""
    store = EtcdRecordStore(local_lab.record_store)
    regional, fips = f"dynamodb.{dns_suffix}", f"dynamodb-fips.{dns_suffix}"
    store.write(EndpointRecord(regional, 1, "p", "a", (Target("127.0.0.11"),)), None)
    store.write(EndpointRecord(fips, 1, "p", "a", (Target("127.0.0.21"),)), None)
    assert resolve(regional, local_lab.dns).addresses == ("127.0.0.11",)
    assert resolve(fips, local_lab.dns).addresses == ("127.0.0.21",)
