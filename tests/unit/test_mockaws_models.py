"""The dependent services' models, in memory with simulated time: collapse without admission
control and recovery with it, propagation delay from a backlog, the launch errors, the NLB's
oscillation and its velocity limit, and settings validation."""

from __future__ import annotations

import pytest

from mockaws.models.health import HealthChecker
from mockaws.models.launches import INSUFFICIENT_CAPACITY, REQUEST_LIMIT_EXCEEDED, LaunchApi
from mockaws.models.leases import LeaseTable
from mockaws.models.propagation import PropagationQueue
from mockaws.settings import (
    DwfmSettings,
    Ec2Settings,
    NetworkManagerSettings,
    NlbSettings,
    SettingsInvalid,
    parse_services,
)

DT = 0.1


def run_dwfm(settings: DwfmSettings, outage: float, after: float) -> tuple[LeaseTable, list[float]]:
    """Renewals fail for `outage` seconds, then succeed; returns the table and the goodput seen
    every second after the outage."""
    table = LeaseTable.steady(settings, 0.0)
    now, goodput = 0.0, []
    while now < outage + after:
        now = round(now + DT, 6)
        dns_ok = now >= outage
        if dns_ok:
            table.renewed(table.leased(now), now)
        _, finished, _ = table.tick(now, DT)
        if dns_ok:
            table.established(finished, now)
        else:
            table.write_failed(finished)
        if dns_ok and abs(now - round(now)) < 1e-9:
            goodput.append(table.goodput(now))
    return table, goodput


def test_unthrottled_recovery_collapses_and_stays_collapsed() -> None:
    s = DwfmSettings(droplets=48, leaseSeconds=2, capacityPerSecond=24, itemTimeoutSeconds=1.2)
    table, goodput = run_dwfm(s, outage=4, after=30)
    assert table.counters.expired == 48
    assert table.counters.established == 0  # 48 items share 24/s: 2 s each > 1.2 s timeout
    assert table.counters.timeouts > 48 * 20
    assert max(goodput) == 0


def test_queue_size_throttling_recovers_at_full_rate() -> None:
    s = DwfmSettings(
        droplets=48, leaseSeconds=2, capacityPerSecond=24, itemTimeoutSeconds=1.2, maxInFlight=8
    )
    table, _ = run_dwfm(s, outage=4, after=5)
    assert table.counters.established == 48
    assert table.counters.timeouts == 0
    assert len(table.leased(9.0)) == 48


def test_small_bursts_finish_without_throttling() -> None:
    """Collapse needs a burst: fewer items than capacity x timeout finish unthrottled."""
    s = DwfmSettings(droplets=20, capacityPerSecond=24, itemTimeoutSeconds=1.2)
    table, _ = run_dwfm(s, outage=4, after=5)
    assert table.counters.established == 20


def test_propagation_delay_grows_with_the_backlog() -> None:
    q = PropagationQueue(NetworkManagerSettings(propagationsPerSecond=5))
    for d in range(20):
        q.enqueue(f"droplet:{d}", 0.0)
    assert q.is_pending("droplet:19")
    now, done = 0.0, []
    while q.backlog():
        now = round(now + DT, 6)
        done += q.tick(now, DT)
    assert done == [f"droplet:{d}" for d in range(20)]  # FIFO
    assert now == pytest.approx(4.0, abs=0.11)
    assert q.max_delay == pytest.approx(4.0, abs=0.11)
    assert not q.is_pending("droplet:19")


def test_launch_errors_are_the_incidents() -> None:
    api = LaunchApi(Ec2Settings(requestsPerSecond=2, instancesPerDroplet=1), 0.0)
    assert api.launch(0.0, []).error == INSUFFICIENT_CAPACITY
    assert api.launch(0.0, [3]).instance is not None
    assert api.launch(0.0, [3]).error == REQUEST_LIMIT_EXCEEDED  # bucket of 2 spent
    assert api.launch(1.0, [3]).error == INSUFFICIENT_CAPACITY  # droplet 3 is full
    ok = api.launch(2.0, [3, 4])
    assert ok.instance is not None
    assert ok.instance.droplet == 4


def _nlb(limit: float) -> tuple[HealthChecker, list[str]]:
    hc = HealthChecker(NlbSettings(velocityLimitPercent=limit, velocityWindowSeconds=5))
    targets = [f"i-{n}" for n in range(12)]
    hc.sync(targets)
    hc.check_round(0.0, ["node-1", "node-2", "node-3"], lambda key: True)
    assert hc.in_service() == 12
    assert hc.removed_total == 0
    return hc, targets


def test_checker_nodes_without_network_make_targets_oscillate() -> None:
    hc, _ = _nlb(0)
    for r in range(1, 7):
        hc.check_round(r * 0.5, ["node-1", "node-2", "node-3"], lambda key: key != "node-2")
    assert hc.removed_total > 0
    assert hc.restored_total > 0
    assert hc.oscillating() == 12  # every target removed more than once


def test_velocity_control_caps_removals_per_window() -> None:
    hc, _ = _nlb(25)
    for r in range(1, 21):
        hc.check_round(r * 0.5, ["node-1"], lambda key: key == "node-1")  # every target fails
        assert len(hc.removals) <= 3  # 25% of 12
    assert hc.max_removed_percent_in_window == 25.0
    assert hc.held_by_velocity > 0


def test_settings_name_the_bad_field() -> None:
    assert parse_services({"dwfm": {"maxInFlight": 8}}).dwfm.maxInFlight == 8
    with pytest.raises(
        SettingsInvalid, match=r"spec\.services\.dwfm\.itemTimeoutSeconds: must be > 0"
    ):
        parse_services({"dwfm": {"itemTimeoutSeconds": 0}})
    with pytest.raises(SettingsInvalid, match=r"spec\.services\.nlb\.velocity: unknown setting"):
        parse_services({"nlb": {"velocity": 3}})
    with pytest.raises(SettingsInvalid, match="whole number"):
        parse_services({"dwfm": {"droplets": 2.5}})
    with pytest.raises(SettingsInvalid, match="must be a number"):
        parse_services({"ec2": {"requestsPerSecond": "fast"}})


def test_status_carries_the_newest_events_number() -> None:
    """The service monitor reads `/events` only when `eventSeq` in `/status` has moved: it is
    the number of the newest event `/events` gives, and moves with every event."""
    from mockaws.netmgr import NetworkManager

    service = NetworkManager()
    assert service.handle("GET", "/status", None)[1]["eventSeq"] == 0
    service.event("Backlog", "first")
    service.event("Drained", "second")
    _, status = service.handle("GET", "/status", None)
    _, events = service.handle("GET", "/events?after=1", None)
    assert status["eventSeq"] == 2
    assert [e["seq"] for e in events["events"]] == [2]
