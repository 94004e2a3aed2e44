"""The report's plots (matplotlib, Agg): generations per endpoint with the enactors' Events,
answers, the incident's phases on a timeline, and the cascade's lanes."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from dnsrace.cli.report.data import EVENT_STYLE, Sample, empty_spans, rates
from dnsrace.core.plans import DEFAULT_ENDPOINTS, ENDPOINT_LABELS
from dnsrace.core.times import timestamp_of as _ts
from dnsrace.scenarios.control import LabEvent

WRITER_COLOURS = {
    "a": "#d62728",
    "b": "#1f77b4",
    "c": "#2ca02c",
    "operator": "#9467bd",
    "": "#7f7f7f",
}


# The incident's phases (INCIDENT.md, "The race"), placed at what the lab observed.
PHASES = [
    ("1-2: a stalls with G; b applies a newer plan", "#f0f0f0"),
    ("3: a writes G over the newer plan", "#fde0dd"),
    ("4: clean-up deletes G, still in use", "#fcbba1"),
    ("5: endpoint empty; automation cannot repair", "#fb6a4a"),
]


def close(fig: Any) -> None:
    plt.close(fig)


def _label(endpoint: str) -> str:
    return ENDPOINT_LABELS.get(endpoint, endpoint)


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
        for a, b in empty_spans(samples, ep, t0):
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
        "DNS answer size over time, queried over UDP from the lab's CoreDNS (0 = NXDOMAIN)",
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
    empties = [a for a, _ in empty_spans(samples, DEFAULT_ENDPOINTS[0], t0)]
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
    ddb.plot(t, rates(rows, "clients", "okOnOpenConnections"), label="ok, open connections")
    ddb.plot(t, rates(rows, "clients", "newConnectionsOk"), label="ok, new connections")
    ddb.plot(
        t,
        rates(rows, "clients", "newConnectionDnsFailures"),
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
    ec2.plot(t, rates(rows, "clients", "launchesOk"), color="#2ca02c", label="launched")
    ec2.plot(
        t,
        rates(rows, "ec2", "insufficientCapacity"),
        color="#d62728",
        label="InsufficientCapacity",
    )
    ec2.plot(
        t,
        rates(rows, "ec2", "requestLimitExceeded"),
        color="#9467bd",
        label="RequestLimitExceeded",
    )
    ec2.set_ylabel("EC2\nlaunches/s")
    nlb.plot(t, col("nlb", "capacityPercent"), color="#17becf", label="capacity in service %")
    nlb.plot(t, rates(rows, "nlb", "removals"), color="#d62728", label="removals/s")
    nlb.plot(t, rates(rows, "nlb", "restorations"), color="#2ca02c", label="restorations/s")
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
