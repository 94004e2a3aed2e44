"""The CRDs describe every field (so `kubectl explain` answers each), and the reference page
docs/reference/crds.md is what they say, rendered (python -m dnsrace.cli.reference --write)."""

from __future__ import annotations

from pathlib import Path

import yaml

from dnsrace.cli import reference
from dnsrace.lab import crds


def test_every_field_of_every_resource_is_described() -> None:
    undescribed = []
    for definition in crds.DEFINITIONS:
        # the committed files: what the lab installs and kubectl explain answers from
        crd = yaml.safe_load(Path(definition.path).read_text())
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        undescribed += [
            f"{definition.plural}: {path}"
            for path, node in reference.fields(schema)
            if not node.get("description")
        ]
    assert not undescribed, "fields kubectl explain cannot describe:\n" + "\n".join(undescribed)


def test_the_reference_page_is_the_crds_rendered() -> None:
    assert reference.PAGE.read_text() == reference.render(), (
        "docs/reference/crds.md is out of date: python -m dnsrace.cli.reference --write"
    )


def test_the_page_names_each_resource_and_a_rule() -> None:
    page = reference.render()
    for kind in ("Scenario", "Enactor", "Planner", "DNSPlan", "LoadBalancer"):
        assert f"\n## {kind}\n" in page
    assert "each item, rule: each fault takes exactly one action" in page
