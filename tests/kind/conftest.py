"""The kind suite's fixtures: the lab's kind cluster (context kind-dnsrace), reached with the
pinned kubectl and Docker, or every test skipped with one line saying why.

The cluster is made outside the suite, by `make kind-up` (a user with internet) or
hack/kind-offline/up.sh (CI, offline); `make kind-test` runs the suite against it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dnsrace.lab import versions

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
CLUSTER = os.environ.get("DNSRACE_KIND_CLUSTER", "dnsrace")
CONTEXT = f"kind-{CLUSTER}"
NS = "dnsrace"


def _kubectl() -> str:
    return os.environ.get("KUBECTL") or str(versions.binaries().kubectl)


class Kind:
    """kubectl on the kind cluster's context and docker on its nodes: what a user types."""

    def __init__(self) -> None:
        self.kubectl_argv = [_kubectl(), "--context", CONTEXT]
        self.docker = os.environ.get("DOCKER") or (
            "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
        )
        self.manifests = os.environ.get("KIND_MANIFESTS", "manifests/")
        # the offline overlay: every image preloaded or loaded, nothing may be pulled
        self.offline = "kind-offline" in self.manifests

    def __call__(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [*self.kubectl_argv, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            cwd=REPO,
        )
        if check and res.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {res.stderr.strip()}")
        return res

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)

    def node_docker(self, *args: str) -> str:
        res = subprocess.run(
            [self.docker, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if res.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def scenario_status(self, name: str) -> dict[str, Any]:
        obj = self.json("-n", NS, "get", "scenario", name)
        return dict(obj.get("status") or {})

    def run_scenario(self, file: str, timeout: str = "300s") -> dict[str, Any]:
        """kubectl apply of a shipped Scenario and kubectl wait for Completed; its status."""
        path = SCENARIOS / file
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        self("-n", NS, "delete", "scenario", name, "--ignore-not-found", "--wait=true")
        self("-n", NS, "apply", "-f", str(path))
        # kubectl wait for Completed, as a user would; a Failed run ends the wait at once
        waiter = subprocess.Popen(
            [*self.kubectl_argv, "-n", NS, "wait", "--for=condition=Completed",
             f"scenario/{name}", f"--timeout={timeout}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        )  # fmt: skip
        try:
            while waiter.poll() is None:
                if condition(self.scenario_status(name), "Failed").get("status") == "True":
                    break
                time.sleep(1)
        finally:
            if waiter.poll() is None:
                waiter.kill()
            waiter.wait()
        st = self.scenario_status(name)
        if waiter.returncode != 0:
            conds = st.get("conditions", [])
            conds = [
                f"{c['type']}={c['status']} {c.get('reason')}: {c.get('message')}" for c in conds
            ]
            raise AssertionError(f"scenario {name} did not complete: {conds}")
        return st


def condition(st: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in st.get("conditions", []) if c["type"] == type_), {})


def wait_until(what: str, check: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(1)


def _reason_unreachable() -> str | None:
    kubectl = _kubectl()
    if shutil.which(kubectl) is None:
        return f"no kubectl at {kubectl} (make setup builds the pinned one)"
    try:
        res = Kind()("get", "--raw", "/readyz", check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"kubectl failed: {e}"
    if res.returncode != 0:
        return (
            f"no kind cluster reachable at context {CONTEXT} "
            "(make kind-up, or hack/kind-offline/up.sh offline)"
        )
    return None


@pytest.fixture(scope="session")
def kind() -> Kind:
    reason = _reason_unreachable()
    if reason:
        pytest.skip(reason)
    return Kind()


@pytest.fixture(scope="session")
def lab(kind: Kind) -> Kind:
    """The lab applied as make kind-up applies it (idempotent) and every Deployment rolled out."""
    kind("apply", "-k", "crds/")
    kind("wait", "--for=condition=Established", "--timeout=60s", "-f", "crds/")
    kind("apply", "-k", kind.manifests)
    kind("-n", NS, "rollout", "status", "deployment", "--timeout=300s")
    return kind
