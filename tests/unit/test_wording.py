"""Steps in sentences with absolute generations: a step's `seen: 6` on a run whose base is g5
reads `b has seen g11`, never a relative number or a dict."""

from __future__ import annotations

from pathlib import Path

import yaml

from dnsrace.scenarios import wording

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_conditions_read_as_states_with_absolute_generations() -> None:
    assert wording.condition({"enactor": "b", "seen": 6}, base=5) == "b has seen g11"
    assert wording.condition({"enactor": "a", "applied": 1}, base=5) == "a has applied g6"
    assert wording.condition({"generation": 9}, base=5) == "the newest plan is g14"
    assert wording.condition({"enactor": "a", "pausedAt": "after-pick:*"}, 0) == (
        "a holds at after-pick:*"
    )
    assert wording.condition({"settled": True}, 0) == "every enactor is idle on the newest plan"


def test_enactor_changes_name_their_faults() -> None:
    change = {"paused": False, "faults": [{"at": "after-pick", "pause": True}]}
    assert wording.enactor_change("a", change) == "enactor a: runs, fault after-pick pause"
    assert wording.enactor_change("b", {"faults": []}) == "enactor b: faults cleared"


def test_progress_prefers_the_note_and_counts_the_steps() -> None:
    steps = tuple(yaml.safe_load((SCENARIOS / "race-unguarded.yaml").read_text())["spec"]["steps"])
    assert wording.progress(steps, 0, 5) == (
        f"1/{len(steps)} a picks the newest plan and stalls right after its freshness check"
    )
    assert wording.progress(steps, 4, 5) == f"5/{len(steps)} wait until b has seen g11"
    assert wording.progress(steps, len(steps), 5) == f"{len(steps)}/{len(steps)} done"


def test_no_step_of_a_shipped_scenario_reads_as_a_dict() -> None:
    for path in SCENARIOS.glob("*.yaml"):
        for step in yaml.safe_load(path.read_text())["spec"].get("steps") or ():
            text = wording.step(step, 10)
            assert "{" not in text
            assert "?" not in text, (path.name, step)


def test_settings_read_as_names_and_values() -> None:
    changed = {"dwfm": {"maxInFlight": 8, "dynamodb": {"requestTimeoutSeconds": 0.5}}}
    assert (
        wording.settings(changed) == "dwfm.maxInFlight 8, dwfm.dynamodb.requestTimeoutSeconds 0.5"
    )
