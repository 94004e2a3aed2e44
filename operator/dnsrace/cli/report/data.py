"""What a report is drawn from: the Scenario's status, its probe samples (ConfigMap
scenario-NAME-series), the enactors' Events during the run, and helpers that turn samples into
spans and rates. No plotting here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import Plural
from dnsrace.core.plans import generation_of
from dnsrace.core.times import timestamp_of as _ts
from dnsrace.core.vocabulary import Phase
from dnsrace.scenarios import configmaps
from dnsrace.scenarios.control import LabEvent, events_since
from dnsrace.stores import kube

EVENT_STYLE = {
    "StaleOverwrite": ("#d62728", "stale overwrite"),
    "ActivePlanDeleted": ("#000000", "active plan deleted"),
    "RecordCleared": ("#ff7f0e", "record cleared (empty)"),
    "EndpointStuck": ("#8c564b", "endpoint stuck"),
    "SkippedNewer": ("#2ca02c", "CAS: skipped older plan"),
    "CASConflict": ("#17becf", "CAS conflict"),
    "PlanDeleted": ("#bcbd22", "plan deleted (unused)"),
    "EndpointRepaired": ("#9467bd", "repaired"),
    # on the Enactor objects: an injected fault as it fired, a process back after a crash
    "FaultFired": ("#7f7f7f", "fault fired"),
    "Restarted": ("#e377c2", "enactor restarted"),
}
# Events about an enactor, not a plan: kept whatever generation their object's name carries
ENACTOR_EVENTS = {"FaultFired", "Restarted"}


class ReportError(RuntimeError):
    pass


@dataclass
class Sample:
    t: float
    endpoint: str
    rcode: str
    answers: int
    generation: int
    writer: str


def load(
    api: client.ApiClient, ns: str, name: str
) -> tuple[dict[str, Any], list[Sample], list[LabEvent]]:
    crd = client.CustomObjectsApi(api)
    try:
        obj: Any = crd.get_namespaced_custom_object(
            kube.GROUP, kube.VERSION, ns, Plural.SCENARIOS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            raise ReportError(
                f"no scenario {name!r} in namespace {ns}; run one with 'dnsrace run'"
            ) from exc
        raise
    st = obj.get("status") or {}
    if st.get("phase") not in (Phase.COMPLETED, Phase.FAILED):
        raise ReportError(
            f"scenario {name} is {st.get('phase', 'Pending')}; report it when it has finished"
        )
    samples: list[Sample] = []
    for line in configmaps.read_lines(api, ns, f"scenario-{name}-series"):
        t, ep, rcode, n, gen, writer = json.loads(line)
        samples.append(Sample(float(t), str(ep), str(rcode), int(n), int(gen), str(writer)))
    events: list[LabEvent] = []
    if st.get("startTime"):
        base = int(st.get("baseGeneration", 0))
        end = _ts(st["completionTime"]) if st.get("completionTime") else float("inf")
        events = [
            e
            for e in events_since(client.CoreV1Api(api), ns, _ts(st["startTime"]), set(EVENT_STYLE))
            if (e.reason in ENACTOR_EVENTS or generation_of(e.plan) > base)
            and _ts(e.time) <= end + 1
        ]
    return obj, samples, events


def empty_spans(samples: list[Sample], endpoint: str, t0: float) -> list[tuple[float, float]]:
    spans, start, last = [], None, None
    for s in (x for x in samples if x.endpoint == endpoint):
        empty = s.answers == 0 and s.generation > 0
        if empty and start is None:
            start = s.t - t0
        if not empty and start is not None:
            spans.append((start, s.t - t0))
            start = None
        last = s.t - t0
    if start is not None and last is not None:
        spans.append((start, last))
    return spans


def rates(rows: list[dict[str, Any]], svc: str, key: str, window: float = 1.0) -> list[float]:
    """Per-second rate of a counter over the last `window` seconds at each sample."""
    out, j = [], 0
    for cur in rows:
        while float(cur["t"]) - float(rows[j]["t"]) > window:
            j += 1
        prev = rows[j]
        dt = float(cur["t"]) - float(prev["t"])
        a, b = (prev.get(svc) or {}).get(key, 0), (cur.get(svc) or {}).get(key, 0)
        out.append(max(0.0, (float(b) - float(a)) / dt) if dt > 0 else 0.0)
    return out


__all__ = [
    "ENACTOR_EVENTS",
    "EVENT_STYLE",
    "Any",
    "ReportError",
    "Sample",
    "empty_spans",
    "load",
    "rates",
]
