"""Admission for DNSPlans in the lab's namespace (admission/dnsplans.yaml, a
ValidatingAdmissionPolicy with the Planner as its parameter): only the planner may create one,
and only the next generation under a name that carries it and its region. Each refusal names
the field; the planner's own allocation goes on unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.plans import DEFAULT_ENDPOINTS, REGION, Plan, plan_name
from dnsrace.core.records import Target
from dnsrace.lab import local
from dnsrace.scenarios.control import LabControl
from dnsrace.stores.allocation import create_next_plan
from dnsrace.stores.plans import KubePlanStore, plan_object

pytestmark = pytest.mark.integration
NS = "dnsrace"
TARGETS = (Target("127.0.0.11", 100, "lb-1"),)


@pytest.fixture
def quiet(lab_defaults: local.LabState, control: LabControl) -> Iterator[LabControl]:
    """The planner paused: the next generation stays put while a test looks at it."""
    control.planner(paused=True)
    yield control
    control.planner(paused=False)


def next_generation(crd: client.CustomObjectsApi) -> int:
    planner: Any = crd.get_namespaced_custom_object(
        "dnsrace.io", "v1alpha1", NS, "planners", REGION
    )
    return int(planner["status"]["lastGeneration"]) + 1


def plan_doc(generation: int, **overrides: Any) -> dict[str, Any]:
    doc = plan_object(
        Plan(plan_name(REGION, generation), generation, DEFAULT_ENDPOINTS, TARGETS), REGION
    )
    for key, value in overrides.items():
        if key == "name":
            doc["metadata"]["name"] = value
        else:
            doc["spec"][key] = value
    return doc


def refusal(api: client.ApiClient, doc: dict[str, Any]) -> ApiException:
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", NS, "dnsplans", doc
        )
    return err.value


def test_an_administrator_may_not_hand_make_a_plan(
    quiet: LabControl, api: client.ApiClient, crd: client.CustomObjectsApi
) -> None:
    """Cluster admin has create rights on everything; a well-formed next plan is still refused."""
    err = refusal(api, plan_doc(next_generation(crd)))
    assert err.status == 403
    assert "DNSPlans are created by the planner only (ServiceAccount dnsrace/planner)" in err.body
    assert "dnsrace-admin may not create one" in err.body


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (
            {"name": "my-plan"},
            "metadata.name must carry the region and the generation: us-east-1-g",
        ),
        ({"jump": 1000}, "spec.generation must be the next one"),
        ({"jump": -1}, "spec.generation must be the next one"),
        ({"region": "us-west-2"}, "spec.region must be the planner's region us-east-1"),
    ],
)
def test_a_malformed_plan_from_the_planner_is_refused_naming_the_field(
    quiet: LabControl,
    planner_api: client.ApiClient,
    crd: client.CustomObjectsApi,
    change: dict[str, Any],
    expect: str,
) -> None:
    generation = next_generation(crd) + int(change.pop("jump", 0))
    doc = plan_doc(generation, **change)
    if "region" in change:
        doc["metadata"]["name"] = plan_name(str(change["region"]), generation)
    before = {p.uid for p in KubePlanStore(planner_api, NS).list()}
    err = refusal(planner_api, doc)
    assert err.status == 422
    assert expect in err.body
    assert {p.uid for p in KubePlanStore(planner_api, NS).list()} == before  # nothing made


def test_the_planners_allocation_is_unaffected(
    quiet: LabControl, planner_api: client.ApiClient, crd: client.CustomObjectsApi
) -> None:
    """Ten plans in a row, each the mark + 1 as the policy reads it from its cache."""
    first = next_generation(crd)
    made = [
        create_next_plan(planner_api, NS, REGION, REGION, DEFAULT_ENDPOINTS, TARGETS).generation
        for _ in range(10)
    ]
    assert made == list(range(first, first + 10))


def test_a_plan_past_the_mark_is_absorbed_by_the_next_allocation(
    quiet: LabControl, planner_api: client.ApiClient, crd: client.CustomObjectsApi
) -> None:
    """An allocator that stopped between creating its plan and advancing the mark: the next
    allocation moves the mark past that plan first, and goes on with the one after."""
    generation = next_generation(crd)
    created = KubePlanStore(planner_api, NS).create(
        Plan(plan_name(REGION, generation), generation, DEFAULT_ENDPOINTS, TARGETS), REGION
    )
    assert created  # the mark is still generation - 1
    plan = create_next_plan(planner_api, NS, REGION, REGION, DEFAULT_ENDPOINTS, TARGETS)
    assert plan.generation == generation + 1
    assert next_generation(crd) == generation + 2
