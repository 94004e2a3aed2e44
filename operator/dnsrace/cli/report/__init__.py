"""`dnsrace report NAME`: reports/NAME/index.html (self-contained: plots embedded) and the PNG
plots beside it, from what the lab recorded about one Scenario: its status (verdict,
timeline), its probe samples (ConfigMap scenario-NAME-series) and the enactors' Events.
`data` reads, `plots` draws, `page` writes the HTML."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from dnsrace.cli.report.data import ReportError, load
from dnsrace.cli.report.page import render_html
from dnsrace.cli.report.plots import (
    close,
    plot_answers,
    plot_cascade,
    plot_generations,
    plot_timeline,
)
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.times import timestamp_of as _ts
from dnsrace.scenarios.dependents import read_samples

__all__ = ["ReportError", "write_report"]


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
        close(fig)
    (out / "index.html").write_text(render_html(obj, events, out, list(plots), t0))
    return out / "index.html"
