"""The EC2 launch API (`models.launches`): `POST /launch` places an instance on a droplet DWFM
holds a lease for and hands its network state to Network Manager; it fails with
RequestLimitExceeded or InsufficientCapacity as the incident's launches did. `GET /instances`
lists the instances (the NLB's targets)."""

from __future__ import annotations

import sys
from typing import Any

from mockaws.models.launches import LaunchApi
from mockaws.service import MockService, Reply, env, serve


class Ec2(MockService):
    name = "ec2"

    def __init__(self, dwfm_url: str, netmgr_url: str) -> None:
        super().__init__()
        self.dwfm, self.netmgr = dwfm_url, netmgr_url
        self.api = LaunchApi(self.settings.ec2, self.clock())
        self.leased: list[int] = []
        self.requests = 0

    def reset(self, now: float) -> None:
        s = self.settings
        self.api = LaunchApi(s.ec2, now)
        droplets = s.dwfm.droplets
        for i in range(s.ec2.baselineInstances):
            self.api.place((i * droplets // max(1, s.ec2.baselineInstances)) % droplets, now)
        self.requests = 0
        self.leased = list(range(droplets))

    def tick(self, now: float, dt: float) -> None:
        answer = self.get(f"{self.dwfm}/leased")
        if answer is not None:
            self.leased = list(answer["droplets"])

    def status(self, now: float) -> dict[str, Any]:
        return {
            "instances": len(self.api.instances),
            "launchRequests": self.requests,
            "launched": self.api.launched,
            "insufficientCapacity": self.api.errors.get("InsufficientCapacity", 0),
            "requestLimitExceeded": self.api.errors.get("RequestLimitExceeded", 0),
            "leasedDroplets": len(self.leased),
        }

    def routes(self, method: str, path: str, body: Any) -> Reply | None:
        if method == "POST" and path == "/launch":
            if not self.running:
                return 503, {"error": "ServiceUnavailable", "message": "no scenario running"}
            now = self.clock()
            self.requests += 1
            result = self.api.launch(now, self.leased)
            if result.instance is None:
                return 400, {"error": result.error}
            inst = result.instance
            self.post(f"{self.netmgr}/enqueue", {"keys": [f"instance:{inst.id}"]})
            return 200, {"instance": inst.id, "droplet": inst.droplet}
        if method == "GET" and path == "/instances":
            return 200, {
                "instances": [
                    {"id": i.id, "droplet": i.droplet} for i in self.api.instances.values()
                ]
            }
        return None


def main(argv: list[str] | None = None) -> int:
    return serve(Ec2(env("MOCKAWS_DWFM_URL"), env("MOCKAWS_NETMGR_URL")), argv)


if __name__ == "__main__":
    sys.exit(main())
