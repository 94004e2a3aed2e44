"""Every mock service's settings, typed, with defaults and validation. A Scenario's
`spec.services` is parsed here (by the scenario controller, before it starts anything, and again
by each service when the controller posts its part), so a bad value fails with a message that
names the field, e.g. `services.dwfm.itemTimeoutSeconds: must be > 0, not -1`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

# The dependent services by name (each a field of ServiceSettings), in the order a scenario
# resets them: each depends only on those before it.
SERVICES = ("netmgr", "dwfm", "ec2", "nlb", "clients")


class SettingsInvalid(ValueError):
    """A setting cannot be used as written; the message names the field."""


@dataclass(frozen=True)
class DynamoClientSettings:
    """How a service talks to DynamoDB: a connection is opened (the endpoint resolved through the
    lab DNS) when none is open or the open one is older than `connectionMaxAgeSeconds`."""

    connectionMaxAgeSeconds: float = 0.5
    requestTimeoutSeconds: float = 1.0


@dataclass(frozen=True)
class DwfmSettings:
    """The droplet lease manager. Re-establishing one lease needs `workPerLease` units of work;
    DWFM does `capacityPerSecond` units per second, shared equally by the items in progress; an
    item not done `itemTimeoutSeconds` after admission is abandoned and queued again.
    `maxInFlight` 0 admits the whole queue at once (the incident); N > 0 admits at most N at a
    time (queue-size throttling, the announced fix)."""

    droplets: int = 48
    leaseSeconds: float = 2.0
    renewEverySeconds: float = 0.5
    capacityPerSecond: float = 24.0
    workPerLease: float = 1.0
    itemTimeoutSeconds: float = 1.2
    maxInFlight: int = 0
    dynamodb: DynamoClientSettings = field(default_factory=DynamoClientSettings)


@dataclass(frozen=True)
class NetworkManagerSettings:
    """Propagates network state (a new instance's, or a droplet's after its lease is
    re-established) from a FIFO queue at `propagationsPerSecond`."""

    propagationsPerSecond: float = 6.0


@dataclass(frozen=True)
class Ec2Settings:
    """The launch API: at most `requestsPerSecond` launch requests per second (a token bucket,
    RequestLimitExceeded beyond), each needing a leased droplet with a free slot
    (InsufficientCapacity when none)."""

    requestsPerSecond: float = 6.0
    instancesPerDroplet: int = 4
    baselineInstances: int = 12


@dataclass(frozen=True)
class NlbSettings:
    """The health checker: every `checkIntervalSeconds` each target is checked from one of
    `checkerNodes` nodes in turn (the nodes are instances too). A failing in-service target is
    removed, a passing removed one restored. `velocityLimitPercent` > 0 is the announced fix: at
    most that share of the targets may be removed within `velocityWindowSeconds`."""

    checkIntervalSeconds: float = 0.5
    checkerNodes: int = 3
    velocityLimitPercent: float = 0.0
    velocityWindowSeconds: float = 5.0


@dataclass(frozen=True)
class ClientSettings:
    """Steady traffic. `openConnections` clients keep one DynamoDB connection open for the whole
    run (they opened it before anything happened); `newConnectionsPerSecond` requests each come
    from a new connection (a new process, a new pod). `launchesPerSecond` EC2 launches, each
    retried `launchRetries` times at once when it fails."""

    openConnections: int = 2
    requestsPerSecondPerConnection: float = 5.0
    newConnectionsPerSecond: float = 5.0
    launchesPerSecond: float = 1.0
    launchRetries: int = 3
    dynamodb: DynamoClientSettings = field(default_factory=DynamoClientSettings)


@dataclass(frozen=True)
class ServiceSettings:
    dwfm: DwfmSettings = field(default_factory=DwfmSettings)
    netmgr: NetworkManagerSettings = field(default_factory=NetworkManagerSettings)
    ec2: Ec2Settings = field(default_factory=Ec2Settings)
    nlb: NlbSettings = field(default_factory=NlbSettings)
    clients: ClientSettings = field(default_factory=ClientSettings)


S = TypeVar("S")

# name -> (lowest allowed, is the lowest itself allowed)
_LOWER: dict[str, tuple[float, bool]] = {
    "droplets": (1, True),
    "checkerNodes": (1, True),
    "instancesPerDroplet": (1, True),
    "maxInFlight": (0, True),
    "baselineInstances": (0, True),
    "openConnections": (0, True),
    "launchRetries": (0, True),
    "velocityLimitPercent": (0, True),
    "newConnectionsPerSecond": (0, True),
    "launchesPerSecond": (0, True),
    "requestsPerSecondPerConnection": (0, True),
}


def parse(cls: type[S], data: Mapping[str, Any] | None, where: str) -> S:
    """A settings dataclass from a mapping: unknown keys, wrong types and out-of-range values
    raise SettingsInvalid naming `where.field`."""
    data = dict(data or {})
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsInvalid(
            f"{where}.{unknown[0]}: unknown setting (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{where}.{name}"
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, Mapping):
                raise SettingsInvalid(f"{path}: must be an object")
            values[name] = parse(type(default), value, path)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsInvalid(f"{path}: must be a number, not {value!r}")
        if isinstance(default, int) and not float(value).is_integer():
            raise SettingsInvalid(f"{path}: must be a whole number, not {value!r}")
        low, inclusive = _LOWER.get(name, (0, False))
        if value < low or (value == low and not inclusive):
            sign = ">=" if inclusive else ">"
            raise SettingsInvalid(f"{path}: must be {sign} {low:g}, not {value!r}")
        if name == "velocityLimitPercent" and value > 100:
            raise SettingsInvalid(f"{path}: must be <= 100, not {value!r}")
        values[name] = int(value) if isinstance(default, int) else float(value)
    return cls(**values)


def parse_services(data: Mapping[str, Any] | None, where: str = "spec.services") -> ServiceSettings:
    return parse(ServiceSettings, data, where)


def as_dict(settings: Any) -> dict[str, Any]:
    out: dict[str, Any] = dataclasses.asdict(settings)
    return out
