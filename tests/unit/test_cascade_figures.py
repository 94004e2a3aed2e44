"""The cascade's figures and the metastable invariant, from hand-written monitor rows."""

from __future__ import annotations

from typing import Any

from dnsrace.scenarios.cascade import check_figures, figures, invariant_results


def row(t: float, addrs: int, **services: dict[str, Any]) -> dict[str, Any]:
    return {"t": t, "dns": "NOERROR" if addrs else "NXDOMAIN", "addrs": addrs, **services}


def dwfm(leased: int, queued: int, goodput: float, **more: Any) -> dict[str, Any]:
    return {
        "droplets": 4,
        "leased": leased,
        "queued": queued,
        "inFlight": 0,
        "goodput": goodput,
        **more,
    }


def test_metastable_detected_after_dns_is_healthy() -> None:
    rows = [row(0, 3, dwfm=dwfm(4, 0, 0)), row(1, 0, dwfm=dwfm(0, 4, 0))]
    rows += [row(2 + i, 3, dwfm=dwfm(0, 4, 0.0)) for i in range(10)]  # DNS healthy at t=2
    rows += [row(12, 3, dwfm=dwfm(4, 0, 4.0))]
    f = figures(rows, {"metastable": {"goodputBelowPerSecond": 1, "forSeconds": 8}})
    assert f["dns.healthyAgain"]
    assert f["dwfm.metastable"]
    assert f["dwfm.metastableSeconds"] == 9
    assert (f["samples"], f["monitoredSeconds"]) == (13, 12)
    assert f["dwfm.recoverySeconds"] == 9  # last sample not fully leased is t=11
    assert invariant_results(f, {"metastable": {"forSeconds": 8}})
    assert check_figures({"dwfm.metastable": {"equals": True}}, f) == []
    assert check_figures({"dwfm.recoverySeconds": {"max": 5}}, f) == [
        "expected dwfm.recoverySeconds <= 5, saw 9.0"
    ]


def test_quick_recovery_is_not_metastable() -> None:
    rows = [
        row(0, 0, dwfm=dwfm(0, 4, 0)),
        row(1, 3, dwfm=dwfm(2, 2, 2)),
        row(2, 3, dwfm=dwfm(4, 0, 2)),
    ]
    f = figures(rows, None)
    assert not f["dwfm.metastable"]
    assert f["dwfm.recoverySeconds"] == 0.0  # t=1 is the last unleased sample; healthy at t=1


def test_open_connections_versus_new_ones_while_empty() -> None:
    c0 = {"okOnOpenConnections": 10, "failedOnOpenConnections": 0, "newConnectionDnsFailures": 0}
    c1 = {"okOnOpenConnections": 15, "failedOnOpenConnections": 0, "newConnectionDnsFailures": 4}
    c2 = {"okOnOpenConnections": 20, "failedOnOpenConnections": 0, "newConnectionDnsFailures": 9}
    f = figures([row(0, 3, clients=c0), row(1, 0, clients=c1), row(2, 0, clients=c2)], None)
    # only the interval with both ends empty counts
    assert f["dynamodb.newConnectionFailuresWhileEmpty"] == 5
    assert f["dynamodb.openConnectionRequestsWhileEmpty"] == 5
    assert f["dynamodb.openConnectionErrorsWhileEmpty"] == 0
    assert f["dnsErrors"] == 9


def test_a_service_that_never_recovers_fails_its_recovery_bound() -> None:
    rows = [row(0, 0, dwfm=dwfm(0, 4, 0)), row(1, 3, dwfm=dwfm(0, 4, 0))]
    f = figures(rows, None)
    assert f["dwfm.recovered"] is False
    assert check_figures({"dwfm.recoverySeconds": {"max": 100}}, f) == [
        "expected dwfm to recover; it had not when the run ended"
    ]
    assert check_figures({"nope": {"min": 1}}, f) == [
        "expected figure nope, which the verdict does not have"
    ]


def test_network_manager_recovers_when_propagation_is_prompt_again() -> None:
    """One fresh item in the queue at the last sample is steady state, not a backlog."""

    def nm(backlog: int, wait: float) -> dict[str, Any]:
        return {"backlog": backlog, "oldestWaitSeconds": wait, "maxDelaySeconds": 6.0}

    rows = [
        row(0, 0, netmgr=nm(0, 0)),
        row(1, 3, netmgr=nm(40, 1.5)),
        row(6, 3, netmgr=nm(10, 5.0)),
        row(8, 3, netmgr=nm(1, 0.1)),
    ]
    f = figures(rows, None)
    assert f["netmgr.recovered"] is True
    assert f["netmgr.recoverySeconds"] == 5  # healthy at t=1, last slow sample at t=6
    assert f["netmgr.maxBacklog"] == 40
    stuck = figures([*rows, row(9, 3, netmgr=nm(12, 1.2))], None)
    assert stuck["netmgr.recovered"] is False


def test_empty_seconds_count_half_of_the_intervals_where_the_answer_changed() -> None:
    """An outage from somewhere in (0, 0.5] to somewhere in [2.5, 4): both ends fall inside
    an interval, so half of each counts; a slow monitor's long intervals no longer shorten it."""
    rows = [row(0, 3), row(0.5, 0), row(1.5, 0), row(2.5, 0), row(4, 3), row(5, 3)]
    f = figures(rows, None)
    assert f["dns.emptySeconds"] == 0.25 + 1 + 1 + 0.75
    assert figures([row(0, 3), row(1, 3)], None)["dns.emptySeconds"] == 0
