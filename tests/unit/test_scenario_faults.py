"""A scenario's faults, checked before the first step and accounted for in the verdict: a
fault that can never fire or a wait that can only time out is refused at once, naming the
field and what to write; each fault's firings are counted, and one that never fired fails
the run unless it says it may."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dnsrace.core.faults import Fault, parse_faults
from dnsrace.scenarios.engine import ScenarioInvalid, prepare
from dnsrace.scenarios.verdict import account_faults

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FIPS = "dynamodb-fips.us-east-1.amazonaws.com"


def choreography(*steps: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"protocol": "unguarded", "steps": list(steps), **more}


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_passes_the_checks(path: Path) -> None:
    prepare(yaml.safe_load(path.read_text())["spec"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            choreography(
                enactors=[{"name": "a", "faults": [{"at": "after-pick", "delaySecond": 2}]}]
            ),
            r"spec\.enactors\[0\]\.faults\[0\]\.delaySecond: unknown field",
        ),
        (
            choreography(
                {
                    "enactor": "a",
                    "set": {"faults": [{"at": "after-pick", "pause": True, "crash": True}]},
                }
            ),
            r"spec\.steps\[0\]\.set\.faults\[0\]: each fault takes exactly one action",
        ),
        (
            choreography(
                {
                    "enactor": "b",
                    "set": {
                        "faults": [{"at": "before-write", "endpoint": "regional", "pause": True}]
                    },
                }
            ),
            r"spec\.steps\[0\]\.set\.faults\[0\]\.endpoint: 'regional' is not one of the run's "
            r"endpoints; write one of dynamodb\.us-east-1\.amazonaws\.com, .* in full",
        ),
        (
            choreography(
                {"enactor": "a", "set": {"faults": [{"at": "after-pick", "pause": True}]}},
                {"waitFor": {"enactor": "a", "pausedAt": "after-pick"}},
            ),
            r"spec\.steps\[1\]\.waitFor\.pausedAt: enactor a has no pause fault at 'after-pick' "
            r"\(its pause faults so far: after-pick:\*\); write AT:ENDPOINT",
        ),
        (
            choreography(
                {"waitFor": {"enactor": "c", "crashed": f"before-write:{FIPS}"}},
                {
                    "enactor": "c",
                    "set": {"faults": [{"at": "before-write", "endpoint": FIPS, "crash": True}]},
                },
            ),
            r"spec\.steps\[0\]\.waitFor\.crashed: enactor c has no crash fault at "
            r"'before-write:dynamodb-fips\.us-east-1\.amazonaws\.com' "
            r"\(it has no crash fault so far\)",
        ),
    ],
    ids=["misspelt-field", "two-actions", "unknown-endpoint", "pause-key", "crash-before-set"],
)
def test_a_fault_that_cannot_work_is_refused_naming_the_field(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioInvalid, match=message):
        prepare(spec)


def test_a_fault_is_one_fault_however_often_it_is_set() -> None:
    pause = {"at": "after-pick", "pause": True}
    run = prepare(
        choreography(
            {"enactor": "a", "set": {"faults": [pause]}},
            {"enactor": "a", "set": {"faults": []}},
            {"enactor": "a", "set": {"faults": [{**pause, "mayNeverFire": True}]}},
            {"enactor": "b", "set": {"faults": [pause]}},
        )
    )
    assert [(e, f.describe(), f.may_never_fire) for e, f in run.faults] == [
        ("a", "after-pick pause", False),  # one setting of it must fire: it must
        ("b", "after-pick pause", False),
    ]


def test_faults_in_words() -> None:
    faults = parse_faults(
        [
            {"at": "after-pick", "delaySeconds": 2},
            {"at": "write", "endpoint": FIPS, "delaySeconds": 0.4, "retries": 2},
            {"at": "before-cleanup", "crash": True},
            {"at": "before-write", "pause": True},
        ]
    )
    assert [f.describe() for f in faults] == [
        "after-pick delay 2s",
        f"write {FIPS} slow 2x0.4s",
        "before-cleanup crash",
        "before-write * pause",
    ]


def test_each_fault_is_accounted_for() -> None:
    delay = Fault("after-pick", delay_seconds=2)
    crash = Fault("before-cleanup", crash=True)
    optional = Fault("before-write", pause=True, may_never_fire=True)
    tallies = {
        "a": [
            {"fault": "after-pick delay 2s", "count": 3, "first": "t1", "last": "t2", "where": "g7"}
        ],
        # b's tallies name another fault: its crash never fired
        "b": [{"fault": "after-pick delay 2s", "count": 1}],
    }
    faults, never = account_faults([("a", delay), ("b", crash), ("b", optional)], tallies)
    assert [(f["enactor"], f["fault"], f["fired"]) for f in faults] == [
        ("a", "after-pick delay 2s", 3),
        ("b", "before-cleanup crash", 0),
        ("b", "before-write * pause", 0),
    ]
    assert faults[0]["where"] == "g7"
    assert never == ["fault b before-cleanup crash: never fired"]
