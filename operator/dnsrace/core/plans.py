"""Plans as the protocol sees them, and the pure decisions about them: which plan is newest,
what the next generation is, which old plans clean-up selects, what targets a pool yields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dnsrace.core.records import Target

REGION = "us-east-1"
REGIONAL_ENDPOINT = "dynamodb.us-east-1.amazonaws.com"
# The endpoints that share the one regional plan, as in the incident.
DEFAULT_ENDPOINTS = (
    REGIONAL_ENDPOINT,  # regional
    "dynamodb-fips.us-east-1.amazonaws.com",  # FIPS
    "dynamodb.us-east-1.api.aws",  # dual-stack (the IPv6 endpoint's name)
    "111122223333.ddb.us-east-1.amazonaws.com",  # account-specific
)
# How the lab's pages and progress lines name them.
ENDPOINT_LABELS = dict(
    zip(DEFAULT_ENDPOINTS, ("regional", "FIPS", "dual-stack", "account"), strict=True)
)


@dataclass(frozen=True)
class Plan:
    """One DNSPlan: an immutable snapshot. `uid` is the object's identity, which a guarded
    delete takes as its precondition (the spec is immutable, so the resourceVersion, which
    status writes move, says nothing a delete needs)."""

    name: str
    generation: int
    endpoints: tuple[str, ...]
    targets: tuple[Target, ...]
    uid: str = ""


def plan_name(region: str, generation: int) -> str:
    return f"{region}-g{generation:06d}"


def generation_of(name: str) -> int:
    """The generation a plan's name carries (`us-east-1-g000007` -> 7); 0 if none."""
    tail = name.rsplit("-g", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def newest(plans: Iterable[Plan]) -> Plan | None:
    return max(plans, key=lambda p: p.generation, default=None)


def next_generation(plans: Iterable[Plan], high_watermark: int) -> int:
    """One more than anything ever allocated: the planner's counter or any surviving plan."""
    return max([high_watermark, *(p.generation for p in plans)]) + 1


@dataclass(frozen=True)
class PoolMember:
    """A load balancer of the pool as the planner sees it after a health check."""

    name: str
    address: str
    weight: int
    healthy: bool


def targets_from_pool(pool: Iterable[PoolMember]) -> tuple[Target, ...]:
    """The healthy members, as plan targets (sorted, so equal pools give equal plans)."""
    return tuple(
        sorted(Target(m.address, m.weight, m.name) for m in pool if m.healthy and m.weight > 0)
    )


def cleanup_candidates(plans: Iterable[Plan], applied_generation: int, keep: int) -> list[Plan]:
    """Plans more than `keep` generations older than the one just applied (the incident's rule)."""
    return sorted(
        (p for p in plans if p.generation < applied_generation - keep),
        key=lambda p: p.generation,
    )
