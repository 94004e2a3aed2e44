"""`wait_for`, the one wait every test and the scenario engine use: it polls soon, then less
often, so a long wait does not read the API fifty times a second; errors of the control plane
count as "not yet" and are named when it times out."""

from __future__ import annotations

import pytest

from dnsrace.scenarios.control import LabTimeout, Stopped, wait_for
from dnsrace.stores.etcd import EtcdError


def test_a_long_wait_polls_ever_less_often_up_to_its_slowest_pause() -> None:
    polls: list[int] = []
    with pytest.raises(LabTimeout, match="timed out after 1s waiting for nothing"):
        wait_for(lambda: polls.append(1), 1.0, "nothing")
    # pauses 0.02, 0.03, 0.045, ... up to 0.2 s: about ten polls in a second (a fixed 20 ms
    # pause polls fifty times); a loaded host makes fewer, never more
    assert 4 <= len(polls) <= 15


def test_the_value_that_holds_is_returned() -> None:
    answers = iter([None, False, {"phase": "Idle"}])
    assert wait_for(lambda: next(answers), 5, "a phase") == {"phase": "Idle"}


def test_a_passing_failure_is_not_yet_and_named_at_the_timeout() -> None:
    def unreachable() -> None:
        raise EtcdError("record store at http://127.0.0.1:1 unreachable")

    with pytest.raises(LabTimeout, match="last error: EtcdError: record store at"):
        wait_for(unreachable, 0.5, "the record store")


def test_any_other_failure_propagates_at_once() -> None:
    def broken() -> None:
        raise KeyError("status")

    with pytest.raises(KeyError):
        wait_for(broken, 30, "a status")


def test_stop_ends_the_wait() -> None:
    with pytest.raises(Stopped, match="stopped while waiting for the run"):
        wait_for(lambda: None, 30, "the run", stop=lambda: True)
