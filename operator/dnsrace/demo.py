"""`make demo`: bring the local lab up (unless one is running), reproduce the race with the
unguarded protocol and then run the same faults with the guarded one, print the two verdicts
side by side, and take the lab down again only if this run started it."""

from __future__ import annotations

import sys
from collections.abc import Callable

from kubernetes import config

from dnsrace.controlplane import lab
from dnsrace.labcontrol import LabControl
from dnsrace.race import RaceResult, run_race

ROWS: list[tuple[str, Callable[[RaceResult], str]]] = [
    ("regional endpoint answers", lambda r: r.regional_answer),
    ("empty record observed", lambda r: "yes" if r.empty_samples else "no"),
    ("empty for (s, during the run)", lambda r: f"{r.empty_seconds:.2f}"),
    ("stale overwrites", lambda r: str(r.count("StaleOverwrite"))),
    ("active-plan deletions", lambda r: str(r.count("ActivePlanDeleted"))),
    ("records cleared", lambda r: str(r.count("RecordCleared"))),
    ("endpoints stuck (events)", lambda r: str(r.count("EndpointStuck"))),
    ("CAS conflicts", lambda r: str(r.count("CASConflict"))),
    ("generation regressions seen", lambda r: str(len(r.regressions))),
]


def side_by_side(unguarded: RaceResult, guarded: RaceResult) -> str:
    out = [f"{'':<32}{'unguarded':<14}{'guarded':<14}"]
    for label, get in ROWS:
        out.append(f"{label:<32}{get(unguarded):<14}{get(guarded):<14}")
    return "\n".join(out)


def story(result: RaceResult) -> list[str]:
    keep = ("StaleOverwrite", "ActivePlanDeleted", "RecordCleared")
    lines = [f"  {e.message}" for e in result.events if e.reason in keep][:3]
    stuck = [e for e in result.events if e.reason == "EndpointStuck"]
    if stuck:
        lines.append(f"  ... then {len(stuck)} times: {stuck[0].message}")
    return lines


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
    try:
        api = config.new_client_from_config(config_file=str(state.kubeconfig))  # type: ignore[no-untyped-call]
        control = LabControl(api, state.record_store)
        print("demo: unguarded enactors, the incident's timing (a stalls after its check) ...")
        unguarded = run_race(control, state.dns, "unguarded")
        print("\n".join(story(unguarded)))
        print("demo: guarded (compare-and-swap) enactors, the same faults ...")
        guarded = run_race(control, state.dns, "guarded")
        print(
            f"  stalled plan g{guarded.stalled_generation}: enactor a skipped every endpoint "
            f"that already had g{guarded.ahead_generation}; all endpoints converged on "
            f"g{guarded.final_generation}"
        )
        print()
        print(side_by_side(unguarded, guarded))
    finally:
        if started:
            lab.down(state_dir)
            print("demo: lab stopped (this run started it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
