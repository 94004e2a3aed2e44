"""`make soak`: guarded enactors and a fast planner under seeded random wall-clock faults and
enactor kills for SOAK_SECONDS (600 by default), the history oracle watching every endpoint at
every revision. Prints revisions checked, CAS conflicts, kills survived and violations; exits
non-zero on any violation (0 expected) or if the run does not complete.

The faults are drawn from SOAK_SEED and applied as real delays, pauses are never used: each
phase of SOAK_PHASE_SECONDS gives every enactor a fresh random set (a stall after its pick, slow
retried writes, a late clean-up) and, now and then, a kill at a point it has not been killed at
before (the process exits and is restarted). Nothing is replayed."""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from kubernetes import client, config

from bench.freerun import run_once
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.lab import local

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
PHASE = float(os.environ.get("SOAK_PHASE_SECONDS", "20"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
ENACTORS = ("a", "b", "c")
KILL_POINTS = [("before-write", e) for e in DEFAULT_ENDPOINTS] + [("before-cleanup", "")]


def faults(rng: random.Random, killed: set[tuple[str, str]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        out.append({"at": "after-pick", "delaySeconds": round(rng.uniform(0.2, 3), 2)})
    if rng.random() < 0.5:
        out.append(
            {
                "at": "write",
                "endpoint": rng.choice(["", *DEFAULT_ENDPOINTS]),
                "delaySeconds": round(rng.uniform(0.1, 0.8), 2),
                "retries": rng.randint(1, 3),
            }
        )
    if rng.random() < 0.4:
        out.append({"at": "before-cleanup", "delaySeconds": round(rng.uniform(0.2, 2), 2)})
    fresh = [p for p in KILL_POINTS if p not in killed]
    if fresh and rng.random() < 0.25:
        at, endpoint = rng.choice(fresh)
        killed.add((at, endpoint))
        kill: dict[str, Any] = {"at": at, "crash": True}
        if endpoint:
            kill["endpoint"] = endpoint
        out.append(kill)
    return out


def scenario(seconds: float, phase: float, seed: int) -> dict[str, Any]:
    """The soak as a free-running Scenario: random faults per enactor per phase."""
    rng = random.Random(seed)
    killed: dict[str, set[tuple[str, str]]] = {e: set() for e in ENACTORS}
    steps: list[dict[str, Any]] = [{"planner": {"run": True}}]
    elapsed = 0.0
    while elapsed < seconds:
        for name in ENACTORS:
            steps.append(
                {"enactor": name, "set": {"paused": False, "faults": faults(rng, killed[name])}}
            )
        window = min(phase, seconds - elapsed)
        steps.append({"waitFor": {"seconds": window}})
        elapsed += window
    steps += [
        {"planner": {"run": False}},
        *({"enactor": n, "set": {"faults": []}} for n in ENACTORS),
        {"waitFor": {"settled": True}},
    ]
    return {
        "apiVersion": "dnsrace.io/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "soak"},
        "spec": {
            "description": f"guarded soak, seed {seed}, {seconds:g} s",
            "protocol": "guarded",
            "keep": 2,
            "durationSeconds": int(seconds + 300),
            "planner": {"cadenceSeconds": 0.5},
            "enactors": [{"name": n} for n in ENACTORS],
            "steps": steps,
            # a phase's random faults may not all fire within it (a late clean-up the enactor
            # never reached): counted in the verdict, not required
            "expect": {
                "faultsFired": False,
                "oracle": {"I1": {"max": 0}, "I2": {"max": 0}, "I3": {"max": 0}},
            },
        },
    }


def main() -> int:
    # a Scenario has at most 200 steps: 4 a phase
    doc = scenario(SECONDS, max(PHASE, SECONDS / 45), SEED)
    with tempfile.TemporaryDirectory(prefix="dnsrace-soak-") as tmp:
        state = local.up(Path(tmp) / "lab")
        try:
            api = config.new_client_from_config(config_file=str(state.kubeconfig))
            crd = client.CustomObjectsApi(api)
            status = run_once(crd, doc, timeout=SECONDS + 600)
        finally:
            local.down(state.dir)
    if status.get("phase") != "Completed":
        failed = [c for c in status.get("conditions", []) if c.get("type") == "Failed"]
        print(f"soak: the run did not complete: {failed[0]['message'] if failed else status}")
        return 2
    verdict = status["verdict"]
    oracle = verdict["oracle"]
    # the verdict's fault accounting, counted by each enactor for this run: kills that fired
    # (the process exited there and was restarted) and the other faults' firings
    faults = verdict["faults"]
    crashes = [f for f in faults if f["fault"].endswith(" crash")]
    kills = sum(f["fired"] for f in crashes)
    restarted = sum(int(f.get("restarted", 0)) for f in crashes)
    stalls = sum(f["fired"] for f in faults if f not in crashes)
    violations = sum(oracle["violations"].values())
    print(
        f"soak: guarded, seed {SEED}, {SECONDS:g} s: {oracle['revisionsChecked']:,} revisions x "
        f"{len(oracle['endpoints'])} endpoints checked ({oracle['changes']:,} changes); "
        f"CAS conflicts {verdict['casConflicts']}; kills {kills} of {len(crashes)} planned, "
        f"restarted {restarted}; other faults fired {stalls} times; violations "
        f"I1 {oracle['violations']['I1']}, I2 {oracle['violations']['I2']}, "
        f"I3 {oracle['violations']['I3']} (undecided I3 {oracle['undecidedI3']}); "
        f"{verdict['summary']}"
    )
    for finding in oracle["findings"]:
        print(f"soak: violation {finding}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
