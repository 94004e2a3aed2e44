"""The kind suite's reading of a pod's DNS answers (tests/kind/watching.py): the run's own
answers begin where the regional name is served again after the lab's reset."""

from __future__ import annotations

import pytest

from tests.kind.watching import answers_in_run, empty, reset_at, served


def line(t: float, rcode: str, answers: int = 0) -> dict[str, object]:
    return {"t": t, "rcode": rcode, "answers": answers}


# As CI saw it (stop 27): the watcher started on the previous run's outage, the lab's standing
# plan was served again as the guarded scenario was applied, its reset emptied the store, its
# first plan served the name, and the guard held from there on.
BEFORE_RESET = [line(870.0, "NXDOMAIN"), line(874.82, "NOERROR", 3)]
RESET = 875.3


def test_the_run_begins_at_the_first_answer_after_the_reset() -> None:
    lines = [*BEFORE_RESET, line(875.06, "NXDOMAIN"), line(876.34, "NOERROR", 3)]
    assert answers_in_run(lines, RESET) == [line(876.34, "NOERROR", 3)]


def test_an_empty_answer_after_the_run_began_is_kept() -> None:
    lines = [
        *BEFORE_RESET,
        line(875.06, "NXDOMAIN"),
        line(876.34, "NOERROR", 3),
        line(877.0, "NOERROR", 0),
        line(877.5, "NXDOMAIN"),
        line(878.0, "NOERROR", 2),
    ]
    run = answers_in_run(lines, RESET)
    assert [e["t"] for e in run] == [876.34, 877.0, 877.5, 878.0]
    assert [empty(e) for e in run] == [False, True, True, False]
    assert not all(served(e) for e in run)


def test_a_reset_printed_a_moment_late_still_starts_the_run_after_it() -> None:
    lines = [*BEFORE_RESET, line(875.4, "NXDOMAIN"), line(876.34, "NOERROR", 3)]
    assert answers_in_run(lines, RESET) == [line(876.34, "NOERROR", 3)]


def test_a_timeout_neither_ends_the_reset_nor_begins_the_run() -> None:
    lines = [
        *BEFORE_RESET,
        line(875.06, "NXDOMAIN"),
        line(875.5, "ERROR:Timeout"),
        line(876.34, "NOERROR", 3),
    ]
    assert answers_in_run(lines, RESET) == [line(876.34, "NOERROR", 3)]


def test_a_pod_that_never_saw_the_reset_or_the_run_says_so() -> None:
    with pytest.raises(AssertionError, match="never saw the reset"):
        answers_in_run([*BEFORE_RESET, line(876.0, "NOERROR", 2)], RESET)
    with pytest.raises(AssertionError, match="not served again"):
        answers_in_run([*BEFORE_RESET, line(875.06, "NXDOMAIN")], RESET)


def test_the_reset_time_is_the_timelines_reset_entry() -> None:
    status = {
        "timeline": [
            {"time": "2026-12-02T10:00:00.000Z", "kind": "Created", "message": ""},
            {"time": "2026-12-02T10:00:01.250Z", "kind": "Reset", "message": ""},
            {"time": "2026-12-02T10:00:02.000Z", "kind": "PlanCreated", "message": ""},
        ]
    }
    assert reset_at(status) == 1796205601.25
    with pytest.raises(AssertionError, match="no Reset entry"):
        reset_at({"timeline": []})
