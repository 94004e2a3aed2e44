"""A Scenario's steps in sentences, with absolute generations: what `kubectl get scenarios`
shows as the step in progress (`4/12 wait until b has seen g11`) and what the timeline notes
say (`observed: b has seen g11`). A step's generations count from the run's base (`seen: 6`
with base 5 is g11); these sentences never make a reader add them up. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dnsrace.core.faults import parse_faults


def condition(wait: Mapping[str, Any], base: int) -> str:
    """A waitFor's one condition, as a state: `b has seen g11`."""
    who = str(wait.get("enactor", ""))
    if "pausedAt" in wait:
        return f"{who} holds at {wait['pausedAt']}"
    if "phase" in wait:
        return f"{who} is {wait['phase']}"
    if "applied" in wait:
        return f"{who} has applied g{base + int(wait['applied'])}"
    if "seen" in wait:
        return f"{who} has seen g{base + int(wait['seen'])}"
    if "crashed" in wait:
        return f"{who} has crashed at {wait['crashed']}"
    if "generation" in wait:
        return f"the newest plan is g{base + int(wait['generation'])}"
    if wait.get("settled"):
        return "every enactor is idle on the newest plan"
    if "emptySeconds" in wait:
        return f"the regional endpoint has been empty for {float(wait['emptySeconds']):g}s"
    if "seconds" in wait:
        return f"{float(wait['seconds']):g}s have passed"
    return "nothing"


def enactor_change(name: str, change: Mapping[str, Any]) -> str:
    """An enactor step's settings: `enactor a: runs, fault after-pick pause`."""
    parts = []
    if "paused" in change:
        parts.append("pauses" if change["paused"] else "runs")
    if "faults" in change:
        faults = [f.describe() for f in parse_faults(change["faults"])]
        parts.append(
            ("fault " if len(faults) == 1 else "faults ") + ", ".join(faults)
            if faults
            else "faults cleared"
        )
    return f"enactor {name}: " + (", ".join(parts) or "unchanged")


def settings(changed: Mapping[str, Any], prefix: str = "") -> str:
    """Settings as `name value` pairs: `dwfm.maxInFlight 8, nlb.velocityLimitPercent 25`."""
    parts = []
    for key, value in changed.items():
        if isinstance(value, Mapping):
            parts.append(settings(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key} {value}")
    return ", ".join(parts)


def step(s: Mapping[str, Any], base: int) -> str:
    """One step as a sentence (its note, when it has one, says why; this says what)."""
    if "enactor" in s:
        return enactor_change(str(s["enactor"]), s.get("set") or {})
    if "planner" in s:
        p = s["planner"]
        if "produceUntil" in p:
            return f"the planner creates plans up to g{base + int(p['produceUntil'])}"
        return "the planner runs at its cadence" if p.get("run") else "the planner pauses"
    if "waitFor" in s:
        return "wait until " + condition(s["waitFor"], base)
    if "grant" in s:
        return f"enactor {s['grant']} takes one move"
    if "services" in s:
        return (
            "the dependent services start"
            if (s["services"] or {}).get("start")
            else "the dependent services' settings change"
        )
    if "repair" in s:
        return "the operators repair DNS by hand"
    return "?"


def progress(steps: tuple[Mapping[str, Any], ...], index: int, base: int) -> str:
    """The step in progress for `kubectl get scenarios`: `4/12 wait until b has seen g11`,
    its note when it has one; `12/12 done` once every step is."""
    if index >= len(steps):
        return f"{len(steps)}/{len(steps)} done"
    s = steps[index]
    text = str(s.get("note") or step(s, base))
    return f"{index + 1}/{len(steps)} {text}"[:120]
