"""The scenario logs in ConfigMaps on the real API server: lines come back in order across
chunks, no write holds more than one chunk however long the log, the oldest chunk goes first
once the ring is full, a second writer (a restarted controller) carries on where the log ends,
and deleting the log leaves no chunk."""

from __future__ import annotations

import pytest
from kubernetes import client

from dnsrace.scenarios import configmaps
from dnsrace.scenarios.configmaps import ConfigMapLog, read_lines

pytestmark = pytest.mark.integration


@pytest.fixture
def small_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 300 bytes, 3 slots: the ring turns over within a few dozen lines."""
    monkeypatch.setattr(configmaps, "CHUNK", 300)
    monkeypatch.setattr(configmaps, "SLOTS", 3)


def lines(start: int, count: int) -> list[str]:
    return [f'{{"n": {n}, "pad": "{"x" * 30}"}}' for n in range(start, start + count)]


def chunks(api: client.ApiClient, ns: str, log: str) -> list[client.V1ConfigMap]:
    items = client.CoreV1Api(api).list_namespaced_config_map(ns).items
    return [cm for cm in items if cm.metadata.name.startswith(f"{log}-")]


@pytest.mark.usefixtures("small_ring")
def test_lines_come_back_in_order_and_no_chunk_outgrows_its_bound(
    api: client.ApiClient, namespace: str
) -> None:
    log = ConfigMapLog(api, namespace, "scenario-x-series")
    log.append(lines(0, 3))
    log.append(lines(3, 3))
    assert read_lines(api, namespace, "scenario-x-series") == lines(0, 6)
    sizes = []
    for start in range(6, 60, 2):
        log.append(lines(start, 2))
        sizes += [len(configmaps._text(cm)) for cm in chunks(api, namespace, "scenario-x-series")]
    held = read_lines(api, namespace, "scenario-x-series")
    # the newest lines, in order, without a gap; the oldest went first, a chunk at a time
    assert held == lines(60 - len(held), len(held))
    assert 0 < len(held) < 60
    assert max(sizes) <= configmaps.CHUNK
    assert {cm.metadata.name for cm in chunks(api, namespace, "scenario-x-series")} == {
        "scenario-x-series-0",
        "scenario-x-series-1",
        "scenario-x-series-2",
    }


@pytest.mark.usefixtures("small_ring")
def test_a_second_writer_carries_on_and_a_stale_one_loses_nothing(
    api: client.ApiClient, namespace: str
) -> None:
    first = ConfigMapLog(api, namespace, "log")
    first.append(lines(0, 2))
    restarted = ConfigMapLog(api, namespace, "log")
    restarted.append(lines(2, 2))
    # `first` still holds the chunk as it wrote it: its write meets a conflict, reads again
    first.append(lines(4, 2))
    assert read_lines(api, namespace, "log") == lines(0, 6)


def test_deleting_a_log_leaves_no_chunk(api: client.ApiClient, namespace: str) -> None:
    log = ConfigMapLog(api, namespace, "log")
    for start in range(0, 40, 4):  # more than one chunk at the real size
        log.append([line * 200 for line in lines(start, 4)])
    assert len(chunks(api, namespace, "log")) > 1
    configmaps.delete(api, namespace, "log")
    assert chunks(api, namespace, "log") == []
    assert read_lines(api, namespace, "log") == []
