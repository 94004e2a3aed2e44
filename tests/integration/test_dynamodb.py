"""DynamoDB as the dependents reach it, on the real lab: the DynamoDB API (moto behind the
front-ends) through a name the real CoreDNS answers. When the name's record goes, a connection
opened before keeps working and opening a new one fails with NXDOMAIN, as in the incident."""

from __future__ import annotations

import math
import time

import pytest

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.lab import local
from dnsrace.stores.records import EtcdRecordStore
from mockaws.dynamo import DnsFailure, DynamoConnection, ensure_table, parse_server
from mockaws.settings import DynamoClientSettings

pytestmark = pytest.mark.integration


def test_open_connections_survive_an_empty_record_new_ones_do_not(
    local_lab: local.LabState, dns_suffix: str
) -> None:
    store = EtcdRecordStore(local_lab.record_store)
    name = f"dynamodb.{dns_suffix}"
    targets = (Target("127.0.0.11", 100, "lb-1"), Target("127.0.0.12", 100, "lb-2"))
    store.write(EndpointRecord(name, 1, "plan-1", "a", targets), expect_revision=None)

    def connection(max_age: float) -> DynamoConnection:
        return DynamoConnection(
            parse_server(local_lab.dns),
            local_lab.ports["frontend"],
            DynamoClientSettings(),
            time.monotonic,
            max_age=max_age,
            name=name,
        )

    opened = connection(math.inf)
    ensure_table(opened, "t-orders", "id")
    opened.call("put_item", TableName="t-orders", Item={"id": {"S": "o-1"}, "n": {"N": "1"}})
    assert opened.address in ("127.0.0.11", "127.0.0.12")

    store.delete(name)  # the record is empty: NXDOMAIN
    item = opened.call("get_item", TableName="t-orders", Key={"id": {"S": "o-1"}})
    assert item["Item"]["n"] == {"N": "1"}  # the one store, through the open connection

    fresh = connection(0.0)
    with pytest.raises(DnsFailure, match="NXDOMAIN"):
        fresh.call("get_item", TableName="t-orders", Key={"id": {"S": "o-1"}})
    assert fresh.counters.dns_failures == 1
    assert opened.counters.ok_on_open >= 1
    assert opened.counters.failed_on_open == 0
