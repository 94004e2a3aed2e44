"""The DNSPlan: one generation of the regional plan (immutable spec), and who applied it."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.resources.common import (
    ENDPOINT_NAME_RULE,
    IP_ADDRESS_RULE,
    REGION_PATTERN,
    Condition,
)
from dnsrace.core.schema import Object, Rule, field, item


@dataclass(frozen=True, kw_only=True)
class DNSPlanSpecTargetsItem(Object):
    address: str = field(
        "The load balancer's address (IPv4 or IPv6) the endpoints will answer with.",
        max_length=45,
        rules=(IP_ADDRESS_RULE,),
        required=True,
    )
    weight: int = field(
        "Relative weight, 1 to 255 (a target with weight 0 is left out of the plan instead).",
        minimum=1,
        maximum=255,
        required=True,
    )
    loadBalancer: str = field(
        "Name of the LoadBalancer object this target comes from.",
        max_length=63,
        min_length=1,
        required=True,
    )


@dataclass(frozen=True, kw_only=True)
class DNSPlanSpec(Object):
    rules = (
        Rule(
            "self.generation == oldSelf.generation",
            "spec.generation is immutable: a new generation is a new DNSPlan",
        ),
        Rule(
            "self == oldSelf",
            "spec is immutable: a DNSPlan is a snapshot; create the next generation instead",
        ),
    )
    generation: int = field(
        "The plan generation the Planner assigned; unique, only ever growing.",
        format="int64",
        minimum=1,
        required=True,
    )
    region: str = field(
        "The region whose endpoints the plan covers, e.g. us-east-1.",
        pattern=REGION_PATTERN,
        max_length=32,
        required=True,
    )
    endpoints: list[str] = field(
        "DNS names the plan covers (regional, FIPS, IPv6, account-specific), all sharing the one "
        "regional plan as in the incident; each at most 160 characters (not DNS's 253: the CEL "
        "cost budget over 10,000 names allows no more).",
        min_items=1,
        max_items=10000,
        list_type="set",
        item=item(
            max_length=160,
            rules=(ENDPOINT_NAME_RULE,),
        ),
        required=True,
    )
    targets: list[DNSPlanSpecTargetsItem] = field(
        "The load balancers the endpoints resolve to; never empty.",
        min_items=1,
        max_items=64,
        list_type="map",
        map_keys=("address",),
        required=True,
    )


@dataclass(frozen=True, kw_only=True)
class DNSPlanStatus(Object):
    targets: str | None = field(
        "Summary for kubectl get (count, then addresses), set by the Planner.",
        max_length=2048,
    )
    appliedBy: str | None = field("Enactors that applied this plan to every endpoint, in order.")
    lastAppliedTime: str | None = field(
        "When an enactor last finished applying this plan.",
        format="date-time",
    )
    conditions: list[Condition] | None = field(
        "The latest observations of the object's state, one per type.",
        list_type="map",
        map_keys=("type",),
    )


@dataclass(frozen=True, kw_only=True)
class DNSPlan(Object):
    """The whole DNSPlan object as the API server stores it."""

    spec: DNSPlanSpec = field(
        "The plan: generation, region, endpoint names and weighted targets (immutable).",
        required=True,
    )
    status: DNSPlanStatus | None = field("Written by the Planner and the Enactors.")
