"""`dnsrace report NAME`: reports/NAME/index.html (self-contained: plots embedded) and the PNG
plots beside it, from what the lab recorded about one Scenario: its status (verdict,
timeline), its probe samples (ConfigMap scenario-NAME-series) and the enactors' Events."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.plans import DEFAULT_ENDPOINTS, ENDPOINT_LABELS, generation_of
from dnsrace.core.times import timestamp_of as _ts
from dnsrace.scenarios import configmaps
from dnsrace.scenarios.control import LabEvent, events_since
from dnsrace.scenarios.dependents import read_samples
from dnsrace.stores import kube

WRITER_COLOURS = {
    "a": "#d62728",
    "b": "#1f77b4",
    "c": "#2ca02c",
    "operator": "#9467bd",
    "": "#7f7f7f",
}
EVENT_STYLE = {
    "StaleOverwrite": ("#d62728", "stale overwrite"),
    "ActivePlanDeleted": ("#000000", "active plan deleted"),
    "RecordCleared": ("#ff7f0e", "record cleared (empty)"),
    "EndpointStuck": ("#8c564b", "endpoint stuck"),
    "SkippedNewer": ("#2ca02c", "CAS: skipped older plan"),
    "CASConflict": ("#17becf", "CAS conflict"),
    "PlanDeleted": ("#bcbd22", "plan deleted (unused)"),
    "EndpointRepaired": ("#9467bd", "repaired"),
}
# The incident's phases (INCIDENT.md, "The race"), placed at what the lab observed.
PHASES = [
    ("1-2: a stalls with G; b applies a newer plan", "#f0f0f0"),
    ("3: a writes G over the newer plan", "#fde0dd"),
    ("4: clean-up deletes G, still in use", "#fcbba1"),
    ("5: endpoint empty; automation cannot repair", "#fb6a4a"),
]


NOTHING_HAPPENED = "<li>No stale overwrite, no deletion of a plan in use, no record cleared.</li>"


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
        obj: Any = crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, ns, "scenarios", name)
    except ApiException as exc:
        if exc.status == 404:
            raise ReportError(
                f"no scenario {name!r} in namespace {ns}; run one with 'dnsrace run'"
            ) from exc
        raise
    st = obj.get("status") or {}
    if st.get("phase") not in ("Completed", "Failed"):
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
            if generation_of(e.plan) > base and _ts(e.time) <= end + 1
        ]
    return obj, samples, events


def write_report(api: client.ApiClient, ns: str, name: str, out_root: Path) -> Path:
    obj, samples, events = load(api, ns, name)
    out = out_root / name
    out.mkdir(parents=True, exist_ok=True)
    st = obj.get("status") or {}
    t0 = _ts(st["startTime"]) if st.get("startTime") else (samples[0].t if samples else 0.0)
    endpoints = [e for e in DEFAULT_ENDPOINTS if any(s.endpoint == e for s in samples)] or sorted(
        {s.endpoint for s in samples}
    )
    plots = {
        "generations.png": plot_generations(
            samples, events, endpoints, t0, name, obj["spec"]["protocol"]
        ),
        "answers.png": plot_answers(samples, endpoints, t0),
        "timeline.png": plot_timeline(samples, events, st, t0),
    }
    rows = read_samples(api, ns, name)
    if rows:
        plots["cascade.png"] = plot_cascade(rows, st, t0)
    for file, fig in plots.items():
        fig.savefig(out / file, dpi=110, bbox_inches="tight")
        plt.close(fig)
    (out / "index.html").write_text(render_html(obj, events, out, list(plots), t0))
    return out / "index.html"


def _label(endpoint: str) -> str:
    return ENDPOINT_LABELS.get(endpoint, endpoint)


def _empty_spans(samples: list[Sample], endpoint: str, t0: float) -> list[tuple[float, float]]:
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


def plot_generations(
    samples: list[Sample],
    events: list[LabEvent],
    endpoints: list[str],
    t0: float,
    name: str,
    protocol: str,
) -> Any:
    fig, axes = plt.subplots(
        len(endpoints) or 1,
        1,
        figsize=(11, 1.9 * max(len(endpoints), 1) + 0.8),
        sharex=True,
        squeeze=False,
    )
    for ax, ep in zip(axes[:, 0], endpoints, strict=False):
        pts = [s for s in samples if s.endpoint == ep and s.generation]
        if pts:
            ax.step(
                [s.t - t0 for s in pts],
                [s.generation for s in pts],
                where="post",
                color="#444444",
                linewidth=1.2,
                zorder=2,
            )
            for writer in sorted({s.writer for s in pts}):
                mine = [s for s in pts if s.writer == writer]
                ax.scatter(
                    [s.t - t0 for s in mine],
                    [s.generation for s in mine],
                    s=9,
                    color=WRITER_COLOURS.get(writer, "#7f7f7f"),
                    label=f"written by {writer}",
                    zorder=3,
                )
        for a, b in _empty_spans(samples, ep, t0):
            ax.axvspan(a, b, color="#d62728", alpha=0.18, zorder=1, label="NXDOMAIN (empty record)")
        for e in events:
            if e.reason == "StaleOverwrite" and ep in e.message:
                ax.axvline(_ts(e.time) - t0, color="#d62728", linestyle="--", linewidth=1)
            if e.reason == "ActivePlanDeleted" and ep in e.message:
                ax.axvline(_ts(e.time) - t0, color="black", linestyle=":", linewidth=1.2)
        ax.set_ylabel(f"{_label(ep)}\ngeneration", fontsize=9)
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles, strict=False))
        ax.legend(
            uniq.values(),
            uniq.keys(),
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            fontsize=7,
            frameon=False,
        )
        ax.yaxis.get_major_locator().set_params(integer=True)
    axes[-1, 0].set_xlabel("seconds since the scenario started")
    fig.suptitle(
        f"{name} ({protocol}): plan generation each endpoint serves, and who wrote it\n"
        "red dashed: stale overwrite; black dotted: its active plan deleted; red band: NXDOMAIN",
        fontsize=10,
    )
    return fig


def plot_answers(samples: list[Sample], endpoints: list[str], t0: float) -> Any:
    fig, ax = plt.subplots(figsize=(11, 3))
    for i, ep in enumerate(endpoints):
        pts = [s for s in samples if s.endpoint == ep]
        ax.step(
            [s.t - t0 for s in pts],
            [s.answers + i * 0.06 for s in pts],
            where="post",
            label=_label(ep),
            linewidth=1.3,
        )
    ax.set_ylabel("addresses in the answer")
    ax.set_xlabel("seconds since the scenario started")
    ax.set_title(
        "DNS answer size over time, queried with dnspython against the lab's CoreDNS "
        "(0 = NXDOMAIN)",
        fontsize=10,
    )
    ax.set_ylim(-0.3, max((s.answers for s in samples), default=3) + 0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def plot_timeline(
    samples: list[Sample], events: list[LabEvent], st: dict[str, Any], t0: float
) -> Any:
    fig, ax = plt.subplots(figsize=(11, 3.4))
    end = max([s.t - t0 for s in samples] + [_ts(e.time) - t0 for e in events] + [1.0])
    first = {
        r: min((_ts(e.time) - t0 for e in events if e.reason == r), default=None)
        for r in ("StaleOverwrite", "ActivePlanDeleted")
    }
    empties = [a for a, _ in _empty_spans(samples, DEFAULT_ENDPOINTS[0], t0)]
    marks = [
        0.0,
        first["StaleOverwrite"],
        first["ActivePlanDeleted"],
        empties[0] if empties else None,
    ]
    phase_handles = []
    if all(m is not None for m in marks):
        bounds = [*marks, end]
        for i, (label, colour) in enumerate(PHASES):
            lo, hi = float(bounds[i]), float(bounds[i + 1])  # type: ignore[arg-type]
            phase_handles.append(
                ax.axvspan(lo, max(hi, lo + 0.02), color=colour, alpha=0.6, label=f"phase {label}")
            )
    rows = list(EVENT_STYLE)
    for y, reason in enumerate(rows):
        xs = [_ts(e.time) - t0 for e in events if e.reason == reason]
        colour, label = EVENT_STYLE[reason]
        ax.scatter(xs, [y] * len(xs), color=colour, s=22, label=f"{label} ({len(xs)})")
    for entry in st.get("timeline", []):
        if entry["kind"] in ("Observed", "Enactor", "Planner"):
            ax.axvline(_ts(entry["time"]) - t0, color="#999999", linewidth=0.5, alpha=0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([EVENT_STYLE[r][1] for r in rows], fontsize=8)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    if phase_handles:
        ax.legend(
            handles=phase_handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.28),
            ncol=2,
            fontsize=8,
            frameon=False,
            title="the incident's phases, as observed here",
            title_fontsize=8,
        )
    ax.set_xlim(0, end)
    ax.set_xlabel("seconds since the scenario started (grey lines: scenario steps)")
    ax.set_title("What the enactors did, on the incident's phases", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _rates(rows: list[dict[str, Any]], svc: str, key: str, window: float = 1.0) -> list[float]:
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


def plot_cascade(rows: list[dict[str, Any]], st: dict[str, Any], t0: float) -> Any:
    """One lane per service, as the incident's timeline tells it: DNS, DynamoDB clients, DWFM,
    Network Manager, EC2 launches, NLB; the empty record shaded across every lane, the manual
    repair and any settings change (manual throttling) marked."""
    rows = sorted(rows, key=lambda r: float(r["t"]))
    t = [float(r["t"]) - t0 for r in rows]

    def col(svc: str, key: str) -> list[float]:
        return [float((r.get(svc) or {}).get(key, 0) or 0) for r in rows]

    fig, lanes = plt.subplots(6, 1, figsize=(12, 13), sharex=True)
    dns, ddb, dwfm, nm, ec2, nlb = lanes
    dns.step(t, [r["addrs"] for r in rows], where="post", color="#333")
    dns.set_ylabel("DNS\naddresses")
    ddb.plot(t, _rates(rows, "clients", "okOnOpenConnections"), label="ok, open connections")
    ddb.plot(t, _rates(rows, "clients", "newConnectionsOk"), label="ok, new connections")
    ddb.plot(
        t,
        _rates(rows, "clients", "newConnectionDnsFailures"),
        color="#d62728",
        label="new connection: NXDOMAIN",
    )
    ddb.set_ylabel("DynamoDB\nrequests/s")
    dwfm.plot(t, col("dwfm", "leased"), color="#2ca02c", label="droplets leased")
    dwfm.plot(
        t,
        [a + b for a, b in zip(col("dwfm", "queued"), col("dwfm", "inFlight"), strict=True)],
        color="#ff7f0e",
        label="leases waiting",
    )
    dwfm.plot(t, col("dwfm", "goodput"), color="#1f77b4", label="goodput (leases/s)")
    dwfm.set_ylabel("DWFM")
    figs = (st.get("verdict") or {}).get("cascade") or {}
    if figs.get("dwfm.metastable"):
        dwfm.text(
            0.5,
            0.5,
            f"metastable: goodput ~0 for {figs['dwfm.metastableSeconds']:g}s with DNS healthy",
            transform=dwfm.transAxes,
            ha="center",
            color="#d62728",
            fontsize=10,
        )
    nm.plot(t, col("netmgr", "backlog"), color="#8c564b", label="backlog")
    nm.plot(t, col("netmgr", "oldestWaitSeconds"), color="#e377c2", label="oldest wait (s)")
    nm.set_ylabel("Network\nManager")
    ec2.plot(t, _rates(rows, "clients", "launchesOk"), color="#2ca02c", label="launched")
    ec2.plot(
        t,
        _rates(rows, "ec2", "insufficientCapacity"),
        color="#d62728",
        label="InsufficientCapacity",
    )
    ec2.plot(
        t,
        _rates(rows, "ec2", "requestLimitExceeded"),
        color="#9467bd",
        label="RequestLimitExceeded",
    )
    ec2.set_ylabel("EC2\nlaunches/s")
    nlb.plot(t, col("nlb", "capacityPercent"), color="#17becf", label="capacity in service %")
    nlb.plot(t, _rates(rows, "nlb", "removals"), color="#d62728", label="removals/s")
    nlb.plot(t, _rates(rows, "nlb", "restorations"), color="#2ca02c", label="restorations/s")
    nlb.set_ylabel("NLB")
    nlb.set_xlabel("seconds since the scenario started")
    spans, start = [], None
    for x, r in zip(t, rows, strict=True):
        if not r["addrs"] and start is None:
            start = x
        if r["addrs"] and start is not None:
            spans.append((start, x))
            start = None
    if start is not None:
        spans.append((start, t[-1]))
    marks = [
        (_ts(e["time"]) - t0, e["kind"])
        for e in st.get("timeline", [])
        if e["kind"] in ("Repair", "Services")
    ]
    for ax in lanes:
        for a, b in spans:
            ax.axvspan(a, b, color="#fb6a4a", alpha=0.25, lw=0)
        for x, kind in marks:
            ax.axvline(x, color="#9467bd" if kind == "Repair" else "#555", ls="--", lw=1)
        if ax is not dns:
            ax.legend(loc="upper left", fontsize=7, ncol=3)
    dns.set_title(
        "the cascade, one lane per service (red: regional endpoint empty; dashed: "
        "manual repair / settings change)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def render_html(
    obj: dict[str, Any], events: list[LabEvent], out: Path, plots: list[str], t0: float
) -> str:
    st = obj.get("status") or {}
    v = st.get("verdict") or {}
    name, spec = obj["metadata"]["name"], obj["spec"]
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v.get(k)))}</td></tr>"
        for k in (
            "emptyRecordObserved",
            "emptyRecordSeconds",
            "staleOverwrites",
            "activePlanDeletions",
            "recordsCleared",
            "endpointsStuck",
            "casConflicts",
            "regressions",
            "finalRecord",
            "simulated",
            "passed",
            "failures",
        )
        if k in v
    )
    story = "".join(f"<li>{html.escape(s)}</li>" for s in v.get("story", []))
    figures = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(x))}</td></tr>"
        for k, x in sorted((v.get("cascade") or {}).items())
    )
    violations = "".join(f"<li>{html.escape(x)}</li>" for x in v.get("invariantViolations", []))
    cascade = (
        f"<h2>The cascade</h2><ul>{violations or '<li>No invariant violated.</li>'}</ul>"
        f"<table>{figures}</table>"
        if figures
        else ""
    )
    timeline = "".join(
        f"<tr><td>{_ts(t['time']) - t0:7.2f}s</td><td>{html.escape(t['kind'])}</td>"
        f"<td>{html.escape(t['message'])}</td></tr>"
        for t in st.get("timeline", [])
    )
    notable = "".join(
        f"<tr><td>{_ts(e.time) - t0:7.2f}s</td><td>{html.escape(e.reason)}</td>"
        f"<td>{html.escape(e.message)}</td></tr>"
        for e in events
        if e.reason not in ("CASConflict",)
    )
    images = "".join(f"<figure>{_img(out / p)}</figure>" for p in plots)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dnsrace report: {html.escape(name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; color: #222; }}
h1 {{ font-size: 1.5em; }} .summary {{ font-size: 1.15em; padding: .6em 1em; border-radius: 6px;
background: {"#fde0dd" if v.get("finalRecord", {}).get("answer") == "NXDOMAIN" else "#e5f5e0"}; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ddd;
padding: 3px 8px; text-align: left; font-size: .9em; vertical-align: top; }}
img {{ max-width: 100%; }} figure {{ margin: 1.5em 0; }} code {{ background: #f4f4f4; }}
</style></head><body>
<h1>dnsrace report: {html.escape(name)}</h1>
<p>{html.escape(spec.get("description", ""))} Protocol <code>{html.escape(spec["protocol"])}</code>,
keep {spec.get("keep", 2)}; started {html.escape(st.get("startTime", "?"))}, finished
{html.escape(st.get("completionTime", "?"))}; phase {html.escape(st.get("phase", "?"))}.</p>
<p class="summary">{html.escape(v.get("summary", ""))}</p>
<h2>What happened</h2><ol>{story or NOTHING_HAPPENED}</ol>
<h2>Verdict</h2><table>{rows}</table>
{cascade}
<h2>Plots</h2>{images}
<h2>Enactor events</h2><table><tr><th>t</th><th>reason</th><th>message</th></tr>{notable}</table>
<h2>Scenario timeline</h2><table><tr><th>t</th><th>kind</th><th>message</th></tr>{timeline}</table>
<p>Generated by <code>dnsrace report {html.escape(name)}</code> from the Scenario's status,
its probe samples and the enactors' Kubernetes Events.</p>
</body></html>
"""
