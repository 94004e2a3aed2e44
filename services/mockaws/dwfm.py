"""DWFM, the droplet lease manager: keeps a lease per droplet in the DynamoDB table
`droplet-leases`, renewed through the regional endpoint. When DynamoDB cannot be reached the
renewals fail and the leases expire; re-establishing them is DWFM's own work (`models.leases`),
written to DynamoDB when done, and each re-established droplet's network state is handed to
Network Manager. `GET /leased` lists the droplets EC2 may place instances on."""

from __future__ import annotations

import sys
from typing import Any

from mockaws.dynamo import DnsFailure, DynamoConnection, RequestFailed, ensure_table, parse_server
from mockaws.models.leases import LeaseTable
from mockaws.service import MockService, Reply, env, serve

TABLE = "droplet-leases"
BATCH = 25


class Dwfm(MockService):
    name = "dwfm"

    def __init__(self, dns: str, dynamodb_port: int, netmgr_url: str) -> None:
        super().__init__()
        self.dns, self.port, self.netmgr = parse_server(dns), dynamodb_port, netmgr_url
        self.table = LeaseTable.steady(self.settings.dwfm, self.clock())
        self.conn = self._connection()
        self.last_renewal = 0.0
        self.leased_before = True

    def _connection(self) -> DynamoConnection:
        return DynamoConnection(self.dns, self.port, self.settings.dwfm.dynamodb, self.clock)

    def reset(self, now: float) -> None:
        self.conn = self._connection()
        ensure_table(self.conn, TABLE, "droplet", "N")
        self.table = LeaseTable.steady(self.settings.dwfm, now)
        self._write(list(range(self.settings.dwfm.droplets)), now)
        self.last_renewal = now
        self.leased_before = True
        self.event("Reset", f"{self.settings.dwfm.droplets} droplets leased")

    def _write(self, droplets: list[int], now: float) -> None:
        """Lease rows for these droplets, in batches; raises on the first failure."""
        expires = now + self.settings.dwfm.leaseSeconds
        for i in range(0, len(droplets), BATCH):
            self.conn.call(
                "batch_write_item",
                RequestItems={
                    TABLE: [
                        {
                            "PutRequest": {
                                "Item": {
                                    "droplet": {"N": str(d)},
                                    "expires": {"N": f"{expires:.3f}"},
                                    "holder": {"S": "dwfm"},
                                }
                            }
                        }
                        for d in droplets[i : i + BATCH]
                    ]
                },
            )

    def tick(self, now: float, dt: float) -> None:
        s = self.settings.dwfm
        self.table.settings = s  # a mid-run settings change (manual throttling) applies at once
        if now - self.last_renewal >= s.renewEverySeconds:
            self.last_renewal = now
            leased = self.table.leased(now)
            if leased:
                try:
                    self._write(leased, now)
                    self.table.renewed(leased, now)
                except (DnsFailure, RequestFailed):
                    self.table.counters.renewal_failures += 1
        lost, finished, _ = self.table.tick(now, dt)
        if lost:
            self.event(
                "LeasesExpired",
                f"{len(lost)} droplet leases expired (renewals need DynamoDB); "
                f"{len(self.table.leased(now))} still leased",
            )
        if finished:
            try:
                self._write(finished, now)
            except (DnsFailure, RequestFailed):
                self.table.write_failed(finished)
            else:
                self.table.established(finished, now)
                self.post(f"{self.netmgr}/enqueue", {"keys": [f"droplet:{d}" for d in finished]})
        all_leased = len(self.table.leased(now)) == s.droplets
        if all_leased and not self.leased_before:
            self.event("FleetLeased", f"all {s.droplets} droplets leased again")
        self.leased_before = all_leased

    def status(self, now: float) -> dict[str, Any]:
        t, c = self.table, self.table.counters
        cc = self.conn.counters
        return {
            "droplets": self.settings.dwfm.droplets,
            "leased": len(t.leased(now)),
            "queued": len(t.queue),
            "inFlight": len(t.in_flight),
            "goodput": t.goodput(now),
            "maxInFlight": self.settings.dwfm.maxInFlight,
            "expired": c.expired,
            "established": c.established,
            "timeouts": c.timeouts,
            "writeFailures": c.write_failures,
            "renewalFailures": c.renewal_failures,
            "dnsFailures": cc.dns_failures,
            "connectionsOpened": cc.opened,
        }

    def routes(self, method: str, path: str, body: Any) -> Reply | None:
        if method == "GET" and path == "/leased":
            return 200, {"droplets": self.table.leased(self.clock())}
        return None


def main(argv: list[str] | None = None) -> int:
    service = Dwfm(env("MOCKAWS_DNS"), int(env("MOCKAWS_DYNAMODB_PORT")), env("MOCKAWS_NETMGR_URL"))
    return serve(service, argv)


if __name__ == "__main__":
    sys.exit(main())
