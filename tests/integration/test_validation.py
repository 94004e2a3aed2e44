"""Malformed objects are refused by the API server with a message that names the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.integration

GOOD: dict[str, Any] = {
    "apiVersion": "dnsrace.io/v1alpha1",
    "kind": "DNSPlan",
    "metadata": {"name": "p"},
    "spec": {
        "generation": 7,
        "region": "us-east-1",
        "endpoints": ["dynamodb.us-east-1.amazonaws.com"],
        "targets": [{"address": "127.0.0.11", "weight": 100, "loadBalancer": "lb-1"}],
    },
}


def _with(path: list[Any], value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`base` (GOOD by default) with the field at `path` set to `value`."""
    obj = copy.deepcopy(GOOD if base is None else base)
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


@pytest.mark.parametrize(
    ("path", "value", "expect"),
    [
        (["spec", "targets", 0, "address"], "300.1.1.1", "address must be an IPv4 or IPv6 address"),
        (["spec", "targets", 0, "weight"], 0, "spec.targets[0].weight"),
        (["spec", "targets", 0, "weight"], 256, "spec.targets[0].weight"),
        (["spec", "targets"], [], "spec.targets"),
        (["spec", "endpoints"], ["Not A Name"], "each endpoint must be a lower-case DNS name"),
        (["spec", "endpoints"], [f"{'a' * 150}.amazonaws.com"], "spec.endpoints[0]"),
        (["spec", "endpoints"], [f"e{i}.amazonaws.com" for i in range(10_001)], "spec.endpoints"),
        (["spec", "generation"], 0, "spec.generation"),
        (["spec", "region"], "mars", "spec.region"),
    ],
)
def test_malformed_plan_is_refused_naming_the_field(
    api: client.ApiClient, namespace: str, path: list[Any], value: Any, expect: str
) -> None:
    crd = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as err:
        crd.create_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", namespace, "dnsplans", _with(path, value)
        )
    assert err.value.status == 422
    assert expect in err.value.body


def test_a_region_of_ten_thousand_endpoints_fits_in_one_plan(
    api: client.ApiClient, namespace: str
) -> None:
    """One DNSPlan carries a whole 10,000-endpoint region (the scale benchmark's), and the
    Planner asks for one: both schemas take that many names, each validated."""
    crd = client.CustomObjectsApi(api)
    names = [f"e{i:05d}.s10000.bench.us-east-1.amazonaws.com" for i in range(10_000)]
    created: Any = crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "dnsplans", _with(["spec", "endpoints"], names)
    )
    assert len(created["spec"]["endpoints"]) == 10_000
    planner = {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Planner",
        "metadata": {"name": "big"},
        "spec": {"region": "us-east-1", "endpoints": names, "paused": True},
    }
    crd.create_namespaced_custom_object("dnsrace.io", "v1alpha1", namespace, "planners", planner)


def test_generation_is_immutable(api: client.ApiClient, namespace: str) -> None:
    crd = client.CustomObjectsApi(api)
    crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "dnsplans", copy.deepcopy(GOOD)
    )
    with pytest.raises(ApiException) as err:
        crd.patch_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", namespace, "dnsplans", "p", {"spec": {"generation": 8}}
        )
    assert err.value.status == 422
    assert "spec.generation is immutable" in err.value.body


CASCADE: dict[str, Any] = {
    "apiVersion": "dnsrace.io/v1alpha1",
    "kind": "Scenario",
    "metadata": {"name": "s"},
    "spec": {
        "protocol": "unguarded",
        "services": {"dwfm": {"maxInFlight": 8}},
        "steps": [{"services": {"start": True}}, {"repair": True}],
        "expect": {"figures": {"dwfm.metastable": {"equals": False}}},
    },
}


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"services": {"dwfm": {"maxInFlight": -1}}}, "spec.services.dwfm.maxInFlight"),
        ({"services": {"nlb": {"velocityLimitPercent": 150}}}, "velocityLimitPercent"),
        ({"services": {"dwfm": {"itemTimeoutSeconds": 0}}}, "itemTimeoutSeconds"),
        (
            {"steps": [{"services": {"start": True}, "repair": True}]},
            "each step is exactly one of enactor (with set), planner, waitFor, services or repair",
        ),
        ({"steps": [{"services": {}}]}, "a services step needs start: true"),
        ({"steps": [{"repair": False}]}, "repair: true is the only form"),
        (
            {"expect": {"figures": {"dwfm.recoverySeconds": {}}}},
            "a figure bound needs min, max or equals",
        ),
    ],
)
def test_malformed_cascade_scenario_is_refused(
    api: client.ApiClient, namespace: str, change: dict[str, Any], expect: str
) -> None:
    obj = copy.deepcopy(CASCADE)
    obj["spec"].update(change)
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", namespace, "scenarios", obj
        )
    assert err.value.status == 422
    assert expect in err.value.body


