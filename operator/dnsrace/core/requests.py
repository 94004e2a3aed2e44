"""The store requests an enactor makes, and their answers: the protocol's only contact with the
world. Each request is exactly one request to one store (one etcd transaction, or one Kubernetes
API call); the live runner sends them to etcd and the API server, the checker to the in-memory
twins, so the checker interleaves enactors at the same points the live lab can.

Plan lists are not requests: each enactor reads its own watch-fed view of the plans, which the
live runner and the checker hand to the protocol (`Enactor.decide`)."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.plans import Plan
from dnsrace.core.records import EndpointRecord, Observed


@dataclass(frozen=True)
class ReadEndpoint:
    """One endpoint's metadata and SkyDNS keys, in one snapshot."""

    name: str


@dataclass(frozen=True)
class ReadAll:
    """Every endpoint's metadata and keys and every retired-plan mark, in one snapshot."""


@dataclass(frozen=True)
class WriteEndpoint:
    """Write `record` over what `seen` showed, in one transaction: delete the keys `seen` had
    that the record does not want, put the record's keys and its metadata.

    `cas`: only if the metadata and every key `seen` had are unchanged (mod revisions).
    `unless_retired`: only if `record.plan` has not been retired by a clean-up."""

    record: EndpointRecord
    seen: Observed
    cas: bool
    unless_retired: bool = False
    intent: str = "wrote"  # or "repaired": how the enactor reports it (not sent)


@dataclass(frozen=True)
class ClearKeys:
    """Unguarded clean-up: delete these keys of `name` (written from deleted plans)."""

    name: str
    keys: tuple[str, ...]
    plans: tuple[str, ...]


@dataclass(frozen=True)
class RetirePlan:
    """Guarded clean-up's decision, in one record-store transaction: mark `plan` retired only if
    no endpoint's metadata changed since the snapshot at `snapshot` (which showed no record
    using it). From then on no guarded write can make a record use it."""

    plan: str
    snapshot: int


@dataclass(frozen=True)
class DeletePlan:
    """Delete the DNSPlan; with `precondition`, only the very object seen (its uid)."""

    plan: Plan
    precondition: bool


Request = ReadEndpoint | ReadAll | WriteEndpoint | ClearKeys | RetirePlan | DeletePlan


@dataclass(frozen=True)
class Snapshot:
    """What ReadAll saw: the store revision, the endpoints that have metadata or keys, and the
    retired plans."""

    revision: int
    records: tuple[Observed, ...]
    retired: frozenset[str]

    def observed(self, name: str) -> Observed:
        for obs in self.records:
            if obs.name == name:
                return obs
        return Observed(name, None, (), 0)


@dataclass(frozen=True)
class WriteResult:
    succeeded: bool
    plan_retired: bool = False  # on failure: the plan had been retired
    replaced: EndpointRecord | None = None  # on success: the metadata the write replaced


Response = Observed | Snapshot | WriteResult | bool


def describe(request: Request) -> str:
    """The request in a trace's words."""
    if isinstance(request, ReadEndpoint):
        return f"reads {request.name}"
    if isinstance(request, ReadAll):
        return "reads every record"
    if isinstance(request, WriteEndpoint):
        how = "CAS-writes" if request.cas else "writes"
        return f"{how} g{request.record.generation} on {request.record.name}"
    if isinstance(request, ClearKeys):
        return f"deletes {len(request.keys)} key(s) of {request.name}"
    if isinstance(request, RetirePlan):
        return f"retires {request.plan} if no record changed since revision {request.snapshot}"
    return f"deletes plan {request.plan.name}" + (" (precondition)" if request.precondition else "")
