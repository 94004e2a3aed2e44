"""The free-running scenarios, measured: `free-run-unguarded` and `free-run-guarded` (the same
wall-clock faults, no choreography, no replay) each run RUNS times on the live lab; per protocol,
how many runs the history oracle saw an endpoint empty (I1), a generation go down (I2), a record
on a deleted plan (I3), and the CAS conflicts per run (the guard engaging)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from dnsrace.lab import local
from dnsrace.stores import kube

NS = "dnsrace"
RUNS = int(os.environ.get("BENCH_FREE_RUNS", "10"))
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run_once(
    crd: client.CustomObjectsApi, doc: dict[str, Any], timeout: float = 600
) -> dict[str, Any]:
    """Apply the scenario afresh, wait (up to `timeout` s) for it to end, return its status."""
    name = doc["metadata"]["name"]
    try:
        crd.delete_namespaced_custom_object(kube.GROUP, kube.VERSION, NS, "scenarios", name)
    except ApiException as exc:
        if exc.status != 404:
            raise
    while True:
        try:
            crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, NS, "scenarios", name)
        except ApiException as exc:
            if exc.status == 404:
                break
            raise
        time.sleep(0.2)
    crd.create_namespaced_custom_object(
        kube.GROUP, kube.VERSION, NS, "scenarios", doc, field_validation=kube.STRICT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj: Any = crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, NS, "scenarios", name)
        status = obj.get("status") or {}
        if status.get("phase") in ("Completed", "Failed"):
            return dict(status)
        time.sleep(1)
    raise TimeoutError(f"scenario {name} did not finish in {timeout:g} s")


def run(state: local.LabState) -> Iterator[str]:
    crd = client.CustomObjectsApi(config.new_client_from_config(config_file=str(state.kubeconfig)))
    for protocol in ("unguarded", "guarded"):
        doc = yaml.safe_load((SCENARIOS / f"free-run-{protocol}.yaml").read_text())
        hits = {"I1": 0, "I2": 0, "I3": 0}
        conflicts, failed, words = [], 0, []
        for _ in range(RUNS):
            status = run_once(crd, doc)
            if status.get("phase") != "Completed":
                failed += 1
                continue
            verdict = status["verdict"]
            for inv, count in verdict["oracle"]["violations"].items():
                hits[inv] += bool(count)
            conflicts.append(int(verdict["casConflicts"]))
            words.append(verdict["word"])
        yield (
            f"free-run: {protocol:<10} {RUNS} runs: empty endpoint (I1) in {hits['I1']}, "
            f"regression (I2) in {hits['I2']}, record on a deleted plan (I3) in {hits['I3']}; "
            f"CAS conflicts per run {conflicts}; words {words}"
            + (f"; {failed} runs Failed" if failed else "")
        )