def test_a_well_formed_cascade_scenario_is_accepted(api: client.ApiClient, namespace: str) -> None:
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", copy.deepcopy(CASCADE)
    )


def test_scenario_status_is_typed(api: client.ApiClient, namespace: str) -> None:
    """The controller's status writes are checked too: a bad phase or condition is refused."""
    crd = client.CustomObjectsApi(api)
    crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", copy.deepcopy(CASCADE)
    )
    for status, field in (
        ({"phase": "Exploded"}, "status.phase"),
        ({"conditions": [{"type": "Completed", "status": "Maybe"}]}, "status.conditions[0].status"),
        ({"stepIndex": -1}, "status.stepIndex"),
    ):
        with pytest.raises(ApiException) as err:
            crd.patch_namespaced_custom_object_status(
                "dnsrace.io", "v1alpha1", namespace, "scenarios", "s", {"status": status}
            )
        assert err.value.status == 422
        assert field in err.value.body


def test_a_saved_grant_keeps_its_view(api: client.ApiClient, namespace: str) -> None:
    """A replay's pendingGrant keeps the plan view it granted (a field the schema did not name
    would be pruned, and a resumed grant could not write the enactor's view again)."""
    crd = client.CustomObjectsApi(api)
    crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", copy.deepcopy(CASCADE)
    )
    grant = {"index": 3, "target": 5, "viewGate": [7, 8]}
    crd.patch_namespaced_custom_object_status(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", "s", {"status": {"pendingGrant": grant}}
    )
    obj: Any = crd.get_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", "s"
    )
    assert obj["status"]["pendingGrant"] == grant


RACE: dict[str, Any] = {
    "apiVersion": "dnsrace.io/v1alpha1",
    "kind": "Scenario",
    "metadata": {"name": "race"},
    "spec": {
        "protocol": "unguarded",
        "enactors": [{"name": "a", "faults": [{"at": "after-pick", "pause": True}]}],
        "steps": [
            {"enactor": "a", "set": {"paused": False}},
            {"waitFor": {"enactor": "a", "pausedAt": "after-pick:*"}},
        ],
    },
}
FAULT = ["spec", "enactors", 0, "faults", 0]
WAIT = ["spec", "steps", 1, "waitFor"]


def _race_with(path: list[Any], value: Any) -> dict[str, Any]:
    return _with(path, value, RACE)


