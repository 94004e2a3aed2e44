"""The NLB health checker (`models.health`): every interval it checks every instance EC2 runs,
each from one of its checker nodes in turn. The checker nodes are instances on droplets spread
over the fleet; connectivity (its own and the node's) is what Network Manager has propagated."""

from __future__ import annotations

import sys
from typing import Any

from mockaws.models.health import HealthChecker
from mockaws.service import MockService, Reply, env, serve


class Nlb(MockService):
    name = "nlb"

    def __init__(self, ec2_url: str, netmgr_url: str) -> None:
        super().__init__()
        self.ec2, self.netmgr = ec2_url, netmgr_url
        self.checker = HealthChecker(self.settings.nlb)
        self.last_round = 0.0
        self.droplet_of: dict[str, int] = {}

    def nodes(self) -> list[str]:
        """Checker node k runs on droplet (k + 1/2) * droplets / nodes, spread over the fleet."""
        n, droplets = self.settings.nlb.checkerNodes, self.settings.dwfm.droplets
        return [f"droplet:{int((k + 0.5) * droplets / n)}" for k in range(n)]

    def reset(self, now: float) -> None:
        self.checker = HealthChecker(self.settings.nlb)
        self.last_round = 0.0
        self.droplet_of = {}

    def tick(self, now: float, dt: float) -> None:
        self.checker.settings = self.settings.nlb
        if now - self.last_round < self.settings.nlb.checkIntervalSeconds:
            return
        self.last_round = now
        listing = self.get(f"{self.ec2}/instances")
        if listing is None:
            return
        self.droplet_of = {i["id"]: int(i["droplet"]) for i in listing["instances"]}
        self.checker.sync(sorted(self.droplet_of))
        nodes = self.nodes()
        keys = sorted(
            {*nodes}
            | {f"instance:{i}" for i in self.droplet_of}
            | {f"droplet:{d}" for d in self.droplet_of.values()}
        )
        answer = self.post(f"{self.netmgr}/pending", {"keys": keys})
        if answer is None:
            return
        pending = set(answer["pending"])

        def reachable(key: str) -> bool:
            if key.startswith("droplet:"):
                return key not in pending
            return (
                f"instance:{key}" not in pending
                and f"droplet:{self.droplet_of[key]}" not in pending
            )

        removed, restored = self.checker.check_round(now, nodes, reachable)
        if removed:
            self.event(
                "TargetsRemoved",
                f"removed {len(removed)} targets failing health checks; "
                f"{self.checker.in_service()}/{len(self.checker.targets)} in service",
            )
        if restored:
            self.event(
                "TargetsRestored",
                f"restored {len(restored)} targets; "
                f"{self.checker.in_service()}/{len(self.checker.targets)} in service",
            )

    def status(self, now: float) -> dict[str, Any]:
        c = self.checker
        total = len(c.targets)
        return {
            "targets": total,
            "inService": c.in_service(),
            "capacityPercent": round(100.0 * c.in_service() / total, 1) if total else 100.0,
            "removals": c.removed_total,
            "restorations": c.restored_total,
            "oscillatingTargets": c.oscillating(),
            "heldByVelocityControl": c.held_by_velocity,
            "maxRemovedPercentInWindow": round(c.max_removed_percent_in_window, 1),
            "velocityLimitPercent": self.settings.nlb.velocityLimitPercent,
        }

    def routes(self, method: str, path: str, body: Any) -> Reply | None:
        return None


def main(argv: list[str] | None = None) -> int:
    return serve(Nlb(env("MOCKAWS_EC2_URL"), env("MOCKAWS_NETMGR_URL")), argv)


if __name__ == "__main__":
    sys.exit(main())
