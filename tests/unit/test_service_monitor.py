"""The service monitor's flush (the sampler's, around the monitor's write): rows it could not
append while the API server was away wait for the next flush (nothing lost, the monitor goes
on); a real error still surfaces."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.scenarios.dependents import ServiceMonitor, ServicesClient


class Log:
    """An in-memory twin of the ConfigMap log that fails its first appends as told."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.lines: list[str] = []

    def append(self, lines: list[str]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.lines += lines


def monitor(log: Log) -> ServiceMonitor:
    m = ServiceMonitor(ServicesClient({}), "127.0.0.1:1", client.ApiClient(), "ns", "x", print)
    m.log = log  # type: ignore[assignment]
    return m


def test_rows_wait_out_an_api_server_restart() -> None:
    log = Log(ApiException(status=503), ConnectionRefusedError())
    m = monitor(log)
    m.rows.append({"t": 1})
    m.flush()
    m.rows.append({"t": 2})
    m.flush()
    assert log.lines == []
    m.rows.append({"t": 3})
    m.flush()
    assert [json.loads(line)["t"] for line in log.lines] == [1, 2, 3]
    assert m.rows == []


def test_a_real_error_still_surfaces() -> None:
    m = monitor(Log(ApiException(status=422)))
    m.rows.append({"t": 1})
    with pytest.raises(ApiException):
        m.flush()
