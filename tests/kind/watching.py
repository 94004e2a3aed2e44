"""What a pod's own DNS answers say about one scenario run, read from the watcher's change
lines ({"t", "rcode", "answers"}, one each time the kind of answer changes).

Every run starts with the lab's reset, which deletes every record (the record store starts
empty) before the scenario's first plan is served. That empty stretch is the set-up, not the
race; what the run did is what the pod saw from the record's first answer after it. This is
the same rule the scenario's own probe keeps (an empty answer counts only after the name was
served in the run), applied here to a pod outside the lab. Pure: the times are given."""

from __future__ import annotations

from typing import Any

from dnsrace.core.times import timestamp_of

Line = dict[str, Any]


def served(line: Line) -> bool:
    return line["rcode"] == "NOERROR" and int(line["answers"]) > 0


def empty(line: Line) -> bool:
    """The name does not resolve: NXDOMAIN, or NOERROR without an address."""
    return line["rcode"] == "NXDOMAIN" or (line["rcode"] == "NOERROR" and not line["answers"])


def reset_at(status: dict[str, Any]) -> float:
    """The time of the run's Reset entry on the scenario's timeline (written after every
    record was deleted, before any of the run's plans)."""
    times = [e["time"] for e in status.get("timeline", []) if e["kind"] == "Reset"]
    if not times:
        raise AssertionError(f"no Reset entry on the timeline: {status.get('timeline')}")
    return timestamp_of(str(times[-1]))


def answers_in_run(lines: list[Line], reset: float) -> list[Line]:
    """The lines from the run's first served answer on. The reset's empty stretch is the one
    in effect at `reset` (or, if the watcher printed it a moment late, the next one); the run
    begins where the name is served again after it. An AssertionError says which of the two
    the pod never saw."""
    before = [i for i, line in enumerate(lines) if line["t"] <= reset]
    i = before[-1] if before else 0
    while i < len(lines) and not empty(lines[i]):
        i += 1
    if i == len(lines):
        raise AssertionError(f"the pod never saw the reset's empty record store: {lines}")
    while i < len(lines) and not served(lines[i]):
        i += 1
    if i == len(lines):
        raise AssertionError(f"the regional name was not served again after the reset: {lines}")
    return lines[i:]
