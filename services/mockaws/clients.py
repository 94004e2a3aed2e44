"""Client traffic and what it measures. DynamoDB: `openConnections` clients that opened their
connection before anything happened and keep it, and a stream of requests each on a **new**
connection (resolved through the lab DNS). EC2: launches at a steady rate, each retried at once
when it fails (the retry storm that meets RequestLimitExceeded). Counters say which requests
failed and why, so the verdict can tell DNS failures from others."""

from __future__ import annotations

import math
import sys
from typing import Any

from mockaws.dynamo import (
    ConnectionCounters,
    DnsFailure,
    DynamoConnection,
    RequestFailed,
    ensure_table,
    parse_server,
)
from mockaws.service import MockService, env, serve

TABLE = "orders"


class Clients(MockService):
    name = "clients"

    def __init__(self, dns: str, dynamodb_port: int, ec2_url: str) -> None:
        super().__init__()
        self.dns, self.port, self.ec2 = parse_server(dns), dynamodb_port, ec2_url
        self.open: list[DynamoConnection] = []
        self.fresh = self._conn(0.0)
        self.credit = {"open": 0.0, "new": 0.0, "launch": 0.0}
        self.launch_ok = 0
        self.launch_errors: dict[str, int] = {}
        self.serial = 0

    def _conn(self, max_age: float) -> DynamoConnection:
        return DynamoConnection(
            self.dns, self.port, self.settings.clients.dynamodb, self.clock, max_age=max_age
        )

    def reset(self, now: float) -> None:
        s = self.settings.clients
        self.fresh = self._conn(0.0)
        ensure_table(self.fresh, TABLE, "id")
        self.open = [self._conn(math.inf) for _ in range(s.openConnections)]
        for conn in self.open:
            conn.open()
        self.credit = {"open": 0.0, "new": 0.0, "launch": 0.0}
        self.launch_ok = 0
        self.launch_errors = {}
        self.fresh.counters = ConnectionCounters()
        self.event("Reset", f"{len(self.open)} connections open; new connections resolve via DNS")

    def _request(self, conn: DynamoConnection) -> None:
        self.serial += 1
        key = {"id": {"S": f"order-{self.serial % 50}"}}
        try:
            if self.serial % 2:
                conn.call("put_item", TableName=TABLE, Item={**key, "n": {"N": str(self.serial)}})
            else:
                conn.call("get_item", TableName=TABLE, Key=key)
        except (DnsFailure, RequestFailed):
            pass  # counted by the connection

    def tick(self, now: float, dt: float) -> None:
        s = self.settings.clients
        self.credit["open"] += s.requestsPerSecondPerConnection * dt
        self.credit["new"] += s.newConnectionsPerSecond * dt
        self.credit["launch"] += s.launchesPerSecond * dt
        while self.credit["open"] >= 1:
            self.credit["open"] -= 1
            for conn in self.open:
                self._request(conn)
        while self.credit["new"] >= 1:
            self.credit["new"] -= 1
            self._request(self.fresh)
        while self.credit["launch"] >= 1:
            self.credit["launch"] -= 1
            self._launch(s.launchRetries)

    def _launch(self, retries: int) -> None:
        for _ in range(retries + 1):
            reply = self.call("POST", f"{self.ec2}/launch", {})
            if reply is None:
                self.launch_errors["Unreachable"] = self.launch_errors.get("Unreachable", 0) + 1
                return
            if "instance" in reply[1]:
                self.launch_ok += 1
                return
            code = str(reply[1].get("error", "Unknown"))
            self.launch_errors[code] = self.launch_errors.get(code, 0) + 1

    def status(self, now: float) -> dict[str, Any]:
        opened = [c.counters for c in self.open]
        fresh = self.fresh.counters
        return {
            "openConnections": len(self.open),
            "okOnOpenConnections": sum(c.ok_on_open + c.ok_on_new for c in opened),
            "failedOnOpenConnections": sum(c.failed_on_open + c.failed_on_new for c in opened),
            "newConnectionsOk": fresh.ok_on_new,
            "newConnectionDnsFailures": fresh.dns_failures,
            "newConnectionRequestFailures": fresh.failed_on_new,
            "launchesOk": self.launch_ok,
            "launchErrors": sum(self.launch_errors.values()),
            "insufficientCapacity": self.launch_errors.get("InsufficientCapacity", 0),
            "requestLimitExceeded": self.launch_errors.get("RequestLimitExceeded", 0),
        }


def main(argv: list[str] | None = None) -> int:
    service = Clients(env("MOCKAWS_DNS"), int(env("MOCKAWS_DYNAMODB_PORT")), env("MOCKAWS_EC2_URL"))
    return serve(service, argv)


if __name__ == "__main__":
    sys.exit(main())
