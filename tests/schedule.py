"""The order `make test` hands tests to its workers: longest first.

`make test` runs pytest-xdist with `--dist load --maxschedchunk 1`: each worker holds about
two tests and is given the next one in collection order as it finishes one. With the longest
tests first, that is a longest-processing-time-first schedule: the long end-to-end runs start
early, side by side, and the last tests handed out are the shortest, so the workers finish at
about the same time instead of one running a 40-second test alone at the end.

How long a test takes comes from `tests/durations.json` (seconds per test id, from a run of
the whole suite: `make durations` writes it again, with `--record-durations`). A test missing
from it (new, renamed) counts as its folder's median. The order only decides when a test
runs, never whether it passes: a stale file costs some time, nothing else.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        metavar="PATH",
        help="write each test's duration (set-up, call and teardown, seconds) to PATH as JSON",
    )


def expected_seconds(ids: list[str], known: dict[str, float]) -> dict[str, float]:
    """Each test's expected duration: its recorded one, or its folder's median recorded one
    (0 when the folder has none)."""
    by_folder: dict[str, list[float]] = defaultdict(list)
    for test, seconds in known.items():
        by_folder[_folder(test)].append(seconds)
    medians = {f: statistics.median(s) for f, s in by_folder.items()}
    return {t: known.get(t, medians.get(_folder(t), 0.0)) for t in ids}


def longest_first(ids: list[str], expected: dict[str, float]) -> list[str]:
    """`ids` by expected duration, longest first; ties keep their collection order."""
    return sorted(ids, key=lambda t: -expected[t])


def _folder(test_id: str) -> str:
    return test_id.split("::", 1)[0].rsplit("/", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        known = {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        known = {}
    ids = [item.nodeid for item in items]
    order = longest_first(ids, expected_seconds(ids, known))
    position = {test: i for i, test in enumerate(order)}
    items.sort(key=lambda item: position[item.nodeid])


class DurationRecorder:
    """Sums each test's phases as the reports arrive (on xdist's controller, every worker's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] += report.duration

    def pytest_sessionfinish(self) -> None:
        rounded = {t: round(s, 2) for t, s in sorted(self.seconds.items())}
        self.path.write_text(json.dumps(rounded, indent=0) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--record-durations")
    # on xdist's workers too the option is set; only the controller (no workerinput) writes
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(Path(path)), "dnsrace-durations")
