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
    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, ..., TIMEOUT or UNREACHABLE
    addresses: tuple[str, ...]

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"

    @property
    def answered(self) -> bool:
        """The server gave an authoritative answer (NOERROR or NXDOMAIN), not a failure of its
        own (SERVFAIL: its record store unreachable) and not silence (TIMEOUT, UNREACHABLE)."""
        return self.rcode in ("NOERROR", "NXDOMAIN")

    @property
    def empty(self) -> bool:
        """Answered with no address to connect to: the outage a client of the endpoint sees.
        A DNS server that is down or cannot read its records is another fault, not this one."""
        return self.answered and not self.addresses


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
    except OSError:
        return Answer(name, "UNREACHABLE", ())  # e.g. ICMP port unreachable: no server there
    addresses = tuple(
        sorted(
            item.address
            for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for item in rrset
        )
    )
    return Answer(name, dns.rcode.to_text(response.rcode()), addresses)
