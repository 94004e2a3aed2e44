"""The enactors' plan view and its reflector over the in-memory list-and-watch twin: the view
is the listing, then every event after the listing's resourceVersion in log order; an expired
watch lists again and drops what was deleted meanwhile; any other failure resumes where it
stopped."""

from __future__ import annotations

from typing import Any

from dnsrace.core.plans import plan_name
from dnsrace.stores.plans import CachedPlanStore, KubePlanStore
from dnsrace.stores.planwatch import MemoryPlanSource, PlanWatch


def plan_obj(generation: int, uid: str = "") -> dict[str, Any]:
    return {
        "metadata": {"name": plan_name("us-east-1", generation), "uid": uid or f"u{generation}"},
        "spec": {
            "generation": generation,
            "endpoints": ["dynamodb.us-east-1.amazonaws.com"],
            "targets": [{"address": "127.0.0.11", "weight": 100, "loadBalancer": "lb-1"}],
        },
    }


def cache() -> CachedPlanStore:
    return CachedPlanStore(KubePlanStore.__new__(KubePlanStore))  # no backend call is made


def view(plans: CachedPlanStore) -> list[int]:
    return sorted(p.generation for p in plans.list())


def reflector(*generations: int) -> tuple[MemoryPlanSource, CachedPlanStore, PlanWatch]:
    source, plans = MemoryPlanSource(), cache()
    for g in generations:
        source.create(plan_obj(g))
    return source, plans, PlanWatch(source, plans, retry_seconds=0)


def clean_up_g1_and_plan_g3(source: MemoryPlanSource) -> None:
    source.delete(plan_name("us-east-1", 1))
    source.create(plan_obj(3))


def test_a_plan_deleted_between_the_listing_and_the_watch_leaves_the_view() -> None:
    # the enactor's start-up: listed, then a clean-up deletes g1 and the planner makes g3
    # before the first watch request. Watching from anywhere but the listing's version (or
    # listing twice, as kopf's own listing after ours did) would keep g1 for good.
    source, plans, watch = reflector(1, 2)
    watch.prime()
    assert view(plans) == [1, 2]
    clean_up_g1_and_plan_g3(source)
    watch.follow()
    assert view(plans) == [2, 3]


def test_a_held_view_receives_the_events_in_log_order() -> None:
    source, plans, watch = reflector(1, 2)
    plans.hold()
    watch.prime()
    clean_up_g1_and_plan_g3(source)
    source.delete(plan_name("us-east-1", 2))
    watch.follow()
    assert view(plans) == []  # held: nothing applied yet
    # each prefix of the log is a view the replay can ask for, one after the other
    for prefix in ({1, 2}, {2}, {2, 3}, {3}):
        assert plans.deliver_until(prefix), prefix
    assert not plans.deliver_until({1, 3})  # never a view of this log: the queue runs out


def test_an_expired_watch_lists_again_and_drops_what_was_deleted_meanwhile() -> None:
    source, plans, watch = reflector(1, 2)
    watch.prime()
    clean_up_g1_and_plan_g3(source)
    source.compact()  # the DELETED of g1 is gone from the log the watch could have read
    watch.step()
    assert (watch.relists, view(plans)) == (1, [1, 2])  # nothing learnt from a 410
    watch.step()
    assert (watch.relists, view(plans)) == (1, [2, 3])


def test_a_relisting_into_a_held_view_queues_deletions_and_creations() -> None:
    source, plans, watch = reflector(1, 2)
    watch.prime()
    plans.hold()
    clean_up_g1_and_plan_g3(source)
    source.compact()
    watch.step()
    watch.step()
    assert view(plans) == [1, 2]
    assert plans.deliver_until({2})
    assert plans.deliver_until({2, 3})


def test_a_failed_watch_resumes_from_the_last_version_without_listing() -> None:
    source, plans, watch = reflector(1)
    watch.prime()
    source.create(plan_obj(2))
    source.fail_next = ConnectionResetError("apiserver restarted")
    watch.step()
    assert (watch.failures, watch.relists, view(plans)) == (1, 0, [1])
    source.delete(plan_name("us-east-1", 1))
    watch.step()
    assert (watch.failures, watch.relists, view(plans)) == (1, 0, [2])


def test_a_failed_listing_is_retried() -> None:
    source, plans, watch = reflector(1)
    source.list = _raise_once(source.list)  # type: ignore[method-assign]
    watch.step()
    assert (watch.failures, watch.since, view(plans)) == (1, None, [])
    watch.step()
    assert view(plans) == [1]


def _raise_once(listing: Any) -> Any:
    calls = []

    def wrapped() -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("apiserver down")
        return listing()

    return wrapped


def test_bookmarks_move_the_version_and_change_no_plan() -> None:
    source, plans, watch = reflector(1)
    watch.prime()
    source.bookmark()
    watch.follow()
    assert (watch.since, view(plans)) == (str(source.version), [1])
    source.compact()  # compacted up to the bookmark: the watch resumes from it, no 410
    source.create(plan_obj(2))
    watch.step()
    assert (watch.relists, view(plans)) == (0, [1, 2])


def test_a_listing_replaces_the_view_and_skips_what_is_not_a_plan() -> None:
    plans = cache()
    plans.replace([plan_obj(1), plan_obj(2)])
    plans.replace([plan_obj(2), plan_obj(3), {"metadata": {"name": "broken"}, "spec": {}}])
    assert view(plans) == [2, 3]


def test_a_repeated_event_queues_nothing_and_a_recreated_plan_replaces_the_old() -> None:
    plans = cache()
    plans.replace([plan_obj(1)])
    plans.hold()
    plans.observe("MODIFIED", plan_obj(1))  # a status update: the same plan
    plans.observe("DELETED", plan_obj(7))  # never seen: nothing to delete
    assert not plans.deliver_until({9})  # the queue is empty
    plans.observe("ADDED", plan_obj(1, uid="other"))
    plans.release()
    assert [p.uid for p in plans.list()] == ["other"]


def test_start_lists_once_and_stop_ends_the_thread() -> None:
    _, plans, watch = reflector(1)
    watch.start()
    assert view(plans) == [1]  # the first view is there when start returns
    watch.stop(timeout=5)
    assert watch._thread is not None
    assert not watch._thread.is_alive()
