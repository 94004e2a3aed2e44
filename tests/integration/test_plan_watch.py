"""The enactors' plan reflector on the real API server: a plan deleted between the listing and
the first watch request leaves the view (the kind flake: a restarted enactor kept such a plan
for good), and a watch the API server no longer serves (410) lists again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from dnsrace.core.plans import Plan, plan_name
from dnsrace.core.records import Target
from dnsrace.scenarios.control import wait_for
from dnsrace.stores.plans import CachedPlanStore, KubePlanStore
from dnsrace.stores.planwatch import KubePlanSource, PlanWatch

pytestmark = pytest.mark.integration
REGION = "us-east-1"


def plan(generation: int) -> Plan:
    return Plan(
        plan_name(REGION, generation),
        generation,
        ("dynamodb.us-east-1.amazonaws.com",),
        (Target("127.0.0.11", 100, "lb-1"),),
    )


@pytest.fixture
def store(api: client.ApiClient, namespace: str) -> KubePlanStore:
    return KubePlanStore(api, namespace)


@pytest.fixture
def reflector(
    api: client.ApiClient, namespace: str, store: KubePlanStore
) -> Iterator[tuple[CachedPlanStore, PlanWatch]]:
    plans = CachedPlanStore(store)
    # watch requests of 2 s: a step() with nothing to see ends that soon
    watch = PlanWatch(KubePlanSource(api, namespace, watch_seconds=2), plans, retry_seconds=0.1)
    yield plans, watch
    watch.stop(timeout=5)
    assert watch._thread is None or not watch._thread.is_alive(), "the watch thread leaked"


def generations(plans: CachedPlanStore) -> set[int]:
    return {p.generation for p in plans.list()}


def test_a_plan_deleted_before_the_first_watch_leaves_the_view(
    store: KubePlanStore, reflector: tuple[CachedPlanStore, PlanWatch]
) -> None:
    plans, watch = reflector
    for g in (1, 2):
        assert store.create(plan(g), REGION)
    watch.prime()
    assert generations(plans) == {1, 2}
    assert store.delete(next(p for p in plans.list() if p.generation == 1), precondition=True)
    assert store.create(plan(3), REGION)
    watch.start()  # listed already: follows from the listing's resourceVersion
    wait_for(lambda: generations(plans) == {2, 3}, 30, "the view to drop g1 and take g3")
    assert watch.relists == 0


def test_a_watch_from_a_version_the_server_no_longer_has_lists_again(
    store: KubePlanStore, reflector: tuple[CachedPlanStore, PlanWatch]
) -> None:
    plans, watch = reflector
    assert store.create(plan(1), REGION)
    watch.prime()
    assert store.delete(plans.list()[0], precondition=True)
    assert store.create(plan(2), REGION)
    # resourceVersion 1 is long compacted from the API server's watch cache: 410 Gone
    watch.since = "1"
    watch.step()
    assert (watch.relists, generations(plans)) == (1, {1})
    watch.step()
    assert (watch.relists, generations(plans)) == (1, {2})


def test_stop_interrupts_a_watch_request_blocked_on_the_server(
    store: KubePlanStore, reflector: tuple[CachedPlanStore, PlanWatch]
) -> None:
    """Nothing happens to the plans, so the watch request waits on the server until its
    timeout; stop() ends it now and the thread with it, silently."""
    plans, watch = reflector
    source = watch.source
    assert isinstance(source, KubePlanSource)
    source.watch_seconds = 60  # each request would wait a minute on the server
    assert store.create(plan(1), REGION)
    watch.start()
    wait_for(lambda: generations(plans) == {1}, 30, "the view to take g1")
    wait_for(lambda: source._response is not None, 10, "a watch request in flight")
    watch.stop(timeout=5)
    assert watch._thread is not None
    assert not watch._thread.is_alive()
    assert watch.failures == 0  # the interruption is not a failure to retry
