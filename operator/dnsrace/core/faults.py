"""Faults as data: where between an enactor's store requests a delay, a pause, slow retried
writes or a crash is injected. Parsing and matching are pure; the operator applies them before
the move they precede (so between two requests, where the checker interleaves too)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnsrace.core.protocol import EnactorState, Pc

POINTS = ("after-pick", "before-write", "write", "before-cleanup")


@dataclass(frozen=True)
class Fault:
    """`at` after-pick: between the freshness check and the first endpoint's read. before-write:
    before the read that starts the write of `endpoint` (every endpoint when empty). write:
    that endpoint's write is slow: between its read and its write request, `retries` conflicts
    of `delay_seconds` each. before-cleanup: before the clean-up's first request. `pause` waits
    until the fault is removed (or its pause set false)."""

    at: str
    endpoint: str = ""
    delay_seconds: float = 0.0
    pause: bool = False
    crash: bool = False
    retries: int = 0

    @property
    def key(self) -> str:
        return f"{self.at}:{self.endpoint or '*'}"


def parse_faults(raw: Iterable[Mapping[str, Any]] | None) -> list[Fault]:
    """Faults from an Enactor's or a Scenario's spec; ValueError names the bad field."""
    faults = []
    for i, item in enumerate(raw or ()):
        at = item.get("at")
        if at not in POINTS:
            raise ValueError(f"faults[{i}].at must be one of {', '.join(POINTS)}, not {at!r}")
        delay = float(item.get("delaySeconds", 0) or 0)
        retries = int(item.get("retries", 0) or 0)
        if delay < 0 or retries < 0:
            raise ValueError(f"faults[{i}]: delaySeconds and retries must not be negative")
        faults.append(
            Fault(
                str(at),
                str(item.get("endpoint", "") or ""),
                delay,
                bool(item.get("pause")),
                bool(item.get("crash")),
                retries,
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
