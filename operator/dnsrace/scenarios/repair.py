"""`dnsrace repair`: the operators' manual intervention of the incident. Every endpoint of the
newest plan is rewritten from that plan, unconditionally (it is a person overriding the
automation), and the record then points at a plan that exists, so enactors can move it on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dnsrace.core.plans import Plan, newest
from dnsrace.core.records import EndpointRecord, Observed


class PlanLister(Protocol):
    def list(self) -> list[Plan]: ...


class RecordWriter(Protocol):
    def read(self, name: str) -> Observed: ...
    def write(self, record: EndpointRecord, expect_revision: int | None) -> bool: ...


REPAIRER = "operator"


@dataclass(frozen=True)
class Repaired:
    endpoint: str
    before: str  # "g12 (empty)", "g12", "nothing"
    after: int


class NothingToRepairFrom(RuntimeError):
    pass


def repair(plans: PlanLister, records: RecordWriter) -> list[Repaired]:
    plan = newest(plans.list())
    if plan is None:
        raise NothingToRepairFrom("no DNSPlan exists to repair from; let the planner create one")
    out = []
    for name in plan.endpoints:
        obs = records.read(name)
        before = "nothing"
        if obs.record is not None:
            before = f"g{obs.record.generation}" + (" (empty)" if obs.empty else "")
        records.write(
            EndpointRecord(name, plan.generation, plan.name, REPAIRER, plan.targets), None
        )
        out.append(Repaired(name, before, plan.generation))
    return out
