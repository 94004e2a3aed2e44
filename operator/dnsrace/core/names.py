"""The lab's names, each defined once and imported everywhere else: the API group and version,
the plural of every kind, the lab's namespace, the enactors, the zones they run in and where a
guarded enactor begins its walk of a plan."""

from __future__ import annotations

GROUP = "dnsrace.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
NAMESPACE = "dnsrace"


class Plural:
    """The resource names of the lab's kinds (what the API paths and RBAC rules say)."""

    DNSPLANS = "dnsplans"
    PLANNERS = "planners"
    ENACTORS = "enactors"
    LOADBALANCERS = "loadbalancers"
    SCENARIOS = "scenarios"


ENACTOR_ZONES = {"a": "use1-az1", "b": "use1-az2", "c": "use1-az4"}  # one enactor per zone
ENACTORS = tuple(ENACTOR_ZONES)
ZONES = tuple(ENACTOR_ZONES.values())


def walk_start(enactor: str) -> float:
    """Where a guarded enactor begins its walk of a plan, as a fraction of the endpoint list:
    a, b and c a third apart (the standing Enactors' spec.walkStart), then again for d, e, f...
    The checker gives its enactors (a to j) the same, so a trace it exports replays alike."""
    return ((ord(enactor) - ord("a")) % len(ENACTORS)) / len(ENACTORS)
