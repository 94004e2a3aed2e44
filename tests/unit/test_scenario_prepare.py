"""A cascade scenario is checked before it runs: settings changed mid-run are validated as the
merged result, and a scenario with services but no step starting them is refused."""

from __future__ import annotations

import pytest

from dnsrace.scenarios.engine import ScenarioInvalid, prepare


def spec(**more: object) -> dict[str, object]:
    return {"protocol": "unguarded", "services": {"dwfm": {"maxInFlight": 0}}, **more}


def test_services_and_their_changes_are_prepared() -> None:
    run = prepare(
        spec(
            steps=[
                {"services": {"start": True}},
                {"services": {"set": {"dwfm": {"maxInFlight": 8}}}},
            ]
        )
    )
    assert run.services == {"dwfm": {"maxInFlight": 0}}


def test_a_bad_mid_run_change_names_its_step() -> None:
    with pytest.raises(
        ScenarioInvalid, match=r"spec\.steps\[1\]\.services\.set\.dwfm\.maxInFlight: must be >= 0"
    ):
        prepare(
            spec(
                steps=[
                    {"services": {"start": True}},
                    {"services": {"set": {"dwfm": {"maxInFlight": -2}}}},
                ]
            )
        )
    with pytest.raises(ScenarioInvalid, match=r"spec\.services\.ec2\.speed: unknown setting"):
        prepare(spec(services={"ec2": {"speed": 1}}, steps=[{"services": {"start": True}}]))


def test_services_need_a_start_step() -> None:
    with pytest.raises(ScenarioInvalid, match="no step starts the services"):
        prepare(spec(steps=[{"repair": True}]))
    with pytest.raises(ScenarioInvalid, match=r"has no spec\.services"):
        prepare({"protocol": "guarded", "steps": [{"services": {"start": True}}]})
