"""DynamoDB as the dependent services reach it: through the regional endpoint's name, resolved
with dnspython against the lab's DNS every time a **new** connection is opened. A connection
already open keeps the address it resolved and keeps working while the record is empty, as in
the incident; only opening a new one fails. Requests go to the front-end at that address with
boto3 (the DynamoDB API, served by moto behind the front-ends)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from mockaws.settings import DynamoClientSettings

REGIONAL_ENDPOINT = "dynamodb.us-east-1.amazonaws.com"
REGION = "us-east-1"


class DnsFailure(RuntimeError):
    """The endpoint's name gave no address (NXDOMAIN, an empty answer, or no answer)."""

    def __init__(self, name: str, rcode: str) -> None:
        super().__init__(f"{name}: {rcode}")
        self.rcode = rcode


class RequestFailed(RuntimeError):
    """A request on an open connection failed (front-end unreachable or an API error)."""


def resolve(name: str, server: tuple[str, int], timeout: float = 1.0) -> list[str]:
    """The A records of `name` from the lab DNS; DnsFailure when there are none."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        response = dns.query.udp(query, server[0], port=server[1], timeout=timeout)
    except dns.exception.Timeout as exc:
        raise DnsFailure(name, "TIMEOUT") from exc
    addresses = sorted(
        item.address
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.A
        for item in rrset
    )
    if not addresses:
        raise DnsFailure(name, dns.rcode.to_text(response.rcode()))
    return addresses


def parse_server(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


_session_lock = threading.Lock()
_clients: dict[tuple[str, int, float], Any] = {}


def _client_for(address: str, port: int, timeout: float) -> Any:
    """One boto3 DynamoDB client per front-end address (client creation costs ~20 ms)."""
    key = (address, port, timeout)
    with _session_lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(
                "dynamodb",
                endpoint_url=f"http://{address}:{port}",
                region_name=REGION,
                aws_access_key_id="dnsrace",
                aws_secret_access_key="dnsrace",
                config=botocore.config.Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"max_attempts": 1, "mode": "standard"},
                ),
            )
        return _clients[key]


@dataclass
class ConnectionCounters:
    opened: int = 0
    dns_failures: int = 0
    ok_on_open: int = 0  # requests on a connection opened earlier
    ok_on_new: int = 0
    failed_on_open: int = 0
    failed_on_new: int = 0


@dataclass
class DynamoConnection:
    """One logical connection to the endpoint, reopened (re-resolved) when older than
    `max_age` seconds; `max_age` 0 opens a new connection for every request, inf never."""

    dns: tuple[str, int]
    port: int
    settings: DynamoClientSettings
    clock: Callable[[], float]
    max_age: float = math.nan
    name: str = REGIONAL_ENDPOINT
    address: str | None = None
    opened_at: float = 0.0
    counters: ConnectionCounters = field(default_factory=ConnectionCounters)
    _turn: int = 0

    def __post_init__(self) -> None:
        if math.isnan(self.max_age):
            self.max_age = self.settings.connectionMaxAgeSeconds

    def open(self) -> None:
        """Resolve the name and connect to one of its addresses (in turn)."""
        addresses = resolve(self.name, self.dns, timeout=self.settings.requestTimeoutSeconds)
        self._turn += 1
        self.address = addresses[self._turn % len(addresses)]
        self.opened_at = self.clock()
        self.counters.opened += 1

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        now = self.clock()
        fresh = False
        if self.address is None or now - self.opened_at >= self.max_age:
            self.address = None
            try:
                self.open()
            except DnsFailure:
                self.counters.dns_failures += 1
                raise
            fresh = True
        client = _client_for(self.address or "", self.port, self.settings.requestTimeoutSeconds)
        try:
            result: dict[str, Any] = getattr(client, operation)(**params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            if fresh:
                self.counters.failed_on_new += 1
            else:
                self.counters.failed_on_open += 1
            raise RequestFailed(f"{operation} via {self.address}: {exc}") from exc
        if fresh:
            self.counters.ok_on_new += 1
        else:
            self.counters.ok_on_open += 1
        return result


def ensure_table(conn: DynamoConnection, table: str, key: str, key_type: str = "S") -> None:
    """Create a single-key table if it does not exist yet."""
    try:
        conn.call("describe_table", TableName=table)
    except RequestFailed:
        conn.call(
            "create_table",
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": key_type}],
            BillingMode="PAY_PER_REQUEST",
        )
