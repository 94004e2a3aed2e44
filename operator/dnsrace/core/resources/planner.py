"""The Planner: the region, the endpoints its plans cover, its cadence and health checks."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.resources.common import ENDPOINT_NAME_RULE, REGION_PATTERN
from dnsrace.core.schema import Object, Rule, field, item


@dataclass(frozen=True, kw_only=True)
class PlannerSpec(Object):
    region: str = field(
        "The region its plans are for, e.g. us-east-1.",
        pattern=REGION_PATTERN,
        required=True,
    )
    endpoints: list[str] = field(
        "The endpoint names every plan covers, in full: at most 10,000, each at most 160 "
        "characters (not DNS's 253: the CEL cost budget over 10,000 names allows no more).",
        min_items=1,
        max_items=10000,
        list_type="set",
        item=item(
            max_length=160,
            rules=(ENDPOINT_NAME_RULE,),
        ),
        required=True,
    )
    cadenceSeconds: float = field(
        "A new plan this often even if health is unchanged (kept apart from the health checks, so "
        "it may be shorter than healthIntervalSeconds); 0 turns the cadence off; otherwise at "
        "least 0.1.",
        minimum=0,
        maximum=3600,
        default=5,
        rules=(
            Rule(
                "self == 0.0 || self >= 0.1",
                "cadenceSeconds is 0 (no cadence) or at least 0.1 (a plan is three API requests)",
            ),
        ),
    )
    healthIntervalSeconds: float = field(
        "Seconds between two health checks of the pool.",
        minimum=0.1,
        maximum=60,
        default=0.5,
    )
    paused: bool = field("true: no plan and no health check until false again.", default=False)


@dataclass(frozen=True, kw_only=True)
class PlannerStatus(Object):
    lastGeneration: int | None = field(
        "The newest generation allocated (a high-water mark: never reused).",
        format="int64",
    )
    healthyTargets: int | None = field("Load balancers that passed their last health check.")
    phase: str | None = field(
        "Paused - no plan and no health check; healthyTargets and the LoadBalancers' status are "
        "from the last check.",
        enum=("Running", "Paused"),
    )
    lastPlanTime: str | None = field("When the last plan was created.", format="date-time")
    message: str | None = field("The last thing worth saying.")


@dataclass(frozen=True, kw_only=True)
class Planner(Object):
    """The whole Planner object as the API server stores it."""

    spec: PlannerSpec = field(
        "The Planner's settings: the region, the endpoints its plans cover, cadence and health "
        "checks.",
        required=True,
    )
    status: PlannerStatus | None = field("Written by the Planner.")
