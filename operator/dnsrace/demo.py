"""`make demo`: bring the local lab up (unless one is running), apply the race-unguarded and
race-guarded Scenarios, print the two verdicts side by side and where their reports are, and
take the lab down again only if this run started it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config

from dnsrace import kube, report, runcmd
from dnsrace.controlplane import lab
from dnsrace.versions import REPO_ROOT

SCENARIOS = ("race-unguarded", "race-guarded")
ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("regional endpoint answers", lambda v: v["finalRecord"]["answer"]),
    ("empty record observed", lambda v: "yes" if v["emptyRecordObserved"] else "no"),
    ("empty for (seconds)", lambda v: f"{v['emptyRecordSeconds']:.2f}"),
    ("stale overwrites", lambda v: str(v["staleOverwrites"])),
    ("active-plan deletions", lambda v: str(v["activePlanDeletions"])),
    ("records cleared", lambda v: str(v["recordsCleared"])),
    ("endpoint stuck (events)", lambda v: str(v["endpointsStuck"])),
    ("CAS conflicts", lambda v: str(v["casConflicts"])),
    ("generation regressions", lambda v: str(v["regressions"])),
    ("expectations", lambda v: "hold" if v["passed"] else "FAIL"),
]


def side_by_side(verdicts: dict[str, dict[str, Any]]) -> str:
    names = list(verdicts)
    out = [f"{'':<28}" + "".join(f"{n:<18}" for n in names)]
    for label, get in ROWS:
        out.append(f"{label:<28}" + "".join(f"{get(verdicts[n]):<18}" for n in names))
    return "\n".join(out)


def main() -> int:
    state_dir = lab.default_state_dir()
    before = lab.LabState.load(state_dir)
    started = before is None or not before.alive()
    try:
        state = lab.up(state_dir)
    except lab.LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"demo: lab {'started' if started else 'already running'} in {state.dir}")
    code = 0
    try:
        api = config.new_client_from_config(config_file=str(state.kubeconfig))
        crd = client.CustomObjectsApi(api)
        verdicts: dict[str, dict[str, Any]] = {}
        reports: list[Path] = []
        for name in SCENARIOS:
            print(f"demo: kubectl apply -f scenarios/{name}.yaml ...", flush=True)
            result = runcmd.run(api, "dnsrace", REPO_ROOT / "scenarios" / f"{name}.yaml", False)
            code = code or result
            obj: Any = crd.get_namespaced_custom_object(
                kube.GROUP, kube.VERSION, "dnsrace", "scenarios", name
            )
            verdicts[name] = obj["status"]["verdict"]
            reports.append(report.write_report(api, "dnsrace", name, REPO_ROOT / "reports"))
        print()
        print(side_by_side(verdicts))
        print()
        for path in reports:
            print(f"demo: report {path}")
    except (runcmd.RunError, report.ReportError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        if started:
            lab.down(state_dir)
            print("demo: lab stopped (this run started it)")
    return code


if __name__ == "__main__":
    sys.exit(main())
