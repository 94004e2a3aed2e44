"""The scenario controller's side of the dependent services: where they are
(`$DNSRACE_SERVICES`, a JSON object name -> URL), posting a scenario's settings to them (reset
and start; a mid-run change such as manual throttling; idle at the end), and the monitor that
samples them (with the regional endpoint's DNS answer) every quarter second into the ConfigMap
`scenario-NAME-services`, turning what they noticed into the scenario's timeline."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from kubernetes import client

from dnsrace.core.plans import REGIONAL_ENDPOINT
from dnsrace.scenarios.configmaps import ConfigMapLog, read_lines
from dnsrace.scenarios.probe import resolve
from dnsrace.scenarios.sampling import PeriodicSampler
from mockaws.settings import SERVICES as ORDER
from mockaws.settings import as_dict, parse_services

SERVICES_ENV = "DNSRACE_SERVICES"
SAMPLE_SECONDS = 0.25
SERVICE_TITLES = {
    "netmgr": "NetMgr",
    "dwfm": "Dwfm",
    "ec2": "Ec2",
    "nlb": "Nlb",
    "clients": "Clients",
}
JSON_HEADERS = {"Content-Type": "application/json"}


class ServicesUnavailable(RuntimeError):
    """A dependent service did not accept its settings; the message says which and why."""


def services_configmap(scenario: str) -> str:
    return f"scenario-{scenario}-services"


def locations() -> dict[str, str]:
    raw = os.environ.get(SERVICES_ENV, "")
    return dict(json.loads(raw)) if raw else {}


def merge(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class ServicesClient:
    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=1.0, read=10.0), retries=False
        )

    def _post(self, name: str, path: str, body: Any) -> Any:
        url = self.urls.get(name)
        if not url:
            raise ServicesUnavailable(
                f"service {name} is not configured (${SERVICES_ENV} names "
                f"{', '.join(sorted(self.urls)) or 'none'})"
            )
        try:
            r = self.http.request(
                "POST",
                url + path,
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ServicesUnavailable(f"service {name} at {url}: {exc}") from exc
        answer = json.loads(r.data or b"{}")
        if r.status != 200:
            raise ServicesUnavailable(f"service {name}: {answer.get('error', r.status)}")
        return answer

    def configure(self, settings: Mapping[str, Any], reset: bool, running: bool) -> None:
        """Full, validated settings to every service, in dependency order."""
        full = as_dict(parse_services(settings))
        for name in ORDER:
            self._post(name, "/settings", {"settings": full, "reset": reset, "running": running})

    def stop(self) -> None:
        for name in ORDER:
            if name in self.urls:
                self._post(name, "/settings", {"running": False, "settings": None})

    def get(self, name: str, path: str) -> Any:
        try:
            r = self.http.request("GET", self.urls[name] + path, timeout=2.0)
        except urllib3.exceptions.HTTPError:
            return None
        return json.loads(r.data) if r.status == 200 else None


class ServiceMonitor(PeriodicSampler):
    """Samples every service and the regional endpoint's answer; saves rows to a ConfigMap
    every second; passes each service's events to `note`."""

    def __init__(
        self,
        services: ServicesClient,
        dns: str,
        api: client.ApiClient,
        ns: str,
        scenario: str,
        note: Callable[[str, str], None],
    ) -> None:
        super().__init__("service-monitor", SAMPLE_SECONDS)
        self.services, self.dns = services, dns
        self.log, self.note = ConfigMapLog(api, ns, services_configmap(scenario)), note
        self.after: dict[str, int] = {}
        self.rows: list[dict[str, Any]] = []

    def sample(self) -> None:
        answer = resolve(REGIONAL_ENDPOINT, self.dns)
        row: dict[str, Any] = {
            "t": time.time(),
            "dns": answer.rcode,
            "addrs": len(answer.addresses),
        }
        for name in ORDER:
            row[name] = status = self.services.get(name, "/status") or {}
            if int(status.get("eventSeq", 0)) == self.after.get(name, 0):
                continue  # nothing new to read (a status not answered says nothing either)
            events = self.services.get(name, f"/events?after={self.after.get(name, 0)}") or {}
            for e in events.get("events", []):
                self.after[name] = int(e["seq"])
                self.note(SERVICE_TITLES[name] + str(e["kind"]), f"{name}: {e['message']}")
        self.rows.append(row)

    def write(self) -> None:
        if self.rows:
            self.log.append([json.dumps(r) for r in self.rows])
            self.rows = []


def read_samples(api: client.ApiClient, ns: str, scenario: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read_lines(api, ns, services_configmap(scenario))]
