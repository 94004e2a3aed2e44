"""The lab's standing objects: the LoadBalancer pool (one DynamoDB front-end each), the Planner
for us-east-1 and the three Enactors, one per zone. The local lab applies them at `dnsrace up`;
the kind manifests carry the same objects."""

from __future__ import annotations

from typing import Any

from dnsrace.core.names import API_VERSION, ENACTOR_ZONES, ENACTORS, ZONES
from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGION

__all__ = ["ENACTORS", "ZONES"]  # objects.ENACTORS at call sites: the one definition's

FRONTEND_ADDRESSES = ("127.0.0.11", "127.0.0.12", "127.0.0.13")
DEFAULT_KEEP = 3
DEFAULT_CADENCE = 5.0


def load_balancers(
    port: int, addresses: tuple[str, ...] = FRONTEND_ADDRESSES
) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "LoadBalancer",
            "metadata": {"name": f"lb-{i}"},
            "spec": {
                "address": addr,
                "port": port,
                "zone": ZONES[(i - 1) % len(ZONES)],
                "weight": 100,
                "healthPath": "/health",
            },
        }
        for i, addr in enumerate(addresses, start=1)
    ]


def planner(cadence: float = DEFAULT_CADENCE) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Planner",
        "metadata": {"name": REGION},
        "spec": {
            "region": REGION,
            "endpoints": list(DEFAULT_ENDPOINTS),
            "cadenceSeconds": cadence,
            "healthIntervalSeconds": 0.5,
            "paused": False,
        },
    }


def enactors(protocol: str = "unguarded", keep: int = DEFAULT_KEEP) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "Enactor",
            "metadata": {"name": ident},
            "spec": {
                "zone": zone,
                "protocol": protocol,
                "keep": keep,
                "pollSeconds": 1.0,
                "paused": False,
                "faults": [],
            },
        }
        for ident, zone in ENACTOR_ZONES.items()
    ]


def all_objects(frontend_port: int) -> list[dict[str, Any]]:
    return [*load_balancers(frontend_port), planner(), *enactors()]
