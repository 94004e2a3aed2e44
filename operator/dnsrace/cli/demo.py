"""`make demo`: bring the local lab up (unless one is running), apply the race-unguarded and
race-guarded Scenarios, then the three cascade Scenarios (the same race with the dependent
services running: no fixes, the announced fixes, the CAS guard), print the verdicts side by side
and where their reports are, and take the lab down again only if this run started it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config

from dnsrace.cli import report
from dnsrace.cli.run import RunError, run_scenario_file
from dnsrace.core.names import NAMESPACE, Plural
from dnsrace.lab import local
from dnsrace.lab.versions import REPO_ROOT
from dnsrace.stores import kube

RACE = ("race-unguarded", "race-guarded")
CASCADE = ("cascade-unguarded", "cascade-fixed", "cascade-guarded")
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


def _figure(key: str, fmt: str = "{}") -> Callable[[dict[str, Any]], str]:
    return lambda v: fmt.format(v["cascade"][key])


CASCADE_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("regional endpoint empty (s)", _figure("dns.emptySeconds", "{:.1f}")),
    ("new conns failed while empty", _figure("dynamodb.newConnectionFailuresWhileEmpty")),
    (
        "open-conn requests ok/failed",
        lambda v: "{}/{}".format(
            v["cascade"]["dynamodb.openConnectionRequestsWhileEmpty"],
            v["cascade"]["dynamodb.openConnectionErrorsWhileEmpty"],
        ),
    ),
    ("errors caused by DNS", _figure("dnsErrors")),
    ("DWFM leases expired", _figure("dwfm.leasesExpired")),
    ("DWFM metastable (s)", _figure("dwfm.metastableSeconds", "{:.1f}")),
    ("DWFM recovered after DNS (s)", _figure("dwfm.recoverySeconds", "{:.1f}")),
    ("launch InsufficientCapacity", _figure("ec2.insufficientCapacity")),
    ("launch RequestLimitExceeded", _figure("ec2.requestLimitExceeded")),
    ("NetMgr slowest propagation (s)", _figure("netmgr.maxDelaySeconds", "{:.1f}")),
    (
        "NLB removals/restorations",
        lambda v: "{}/{}".format(v["cascade"]["nlb.removals"], v["cascade"]["nlb.restorations"]),
    ),
    ("NLB removed in a window, %", _figure("nlb.maxRemovedPercentInWindow")),
    ("expectations", lambda v: "hold" if v["passed"] else "FAIL"),
]


def side_by_side(
    verdicts: dict[str, dict[str, Any]],
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = ROWS,
) -> str:
    names = list(verdicts)
    out = [f"{'':<32}" + "".join(f"{n:<20}" for n in names)]
    for label, get in rows:
        out.append(f"{label:<32}" + "".join(f"{get(verdicts[n]):<20}" for n in names))
    return "\n".join(out)


def main() -> int:
    state_dir = local.default_state_dir()
    before = local.LabState.load(state_dir)
    started = before is None or not before.alive()
    try:
        state = local.up(state_dir)
    except local.LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"demo: lab {'started' if started else 'already running'} in {state.dir}")
    code = 0
    try:
        api = config.new_client_from_config(config_file=str(state.kubeconfig))
        crd = client.CustomObjectsApi(api)
        verdicts: dict[str, dict[str, Any]] = {}
        reports: list[Path] = []
        for name in (*RACE, *CASCADE):
            print(f"demo: kubectl apply -f scenarios/{name}.yaml ...", flush=True)
            result = run_scenario_file(
                api, NAMESPACE, REPO_ROOT / "scenarios" / f"{name}.yaml", False
            )
            code = code or result
            obj: Any = crd.get_namespaced_custom_object(
                kube.GROUP, kube.VERSION, NAMESPACE, Plural.SCENARIOS, name
            )
            verdicts[name] = obj["status"]["verdict"]
            reports.append(report.write_report(api, NAMESPACE, name, REPO_ROOT / "reports"))
        print()
        print(side_by_side({n: verdicts[n] for n in RACE}))
        print()
        print(side_by_side({n: verdicts[n] for n in CASCADE}, CASCADE_ROWS))
        print()
        for path in reports:
            print(f"demo: report {path}")
    except (RunError, report.ReportError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        if started:
            local.down(state_dir)
            print("demo: lab stopped (this run started it)")
    return code


if __name__ == "__main__":
    sys.exit(main())
