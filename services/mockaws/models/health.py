"""The NLB health checker. Each round every target is checked from one checker node, the nodes
taken in turn; a check passes only when both the node and the target have network connectivity.
A checker node that is itself waiting for its network state fails every check it makes, so a
healthy target alternates between passing and failing: removed, restored, removed (the
incident's oscillation). The velocity control (the announced fix) caps the share of targets
removed within a sliding window; a failing target beyond the cap stays in service."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mockaws.settings import NlbSettings


@dataclass
class Target:
    id: str
    in_service: bool = False  # a new target starts "initial": in service after its first pass
    ever_in_service: bool = False
    removals: int = 0


@dataclass
class HealthChecker:
    settings: NlbSettings
    targets: dict[str, Target] = field(default_factory=dict)
    rounds: int = 0
    removals: deque[float] = field(default_factory=deque)  # times, inside the velocity window
    removed_total: int = 0
    restored_total: int = 0
    held_by_velocity: int = 0
    max_removed_in_window: int = 0
    max_removed_percent_in_window: float = 0.0

    def sync(self, ids: list[str]) -> None:
        for i in ids:
            self.targets.setdefault(i, Target(i))
        for i in list(self.targets):
            if i not in ids:
                del self.targets[i]

    def check_round(
        self, now: float, nodes: list[str], reachable: Callable[[str], bool]
    ) -> tuple[list[str], list[str]]:
        """One round; `reachable(key)` says whether an instance has network connectivity.
        Returns (removed, restored)."""
        window = self.settings.velocityWindowSeconds
        while self.removals and self.removals[0] <= now - window:
            self.removals.popleft()
        limit = self.settings.velocityLimitPercent
        total = len(self.targets)
        cap = int(total * limit / 100) if limit > 0 else None  # 0: no velocity control
        removed, restored = [], []
        for n, target in enumerate(sorted(self.targets.values(), key=lambda t: t.id)):
            node = nodes[(n + self.rounds) % len(nodes)] if nodes else ""
            passed = (not node or reachable(node)) and reachable(target.id)
            if passed and not target.in_service:
                if target.ever_in_service:
                    restored.append(target.id)
                target.in_service = target.ever_in_service = True
            elif not passed and target.in_service:
                if cap is not None and len(self.removals) >= cap:
                    self.held_by_velocity += 1
                    continue
                target.in_service = False
                target.removals += 1
                self.removals.append(now)
                removed.append(target.id)
        self.rounds += 1
        self.removed_total += len(removed)
        self.restored_total += len(restored)
        self.max_removed_in_window = max(self.max_removed_in_window, len(self.removals))
        if total:
            self.max_removed_percent_in_window = max(
                self.max_removed_percent_in_window, 100.0 * len(self.removals) / total
            )
        return removed, restored

    def in_service(self) -> int:
        return sum(t.in_service for t in self.targets.values())

    def oscillating(self) -> int:
        """Targets removed more than once (removed, restored, removed again)."""
        return sum(t.removals >= 2 for t in self.targets.values())
