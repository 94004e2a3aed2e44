"""The LoadBalancer: one member of the region's pool, as the Planner health-checks it."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.resources.common import IP_ADDRESS_RULE
from dnsrace.core.schema import Object, field


@dataclass(frozen=True, kw_only=True)
class LoadBalancerSpec(Object):
    address: str = field(
        "Its address (IPv4 or IPv6): what a plan's records answer with.",
        max_length=45,
        rules=(IP_ADDRESS_RULE,),
        required=True,
    )
    port: int = field(
        "The port its health check is served on.",
        minimum=1,
        maximum=65535,
        required=True,
    )
    zone: str | None = field("The availability zone it stands in.", max_length=32)
    weight: int = field(
        "Its weight in a plan's weighted answer (0 to 255).",
        minimum=0,
        maximum=255,
        default=100,
    )
    healthPath: str = field("The HTTP path of its health check.", pattern="^/", default="/health")


@dataclass(frozen=True, kw_only=True)
class LoadBalancerStatus(Object):
    healthy: bool | None = field("Whether its last health check passed.")
    lastCheckTime: str | None = field("When its health last changed.", format="date-time")
    message: str | None = field("The last check's request and answer.", max_length=512)


@dataclass(frozen=True, kw_only=True)
class LoadBalancer(Object):
    """The whole LoadBalancer object as the API server stores it."""

    spec: LoadBalancerSpec = field(
        "One load balancer of the region's pool, as the Planner health-checks it.",
        required=True,
    )
    status: LoadBalancerStatus | None = field("Written by the Planner's health checks.")
