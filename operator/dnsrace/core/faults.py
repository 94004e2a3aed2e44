"""Faults as data: where in the enactor's steps a delay, a pause, slow retried writes or a
crash is injected. Parsing and matching are pure; the operator applies them at the store
boundaries (before a step runs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnsrace.core.protocol import EnactorState, Phase

POINTS = ("after-pick", "before-write", "write", "before-cleanup")


@dataclass(frozen=True)
class Fault:
    """`at` after-pick: between the freshness check and the first write. before-write: before
    the write of `endpoint` (every endpoint when empty). write: that endpoint's write is slow,
    `retries` conflicts of `delay_seconds` each before it lands. before-cleanup: before the
    clean-up step. `pause` waits until the fault is removed (or its pause set false)."""

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
    """The faults that apply before the step `state` is about to take."""
    if state.phase is Phase.CLEANUP:
        return [f for f in faults if f.at == "before-cleanup"]
    if state.phase is not Phase.WALKING or state.plan is None:
        return []
    endpoint = state.plan.endpoints[state.index]
    out = [f for f in faults if f.at == "after-pick" and just_picked]
    out += [f for f in faults if f.at in ("before-write", "write") and f.endpoint in ("", endpoint)]
    return out
