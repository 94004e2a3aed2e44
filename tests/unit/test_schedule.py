"""The order `make test` hands tests out (tests/schedule.py): longest first by the recorded
durations, a test without one at its folder's median, ties in collection order."""

from __future__ import annotations

from tests.schedule import expected_seconds, longest_first


def test_longest_first_with_a_folder_median_for_new_tests() -> None:
    known = {
        "tests/e2e/test_a.py::slow": 40.0,
        "tests/e2e/test_a.py::quick": 2.0,
        "tests/e2e/test_b.py::middling": 10.0,
        "tests/unit/test_c.py::search": 18.0,
        "tests/unit/test_c.py::pure": 0.01,
        "tests/unit/test_c.py::gone": 0.02,
    }
    ids = [
        "tests/unit/test_c.py::pure",
        "tests/unit/test_c.py::new",  # unit median: 0.02
        "tests/e2e/test_a.py::quick",
        "tests/e2e/test_b.py::new",  # e2e median: 10.0
        "tests/unit/test_c.py::search",
        "tests/e2e/test_b.py::middling",
        "tests/e2e/test_a.py::slow",
        "tests/other/test_d.py::unknown",  # no folder recorded: 0
    ]
    expected = expected_seconds(ids, known)
    assert expected["tests/unit/test_c.py::new"] == 0.02
    assert expected["tests/e2e/test_b.py::new"] == 10.0
    assert longest_first(ids, expected) == [
        "tests/e2e/test_a.py::slow",
        "tests/unit/test_c.py::search",
        "tests/e2e/test_b.py::new",  # a tie with middling: collection order
        "tests/e2e/test_b.py::middling",
        "tests/e2e/test_a.py::quick",
        "tests/unit/test_c.py::new",
        "tests/unit/test_c.py::pure",
        "tests/other/test_d.py::unknown",
    ]
