"""The scenario logs in ConfigMaps on the real API server: lines come back in order across
chunks, no write holds more than one chunk however long the log, the oldest chunk goes first
once the ring is full, a second writer (a restarted controller) carries on where the log ends,
a write that landed though its answer was lost is not written again, and deleting the log
leaves no chunk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import urllib3
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


def answer_lost(call: Callable[..., Any]) -> Callable[..., Any]:
    """`call`, made, then failing as a connection lost before its answer came back."""

    def made_then_lost(*args: Any) -> Any:
        call(*args)
        raise urllib3.exceptions.ProtocolError("Connection aborted.")

    return made_then_lost


def test_a_write_whose_answer_was_lost_is_not_written_again(
    api: client.ApiClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler, told its append failed, offers the same lines again with newer ones."""
    log = ConfigMapLog(api, namespace, "log")
    log.append(lines(0, 2))
    core = log.core
    monkeypatch.setattr(
        core, "replace_namespaced_config_map", answer_lost(core.replace_namespaced_config_map)
    )
    with pytest.raises(urllib3.exceptions.ProtocolError):
        log.append(lines(2, 2))
    monkeypatch.undo()
    log.append(lines(2, 4))
    assert read_lines(api, namespace, "log") == lines(0, 6)


@pytest.mark.usefixtures("small_ring")
def test_lost_answers_over_two_chunks_write_nothing_twice(
    api: client.ApiClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two appends in a row fail after landing, the second in a chunk of its own: the first's
    lines, found at the end of the log at the second, are not written again at the third."""
    log = ConfigMapLog(api, namespace, "log")
    log.append(lines(0, 3))
    core = log.core
    for method in ("replace_namespaced_config_map", "create_namespaced_config_map"):
        monkeypatch.setattr(core, method, answer_lost(getattr(core, method)))
    with pytest.raises(urllib3.exceptions.ProtocolError):
        log.append(lines(3, 2))  # lands at the end of the first chunk
    with pytest.raises(urllib3.exceptions.ProtocolError):
        log.append(lines(3, 5))  # lines 5 to 7 land in a second chunk
    monkeypatch.undo()
    log.append(lines(3, 6))
    assert read_lines(api, namespace, "log") == lines(0, 9)
    assert len(chunks(api, namespace, "log")) == 2


def test_deleting_a_log_leaves_no_chunk(api: client.ApiClient, namespace: str) -> None:
    log = ConfigMapLog(api, namespace, "log")
    for start in range(0, 40, 4):  # more than one chunk at the real size
        log.append([line * 200 for line in lines(start, 4)])
    assert len(chunks(api, namespace, "log")) > 1
    configmaps.delete(api, namespace, "log")
    assert chunks(api, namespace, "log") == []
    assert read_lines(api, namespace, "log") == []