# each rule: the change, the field the refusal must name, and what it must say to write
@pytest.mark.parametrize(
    ("path", "value", "field", "says"),
    [
        (
            FAULT,
            {"at": "after-pick", "delaySecond": 2},
            "spec.enactors[0].faults[0].delaySecond",
            "unknown field",
        ),
        (
            FAULT,
            {"at": "after-pick", "pause": True, "crash": True, "delaySeconds": 1},
            "spec.enactors[0].faults[0]",
            "each fault takes exactly one action",
        ),
        (
            FAULT,
            {"at": "after-pick"},
            "spec.enactors[0].faults[0]",
            "each fault takes exactly one action",
        ),
        (
            FAULT,
            {"at": "after-pick", "delaySeconds": 0},
            "spec.enactors[0].faults[0]",
            "delaySeconds must be above 0",
        ),
        (
            FAULT,
            {"at": "after-pick", "delaySeconds": 1, "retries": 2},
            "spec.enactors[0].faults[0]",
            "retries belongs to at: write",
        ),
        (
            FAULT,
            {"at": "before-write", "endpoint": "regional", "pause": True},
            "spec.enactors",
            "a fault's endpoint must be one of the scenario's endpoints",
        ),
        (
            ["spec", "steps", 0, "set", "faults"],
            [{"at": "write", "endpoint": "dynamodb.example.com", "delaySeconds": 1}],
            "spec.steps",
            "a fault's endpoint must be one of the scenario's endpoints",
        ),
        (
            WAIT,
            {"enactor": "a", "pausedAt": "after-pick:*", "applied": 1, "seconds": 3},
            "spec.steps[1].waitFor",
            "each waitFor waits for exactly one of",
        ),
        (WAIT, {"seen": 3}, "spec.steps[1].waitFor", "need enactor (whose)"),
        (WAIT, {"enactor": "a", "settled": True}, "spec.steps[1].waitFor", "take none"),
        (WAIT, {"settled": False}, "spec.steps[1].waitFor", "settled: true is the only form"),
        (["metadata", "name"], "s" * 240, "metadata.name", "may not be more than 200"),
    ],
    ids=[
        "misspelt-field",
        "three-actions",
        "no-action",
        "zero-delay",
        "retries-not-write",
        "fault-endpoint",
        "step-fault-endpoint",
        "three-conditions",
        "enactor-missing",
        "enactor-extra",
        "settled-false",
        "long-name",
    ],
)
def test_a_scenario_that_cannot_run_as_written_is_refused(
    api: client.ApiClient, namespace: str, path: list[Any], value: Any, field: str, says: str
) -> None:
    """Asked strictly (as dnsrace run and kubectl apply ask), the API server refuses each
    with a message that names the field and what is wrong."""
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "dnsrace.io",
            "v1alpha1",
            namespace,
            "scenarios",
            _race_with(path, value),
            field_validation="Strict",
        )
    assert err.value.status in (400, 422)
    assert field in err.value.body
    assert says in err.value.body


def test_the_race_scenario_the_table_changes_is_accepted(
    api: client.ApiClient, namespace: str
) -> None:
    """The table above refuses only its change: the scenario it starts from is accepted, with
    a fault endpoint of its own spec.endpoints."""
    crd = client.CustomObjectsApi(api)
    crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", RACE, field_validation="Strict"
    )
    own = _race_with(FAULT, {"at": "before-write", "endpoint": "e1.example.com", "pause": True})
    own["metadata"]["name"] = "own-endpoints"
    own["spec"]["endpoints"] = ["e1.example.com"]
    crd.create_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", namespace, "scenarios", own, field_validation="Strict"
    )


@pytest.mark.parametrize(
    ("plural", "obj", "field", "says"),
    [
        (
            "planners",
            {
                "spec": {
                    "region": "us-east-1",
                    "endpoints": ["e.example.com"],
                    "cadenceSeconds": 0.05,
                }
            },
            "spec.cadenceSeconds",
            "cadenceSeconds is 0 (no cadence) or at least 0.1",
        ),
        (
            "enactors",
            {
                "spec": {
                    "protocol": "guarded",
                    "faults": [{"at": "write", "pause": True, "crash": True}],
                }
            },
            "spec.faults[0]",
            "each fault takes exactly one action",
        ),
        (
            "enactors",
            {"spec": {"protocol": "guarded", "faults": [{"at": "write", "pausee": True}]}},
            "spec.faults[0].pausee",
            "unknown field",
        ),
    ],
    ids=["planner-cadence", "enactor-fault-actions", "enactor-fault-field"],
)
def test_planner_and_enactor_settings_are_checked(
    api: client.ApiClient, namespace: str, plural: str, obj: dict[str, Any], field: str, says: str
) -> None:
    kind = {"planners": "Planner", "enactors": "Enactor"}[plural]
    body = {"apiVersion": "dnsrace.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, **obj}
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", namespace, plural, body, field_validation="Strict"
        )
    assert err.value.status in (400, 422)
    assert field in err.value.body
    assert says in err.value.body
