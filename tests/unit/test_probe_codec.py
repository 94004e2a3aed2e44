"""The probes' DNS codec against an independent one (dnspython): the queries it sends are what
dnspython reads as such, and it reads from responses dnspython builds (compressed names, other
record types, every response code) what dnspython reads from them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from dnsrace.scenarios.probe import (
    RDTYPES,
    MalformedResponse,
    decode_response,
    encode_query,
    resolve,
)

NAME = "dynamodb.us-east-1.amazonaws.com."


def test_a_query_is_what_dnspython_reads_as_that_query() -> None:
    wire = encode_query(NAME, RDTYPES["AAAA"], 4242)
    query = dns.message.from_wire(wire)
    assert query.id == 4242
    assert query.flags & dns.flags.RD
    assert not query.flags & dns.flags.QR
    [question] = query.question
    assert question.name.to_text() == NAME
    assert question.rdtype == dns.rdatatype.AAAA


def response(
    rcode: int = dns.rcode.NOERROR, rrsets: tuple[dns.rrset.RRset, ...] = (), ident: int = 7
) -> bytes:
    query = dns.message.make_query(NAME, "A")
    query.id = ident
    reply = dns.message.make_response(query)
    reply.set_rcode(dns.rcode.Rcode(rcode))
    reply.answer.extend(rrsets)
    return reply.to_wire()  # dnspython compresses the owner names into pointers


def test_addresses_of_the_asked_type_are_read_and_others_skipped() -> None:
    wire = response(
        rrsets=(
            dns.rrset.from_text(NAME, 30, "IN", "CNAME", "lb.us-east-1.amazonaws.com."),
            dns.rrset.from_text(NAME, 30, "IN", "A", "127.0.0.13", "127.0.0.11"),
            dns.rrset.from_text(NAME, 30, "IN", "AAAA", "::1"),
            dns.rrset.from_text(NAME, 30, "IN", "TXT", '"x"'),
        )
    )
    assert b"\xc0\x0c" in wire, "the test wants compressed owner names"
    assert decode_response(wire, 7, RDTYPES["A"]) == ("NOERROR", ("127.0.0.11", "127.0.0.13"))
    assert decode_response(wire, 7, RDTYPES["AAAA"]) == ("NOERROR", ("::1",))


@pytest.mark.parametrize("rcode", [0, 1, 2, 3, 4, 5, 9])
def test_the_response_code_is_dnspythons(rcode: int) -> None:
    got, addresses = decode_response(response(rcode), 7, RDTYPES["A"])
    want = dns.rcode.to_text(dns.rcode.Rcode(rcode))
    assert (got, addresses) == ((want if rcode <= 5 else f"RCODE{rcode}"), ())


@pytest.mark.parametrize(
    "wire",
    [
        b"\x00\x07",  # shorter than a header
        response(ident=8),  # another query's response
        dns.message.make_query(NAME, "A").to_wire(),  # a query, not a response
        response(rrsets=(dns.rrset.from_text(NAME, 30, "IN", "A", "127.0.0.1"),))[:-2],
    ],
    ids=["short", "other-id", "not-a-response", "truncated-record"],
)
def test_what_is_not_the_response_is_refused(wire: bytes) -> None:
    with pytest.raises(MalformedResponse):
        decode_response(wire, 7, RDTYPES["A"])


@pytest.fixture
def stray_then_answer() -> Iterator[str]:
    """A UDP server that first sends a datagram with another id, then the real answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        data, peer = sock.recvfrom(512)
        query = dns.message.from_wire(data)
        stray = dns.message.make_response(query)
        stray.id = (query.id + 1) % 65536
        sock.sendto(stray.to_wire(), peer)
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(NAME, 30, "IN", "A", "127.0.0.12"))
        sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    thread.join(5)
    sock.close()


def test_a_stray_datagram_is_skipped_for_the_response(stray_then_answer: str) -> None:
    answer = resolve(NAME, stray_then_answer)
    assert (answer.rcode, answer.addresses) == ("NOERROR", ("127.0.0.12",))


def test_silence_is_a_timeout_not_an_empty_answer() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        answer = resolve(NAME, f"127.0.0.1:{quiet.getsockname()[1]}", timeout=0.2)
    assert answer.rcode == "TIMEOUT"
    assert not answer.empty
