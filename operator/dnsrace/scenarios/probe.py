"""DNS probes: ask the lab's CoreDNS (over UDP) what a name resolves to now.

The probes query every name every 20 ms while a scenario runs, so a query is built and its
answer read by the few lines below (RFC 1035: a header, the question, answer records whose
owner names may be compression pointers) rather than by a general DNS library: parsing a
whole message object cost the scenario controller about half of its CPU. The codec reads only
the response code and the answer records of the asked type; the unit tests check it against
dnspython's encoder and decoder, the integration tests against the lab's CoreDNS."""

from __future__ import annotations

import secrets
import socket
import struct
import time
from dataclasses import dataclass

RDTYPES = {"A": 1, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")  # type, class, TTL, data length (after the owner name)
_QR, _RD = 0x8000, 0x0100
_CLASS_IN = 1


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


class MalformedResponse(ValueError):
    """A datagram that is not a DNS response to the query sent."""


def parse_server(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    return host or "127.0.0.1", int(port)


def encode_query(name: str, rdtype: int, ident: int) -> bytes:
    """A recursion-desired query for `name` (class IN) with message id `ident`."""
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".") if label]
    if any(len(label) > 63 for label in labels):
        raise ValueError(f"{name}: a label longer than 63 characters")
    qname = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
    return _HEADER.pack(ident, _RD, 1, 0, 0, 0) + qname + struct.pack("!HH", rdtype, _CLASS_IN)


def _skip_name(data: bytes, offset: int) -> int:
    """The offset just past the (possibly compressed) name at `offset`."""
    while True:
        if offset >= len(data):
            raise MalformedResponse("a name runs past the end of the message")
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # a pointer ends the name where it stands
            return offset + 2
        offset += 1 + length


def decode_response(data: bytes, ident: int, rdtype: int) -> tuple[str, tuple[str, ...]]:
    """The response code and the sorted addresses of the `rdtype` answer records of a response
    to query `ident`; MalformedResponse if it is not one."""
    if len(data) < _HEADER.size:
        raise MalformedResponse("shorter than a DNS header")
    rid, flags, questions, answers, _, _ = _HEADER.unpack_from(data)
    if rid != ident or not flags & _QR:
        raise MalformedResponse("not the response to this query")
    code = flags & 0x000F
    offset = _HEADER.size
    for _ in range(questions):
        offset = _skip_name(data, offset) + 4
    family = socket.AF_INET if rdtype == RDTYPES["A"] else socket.AF_INET6
    found = []
    for _ in range(answers):
        offset = _skip_name(data, offset)
        if offset + _RR.size > len(data):
            raise MalformedResponse("an answer record runs past the end of the message")
        rtype, rclass, _, length = _RR.unpack_from(data, offset)
        offset += _RR.size
        rdata = data[offset : offset + length]
        if len(rdata) != length:
            raise MalformedResponse("an answer record's data runs past the end of the message")
        if rtype == rdtype and rclass == _CLASS_IN:
            found.append(socket.inet_ntop(family, rdata))
        offset += length
    return RCODES.get(code, f"RCODE{code}"), tuple(sorted(found))


def resolve(name: str, server: str, rdtype: str = "A", timeout: float = 2.0) -> Answer:
    """One query for `name` to `server` ("127.0.0.1:PORT"); never raises for DNS outcomes.
    Datagrams that are not the response (another id, malformed) are skipped, as a resolver
    does, until the response arrives or `timeout` runs out."""
    if rdtype not in RDTYPES:
        raise ValueError(f"rdtype {rdtype}: the probes ask for A or AAAA")
    code = RDTYPES[rdtype]
    host, port = parse_server(server)
    ident = secrets.randbits(16)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, port))  # only datagrams from the server are received
            sock.send(encode_query(name, code, ident))
            while True:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                try:
                    rcode, addresses = decode_response(sock.recv(65535), ident, code)
                except MalformedResponse:
                    continue
                return Answer(name, rcode, addresses)
        except TimeoutError:
            return Answer(name, "TIMEOUT", ())
        except OSError:
            return Answer(name, "UNREACHABLE", ())  # e.g. ICMP port unreachable: no server there
