"""The words a run is judged in are defined once (dnsrace.core.vocabulary), and the CRDs' enums
say the same: a phase or result the code writes is one the API server takes."""

from __future__ import annotations

import json
from typing import Any

import yaml

from dnsrace.core.vocabulary import MEANINGS, Invariant, Phase, Result
from dnsrace.lab.versions import CRDS_DIR


def scenario_status() -> dict[str, Any]:
    crd = yaml.safe_load((CRDS_DIR / "scenarios.dnsrace.io.yaml").read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return dict(schema["properties"]["status"]["properties"])


def test_the_crd_takes_every_phase_and_result_and_no_other() -> None:
    status = scenario_status()
    assert status["phase"]["enum"] == [str(p) for p in Phase]
    assert status["result"]["enum"] == [str(r) for r in Result]


def test_each_invariant_means_one_sentence_and_the_crd_bounds_each() -> None:
    crd = yaml.safe_load((CRDS_DIR / "scenarios.dnsrace.io.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    bounded = set(spec["properties"]["expect"]["properties"]["oracle"]["properties"])
    assert bounded == {str(i) for i in Invariant}
    assert set(MEANINGS) == set(Invariant)


def test_members_are_the_strings_the_api_stores() -> None:
    # what goes on the wire in a status patch, and into a summary
    assert json.dumps({"phase": Phase.COMPLETED}) == '{"phase": "Completed"}'
    assert f"{Result.OUTAGE}: empty" == "OUTAGE: empty"
    assert Phase("Failed").finished
    assert not Phase.RUNNING.finished
