"""Faults as data: where between an enactor's store requests a delay, a pause, slow retried
writes or a crash is injected. Parsing and matching are pure; the operator applies them before
the move they precede (so between two requests, where the checker interleaves too)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnsrace.core.protocol import EnactorState, Pc
from dnsrace.core.resources.common import FAULT_POINTS
from dnsrace.core.resources.common import Fault as FaultFields

POINTS = FAULT_POINTS


# a fault's fields, as its resource type defines them (dnsrace.core.resources.common.Fault)
FIELDS = tuple(f.name for f in dataclasses.fields(FaultFields))


@dataclass(frozen=True)
class Fault:
    """`at` after-pick: between the freshness check and the first endpoint's read. before-write:
    before the read that starts the write of `endpoint` (every endpoint when empty). write:
    that endpoint's write is slow: between its read and its write request, `retries` conflicts
    of `delay_seconds` each. before-cleanup: before the clean-up's first request. `pause` waits
    until the fault is removed (or its pause set false). `may_never_fire`: a scenario's verdict
    does not fail when this fault never fired."""

    at: str
    endpoint: str = ""
    delay_seconds: float = 0.0
    pause: bool = False
    crash: bool = False
    retries: int = 0
    may_never_fire: bool = False

    @property
    def key(self) -> str:
        return f"{self.at}:{self.endpoint or '*'}"

    def describe(self) -> str:
        """The fault in words, its identity in the verdict and the enactor's tallies:
        `after-pick delay 2s`, `write dynamodb-fips.us-east-1.amazonaws.com slow 2x0.4s`,
        `before-cleanup crash`, `before-write * pause`."""
        where = (
            self.at if self.at in ("after-pick", "before-cleanup") else self.key.replace(":", " ")
        )
        if self.crash:
            action = "crash"
        elif self.pause:
            action = "pause"
        elif self.at == "write":
            action = f"slow {max(self.retries, 1)}x{self.delay_seconds:g}s"
        else:
            action = f"delay {self.delay_seconds:g}s"
        return f"{where} {action}"


def parse_faults(raw: Iterable[Mapping[str, Any]] | None) -> list[Fault]:
    """Faults from an Enactor's or a Scenario's spec; ValueError names the bad field and what
    to write. The same rules as the CRDs' (an unknown field, not one action exactly), for a
    spec that reached the operator without them."""
    faults = []
    for i, item in enumerate(raw or ()):
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"faults[{i}].{unknown[0]}: unknown field (a fault has {', '.join(FIELDS)})"
            )
        at = item.get("at")
        if at not in POINTS:
            raise ValueError(f"faults[{i}].at must be one of {', '.join(POINTS)}, not {at!r}")
        delay = float(item.get("delaySeconds", 0) or 0)
        retries = int(item.get("retries", 0) or 0)
        if delay < 0 or retries < 0:
            raise ValueError(f"faults[{i}]: delaySeconds and retries must not be negative")
        actions = [bool(item.get("pause")), bool(item.get("crash")), delay > 0]
        if sum(actions) != 1:
            raise ValueError(
                f"faults[{i}]: each fault takes exactly one action: pause: true, crash: true "
                "or delaySeconds above 0; write one fault per action"
            )
        faults.append(
            Fault(
                str(at),
                str(item.get("endpoint", "") or ""),
                delay,
                bool(item.get("pause")),
                bool(item.get("crash")),
                retries,
                bool(item.get("mayNeverFire")),
            )
        )
    return faults


def due(faults: Sequence[Fault], state: EnactorState, just_picked: bool) -> list[Fault]:
    """The faults that apply before the move `state` is about to make."""
    if state.pc is Pc.CLEANUP:
        return [f for f in faults if f.at == "before-cleanup"]
    if state.plan is None or state.pc not in (Pc.READING, Pc.WRITING):
        return []
    endpoint = state.endpoint
    if state.pc is Pc.WRITING:
        return [f for f in faults if f.at == "write" and f.endpoint in ("", endpoint)]
    out = [f for f in faults if f.at == "after-pick" and just_picked]
    out += [f for f in faults if f.at == "before-write" and f.endpoint in ("", endpoint)]
    return out
