"""The history oracle on hand-written record-store histories: every endpoint at every revision,
the worst thing on any endpoint decides the word, and I3 only where the polls order the two
stores."""

from __future__ import annotations

import json

from dnsrace.scenarios.history import PlanPolls
from dnsrace.scenarios.oracle import KeyChange, PlanPoll, check, deletion_bounds, endpoint_of

REGIONAL = "dynamodb.us-east-1.amazonaws.com"
ACCOUNT = "account.ddb.us-east-1.amazonaws.com"


def meta(name: str, generation: int) -> bytes:
    plan = f"us-east-1-g{generation:06d}"
    return json.dumps({"name": name, "generation": generation, "plan": plan}).encode()


def target(name: str) -> str:
    return "/skydns/" + "/".join(reversed(name.split("."))) + "/t-10-0-0-1"


def write(revision: int, name: str, generation: int) -> list[KeyChange]:
    """One transaction: the target key and the metadata, at one revision."""
    return [
        KeyChange(revision, target(name), b'{"host": "10.0.0.1"}'),
        KeyChange(revision, f"/dnsrace/endpoints/{name}", meta(name, generation)),
    ]


def plans(*generations: int) -> frozenset[str]:
    return frozenset(f"us-east-1-g{g:06d}" for g in generations)


def test_keys_map_to_their_endpoint() -> None:
    assert endpoint_of(target(ACCOUNT)) == ACCOUNT
    assert endpoint_of(f"/dnsrace/endpoints/{REGIONAL}") == REGIONAL
    assert endpoint_of("/dnsrace/retired/us-east-1-g000001") is None


def test_a_clean_history_holds() -> None:
    history = [*write(2, REGIONAL, 1), *write(3, ACCOUNT, 1), *write(4, REGIONAL, 2)]
    report = check({}, history, [PlanPoll(1, plans(1, 2), 4)], start=1, end=4)
    assert report.word == "HELD"
    assert report.findings == []
    assert report.endpoints == [ACCOUNT, REGIONAL]
    assert report.revisions_checked == 4
    assert report.changes == 6


def test_an_empty_second_endpoint_is_an_outage_even_when_the_first_answers() -> None:
    history = [
        *write(2, REGIONAL, 1),
        *write(3, ACCOUNT, 1),
        KeyChange(5, target(ACCOUNT), None),  # clean-up clears the account endpoint's key
    ]
    report = check({}, history, [], start=1, end=6)
    assert report.word == "OUTAGE"
    [empty] = report.of("I1")
    assert (empty.revision, empty.endpoint, empty.key) == (5, ACCOUNT, target(ACCOUNT))
    assert report.as_json()["emptyEndpoints"] == [ACCOUNT]


def test_a_regression_that_still_answers_is_stale() -> None:
    history = [*write(2, REGIONAL, 3), *write(3, REGIONAL, 2)]
    report = check({}, history, [], start=1, end=3)
    assert report.word == "STALE"
    [regressed] = report.of("I2")
    assert (regressed.revision, regressed.before, regressed.after) == (3, "g3", "g2")


def test_one_write_that_lowers_a_generation_is_one_regression() -> None:
    """g7 then g2 written over it is one regression; its keys cleared later, then g3 written
    (still below g7, but up from g2), are not more: I2 counts the writes that lowered it."""
    history = [
        *write(2, REGIONAL, 7),
        *write(3, REGIONAL, 2),
        KeyChange(4, target(REGIONAL), None),
        *write(5, REGIONAL, 3),
    ]
    report = check({}, history, [], start=1, end=5)
    found = [(f.revision, f.before, f.after) for f in report.of("I2")]
    assert found == [(3, "g7", "g2")]


def test_a_record_using_a_plan_deleted_before_a_revision_breaks_i3() -> None:
    history = [*write(2, REGIONAL, 1), *write(7, REGIONAL, 2)]
    # g1 listed by a poll between revisions 2 and 3, missing from one between 4 and 5:
    # deleted after r2 and before r5; the record used g1 through r6.
    polls = [PlanPoll(2, plans(1), 3), PlanPoll(4, plans(2), 5)]
    assert deletion_bounds(polls)["us-east-1-g000001"] == (2, 5)
    report = check({}, history, polls, start=1, end=8)
    [used] = report.of("I3")
    assert (used.revision, used.endpoint, used.before) == (6, REGIONAL, "us-east-1-g000001")
    assert report.word == "STALE"


def test_i3_is_undecided_where_the_polls_cannot_order_the_stores() -> None:
    history = [*write(2, REGIONAL, 1), *write(5, REGIONAL, 2)]
    # deleted after r2 and before r6; the record moved off g1 at r5: it used g1 through r4,
    # which may or may not be after the deletion.
    polls = [PlanPoll(2, plans(1), 3), PlanPoll(5, plans(2), 6)]
    report = check({}, history, polls, start=1, end=8)
    assert report.of("I3") == []
    assert [(u.revision, u.endpoint) for u in report.undecided] == [(3, REGIONAL)]
    assert report.word == "HELD"


def test_the_start_state_counts_and_old_revisions_are_ignored() -> None:
    initial = {f"/dnsrace/endpoints/{REGIONAL}": meta(REGIONAL, 4)}  # applied, no targets
    report = check(initial, [*write(1, REGIONAL, 9)], [], start=3, end=3)
    assert [(f.invariant, f.revision) for f in report.findings] == [("I1", 3)]
    assert report.changes == 0


def test_plan_polls_keep_the_polls_on_either_side_of_each_change() -> None:
    revisions = iter(range(1, 100))
    listed = iter([["g1"], ["g1"], ["g1"], ["g1", "g2"], ["g2"], ["g2"]])
    polls = PlanPolls(lambda: next(revisions), lambda: next(listed))
    for _ in range(6):
        polls.poll()
    kept = [(p.before, sorted(p.plans), p.after) for p in polls.all()]
    assert kept == [
        (1, ["g1"], 2),  # the first
        (5, ["g1"], 6),  # the last that showed only g1
        (7, ["g1", "g2"], 8),
        (9, ["g2"], 10),  # the first without g1: g1 was deleted before revision 11
        (11, ["g2"], 12),  # the latest
    ]
    assert deletion_bounds(polls.all())["g1"] == (7, 10)


def test_a_reference_that_spans_a_poll_missing_the_plan_breaks_i3() -> None:
    """No revision after the deletion window (the store went quiet), but the record used g1
    through the whole window of a poll that no longer listed it."""
    history = [*write(2, REGIONAL, 1)]
    polls = [PlanPoll(2, plans(1), 2), PlanPoll(2, plans(), 2)]
    report = check({}, history, polls, start=1, end=2)
    [used] = report.of("I3")
    assert (used.revision, used.endpoint) == (2, REGIONAL)
    assert report.undecided == []
