"""The EC2 launch API: a token bucket of launch requests (RequestLimitExceeded when empty), then
a placement on a leased droplet with a free slot (InsufficientCapacity when there is none). A
launched instance needs its network state propagated before it has connectivity."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockaws.settings import Ec2Settings

REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"
INSUFFICIENT_CAPACITY = "InsufficientCapacity"


@dataclass(frozen=True)
class Instance:
    id: str
    droplet: int
    launched_at: float


@dataclass(frozen=True)
class LaunchResult:
    instance: Instance | None
    error: str | None  # REQUEST_LIMIT_EXCEEDED | INSUFFICIENT_CAPACITY


@dataclass
class LaunchApi:
    settings: Ec2Settings
    now: float
    tokens: float = 0.0
    instances: dict[str, Instance] = field(default_factory=dict)
    serial: int = 0
    launched: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = self.settings.requestsPerSecond

    def _refill(self, now: float) -> None:
        rate = self.settings.requestsPerSecond
        self.tokens = min(rate, self.tokens + (now - self.now) * rate)
        self.now = max(self.now, now)

    def place(self, droplet: int, now: float) -> Instance:
        """Put an instance on a droplet without a request (the baseline fleet)."""
        self.serial += 1
        inst = Instance(f"i-{self.serial:05d}", droplet, now)
        self.instances[inst.id] = inst
        return inst

    def launch(self, now: float, leased: list[int]) -> LaunchResult:
        self._refill(now)
        if self.tokens < 1.0:
            return self._error(REQUEST_LIMIT_EXCEEDED)
        self.tokens -= 1.0
        load: dict[int, int] = {}
        for inst in self.instances.values():
            load[inst.droplet] = load.get(inst.droplet, 0) + 1
        free = [d for d in leased if load.get(d, 0) < self.settings.instancesPerDroplet]
        if not free:
            return self._error(INSUFFICIENT_CAPACITY)
        droplet = min(free, key=lambda d: (load.get(d, 0), d))
        self.launched += 1
        return LaunchResult(self.place(droplet, now), None)

    def _error(self, code: str) -> LaunchResult:
        self.errors[code] = self.errors.get(code, 0) + 1
        return LaunchResult(None, code)
