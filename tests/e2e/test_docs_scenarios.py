"""docs/scenarios.md's examples run as they are printed: each YAML block that is a whole
Scenario is applied with kubectl, as a reader would paste it, and must complete with its
expectations met (and every fault it sets accounted for)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from dnsrace.lab import local
from tests.conftest import Kubectl

pytestmark = pytest.mark.integration
DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
NS = "dnsrace"


def examples() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    whole = [b for b in blocks if "kind: Scenario" in b and "[...]" not in b]
    return whole


def test_the_page_has_its_three_examples() -> None:
    names = [yaml.safe_load(b)["metadata"]["name"] for b in examples()]
    assert names == ["docs-free-run", "docs-choreography", "docs-expectations"]


@pytest.mark.parametrize("text", examples(), ids=lambda t: yaml.safe_load(t)["metadata"]["name"])
def test_a_documented_example_runs_as_printed(
    lab_quiet: local.LabState, kubectl: Kubectl, crd: client.CustomObjectsApi, text: str
) -> None:
    name = yaml.safe_load(text)["metadata"]["name"]
    kubectl("delete", "scenario", name, "-n", NS, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-n", NS, "-f", "-", stdin=text)
    kubectl("wait", "-n", NS, "--for=condition=Completed", f"scenario/{name}", "--timeout=180s")
    obj: Any = crd.get_namespaced_custom_object("dnsrace.io", "v1alpha1", NS, "scenarios", name)
    verdict = obj["status"]["verdict"]
    assert verdict["passed"], verdict["failures"]
    required = [f for f in verdict["faults"] if not f["mayNeverFire"]]
    assert required, "each example sets a fault that must fire"
    assert all(f["fired"] >= 1 for f in required), verdict["faults"]
    kubectl("delete", "scenario", name, "-n", NS)
