"""The lab's names, each defined once and imported everywhere else: the API group and version,
the plural of every kind, the lab's namespace, the enactors and the zones they run in."""

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
