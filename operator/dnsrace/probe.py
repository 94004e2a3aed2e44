"""DNS probes: ask the lab's CoreDNS (with dnspython, over UDP) what a name resolves to now."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


@dataclass(frozen=True)
class Answer:
    name: str
    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, ... or TIMEOUT
    addresses: tuple[str, ...]

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"

    @property
    def empty(self) -> bool:
        """No address to connect to: what a client of the endpoint experiences as the outage."""
        return not self.addresses


def parse_server(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    return host or "127.0.0.1", int(port)


def resolve(name: str, server: str, rdtype: str = "A", timeout: float = 2.0) -> Answer:
    """One query for `name` to `server` ("127.0.0.1:PORT"); never raises for DNS outcomes."""
    host, port = parse_server(server)
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    try:
        response = dns.query.udp(query, host, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return Answer(name, "TIMEOUT", ())
    addresses = tuple(
        sorted(
            item.address
            for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for item in rrset
        )
    )
    return Answer(name, dns.rcode.to_text(response.rcode()), addresses)
