"""The history oracle: a scenario's verdict on the invariants, from the record store's complete
history, checked by code that shares nothing with the enactors (it parses the stored keys and
values itself and knows nothing of plans, protocols or events).

Evidence: the record store's keys at the run's start revision, then every put and delete up to
its end revision (an etcd watch from the start revision replays them all, in revision order;
each transaction is one revision), and polls of the DNSPlans taken during the run, each between
two reads of the record store's revision.

At **every revision**, for **every endpoint** (a metadata key `/dnsrace/endpoints/<name>`
with the SkyDNS keys under the name's reversed path):
  I1 an endpoint that has metadata has at least one SkyDNS key (else it answers NXDOMAIN);
  I2 an endpoint's generation (in its metadata) never goes down (each write that lowers it is
     one finding);
  I3 no endpoint's metadata refers to a deleted plan.

How the two histories are ordered: they are two stores with no common clock. A poll reads the
record store's revision (`before`), lists the plans, reads the revision again (`after`). A plan
listed by a poll was deleted after every revision up to that poll's `before`; a plan missing
from a poll (once listed) was deleted before every revision after that poll's `after`, and
before its own list, when the store stood somewhere in [before, after]. So I3 is decided for a
revision after the first (certainly violated if a record still refers to the plan), for a
reference that holds through a whole poll window that missed the plan (certainly violated),
and before the second (certainly not); any other reference in between is reported as
undecided, never as a violation. I1 and I2 need only the record store and are decided at every
revision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnsrace.core.vocabulary import Invariant, Result

META = "/dnsrace/endpoints/"
SKYDNS = "/skydns/"


@dataclass(frozen=True)
class KeyChange:
    """One put (`value`) or delete (`value` None) at `revision`."""

    revision: int
    key: str
    value: bytes | None


@dataclass(frozen=True)
class PlanPoll:
    """The plans that existed at one moment between two record-store revisions."""

    before: int
    plans: frozenset[str]
    after: int


@dataclass(frozen=True)
class Finding:
    invariant: str
    revision: int
    endpoint: str
    key: str
    before: str
    after: str

    def as_json(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "revision": self.revision,
            "endpoint": self.endpoint,
            "key": self.key,
            "before": self.before,
            "after": self.after,
        }

    def describe(self) -> str:
        return (
            f"{self.invariant} at revision {self.revision}: {self.endpoint} "
            f"{self.before} -> {self.after}"
        )


@dataclass
class Report:
    start: int
    end: int
    changes: int = 0
    endpoints: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    undecided: list[Finding] = field(default_factory=list)  # I3 in a window polls cannot order

    @property
    def revisions_checked(self) -> int:
        return max(self.end - self.start + 1, 0)

    def of(self, invariant: str) -> list[Finding]:
        return [f for f in self.findings if f.invariant == invariant]

    @property
    def word(self) -> str:
        """The worst thing that happened on any endpoint: OUTAGE (an endpoint was empty), STALE
        (one went back a generation or used a deleted plan, but answered), HELD (neither)."""
        if self.of(Invariant.I1):
            return Result.OUTAGE
        if self.findings:
            return Result.STALE
        return Result.HELD

    def as_json(self) -> dict[str, Any]:
        return {
            "startRevision": self.start,
            "endRevision": self.end,
            "revisionsChecked": self.revisions_checked,
            "changes": self.changes,
            "endpoints": list(self.endpoints),
            "emptyEndpoints": sorted({f.endpoint for f in self.of(Invariant.I1)}),
            "violations": {inv: len(self.of(inv)) for inv in Invariant},
            "undecidedI3": len(self.undecided),
            "findings": [f.as_json() for f in self.findings[:20]],
            "word": self.word,
        }


def endpoint_of(key: str) -> str | None:
    """The endpoint a key belongs to: `/dnsrace/endpoints/<name>`, or
    `/skydns/com/amazonaws/us-east-1/dynamodb/<target>` -> `dynamodb.us-east-1.amazonaws.com`."""
    if key.startswith(META):
        return key[len(META) :]
    if key.startswith(SKYDNS):
        labels = key[len(SKYDNS) :].split("/")[:-1]
        return ".".join(reversed(labels)) if labels else None
    return None


def _meta(value: bytes) -> tuple[int, str]:
    data = json.loads(value)
    return int(data.get("generation", 0)), str(data.get("plan", ""))


def missed_by(polls: Sequence[PlanPoll]) -> dict[str, list[PlanPoll]]:
    """Per plan ever listed: the later polls that did not list it (it was deleted by then)."""
    seen: set[str] = set()
    out: dict[str, list[PlanPoll]] = {}
    for poll in sorted(polls, key=lambda p: (p.before, p.after)):
        for plan in seen - poll.plans:
            out.setdefault(plan, []).append(poll)
        seen |= poll.plans
    return out


def deletion_bounds(polls: Sequence[PlanPoll]) -> dict[str, tuple[int, int | None]]:
    """Per plan ever listed: (the last revision certainly before its deletion, the revision
    after which it was certainly deleted, or None if no poll missed it)."""
    bounds: dict[str, tuple[int, int | None]] = {}
    for poll in sorted(polls, key=lambda p: (p.before, p.after)):
        for plan in poll.plans:
            alive_until, gone = bounds.get(plan, (0, None))
            if gone is None:
                bounds[plan] = (max(alive_until, poll.before), None)
        for plan, (alive_until, gone) in list(bounds.items()):
            if gone is None and plan not in poll.plans:
                bounds[plan] = (alive_until, poll.after)
    return bounds


def check(
    initial: Mapping[str, bytes],
    changes: Iterable[KeyChange],
    polls: Sequence[PlanPoll],
    start: int,
    end: int,
) -> Report:
    """Check I1-I3 at every revision from `start` (where the store held `initial`) to `end`."""
    report = Report(start, end)
    store = {k: v for k, v in initial.items() if endpoint_of(k)}
    bounds = deletion_bounds(polls)
    missing = missed_by(polls)
    previous: dict[str, int] = {}  # per endpoint: its generation at the last revision seen
    empty: set[str] = set()
    # per endpoint: (plan its metadata refers to, from revision)
    uses: dict[str, tuple[str, int]] = {}

    def settle(name: str, plan: str, until: int) -> None:
        """The endpoint referred to `plan` from its recorded revision through `until`."""
        since = uses[name][1]
        alive_until, gone = bounds.get(plan, (0, None))
        # a poll that missed the plan while the reference held through its whole window: at
        # the moment of its list the store stood at a revision the reference covers
        covering = [p for p in missing.get(plan, []) if since <= p.before and p.after <= until]
        if gone is not None and until > gone:
            at = max(since, gone + 1)
            report.findings.append(
                Finding(Invariant.I3, at, name, META + name, plan, f"{plan} deleted before r{at}")
            )
        elif covering:
            at = covering[0].after
            report.findings.append(
                Finding(Invariant.I3, at, name, META + name, plan, f"{plan} deleted by r{at}")
            )
        elif gone is not None and until > alive_until:
            at = max(since, alive_until + 1)
            report.undecided.append(
                Finding(Invariant.I3, at, name, META + name, plan, "deleted about then")
            )

    def observe(revision: int, touched: set[str], keys: dict[str, str]) -> None:
        names: dict[str, list[str]] = {}
        for key in store:
            name = endpoint_of(key)
            if name is not None and key.startswith(SKYDNS):
                names.setdefault(name, []).append(key)
        for name in sorted(touched):
            value = store.get(META + name)
            if value is None:
                continue
            generation, plan = _meta(value)
            if name not in names and name not in empty:
                empty.add(name)
                gone = keys.get(name, META + name)
                report.findings.append(
                    Finding(
                        Invariant.I1, revision, name, gone, f"g{generation} served", "no targets"
                    )
                )
            elif name in names:
                empty.discard(name)
            # a write that lowered the generation; the revisions after it that touch the
            # endpoint (its keys cleared, say) are not new regressions
            if generation < previous.get(name, 0):
                report.findings.append(
                    Finding(
                        Invariant.I2,
                        revision,
                        name,
                        META + name,
                        f"g{previous[name]}",
                        f"g{generation}",
                    )
                )
            previous[name] = generation
            if uses.get(name, ("", 0))[0] != plan:
                if name in uses:
                    settle(name, uses[name][0], revision - 1)
                uses[name] = (plan, revision)

    everyone = {n for n in (endpoint_of(k) for k in store) if n}
    observe(start, everyone, {})
    batch: list[KeyChange] = []
    for change in [*sorted(changes, key=lambda c: c.revision), None]:
        if change is not None and (not batch or change.revision == batch[0].revision):
            batch.append(change)
            continue
        if batch:
            touched: set[str] = set()
            keys: dict[str, str] = {}
            for c in batch:
                name = endpoint_of(c.key)
                if name is None or c.revision <= start:
                    continue
                report.changes += 1
                if c.value is None:
                    store.pop(c.key, None)
                else:
                    store[c.key] = c.value
                touched.add(name)
                keys[name] = c.key
                everyone.add(name)
            if touched:
                observe(batch[0].revision, touched, keys)
        batch = [change] if change is not None else []
    for name, (plan, _) in uses.items():
        settle(name, plan, end)
    report.endpoints = sorted(everyone)
    report.findings.sort(key=lambda f: (f.revision, f.endpoint, f.invariant))
    return report
