"""The committed CRDs are the typed definitions rendered (python -m dnsrace.lab.crds --write),
and a spec parsed at the edge carries the defaults the API server fills in."""

from __future__ import annotations

from pathlib import Path

import yaml

from dnsrace.core import schema
from dnsrace.core.resources.enactor import EnactorSpec
from dnsrace.core.resources.scenario import ScenarioSpec
from dnsrace.lab import crds
from dnsrace.lab.versions import CRDS_DIR


def test_the_committed_crds_are_the_definitions_rendered() -> None:
    stale = [d.path for d in crds.DEFINITIONS if Path(d.path).read_text() != crds.render(d)]
    assert not stale, f"out of date, run python -m dnsrace.lab.crds --write: {stale}"


def test_every_crd_in_the_folder_is_defined() -> None:
    defined = {Path(d.path).name for d in crds.DEFINITIONS}
    assert {p.name for p in CRDS_DIR.glob("*.yaml") if "kind: Custom" in p.read_text()} == defined


def test_parse_fills_in_the_defaults_the_crd_declares() -> None:
    spec = schema.parse(ScenarioSpec, {"protocol": "guarded", "steps": [{"repair": True}]})
    crd = yaml.safe_load(Path(crds.DEFINITIONS[0].path).read_text())
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    declared = props["properties"]
    assert spec.keep == declared["keep"]["default"] == 2
    assert spec.durationSeconds == declared["durationSeconds"]["default"]
    assert spec.steps is not None
    assert spec.steps[0].repair is True
    enactor = schema.parse(
        EnactorSpec, {"protocol": "guarded", "faults": [{"at": "after-pick", "pause": True}]}
    )
    assert enactor.keep == 3
    assert enactor.faults is not None
    assert enactor.faults[0].pause is True
    assert enactor.faults[0].delaySeconds is None
