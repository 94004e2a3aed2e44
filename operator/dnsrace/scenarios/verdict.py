"""A scenario's verdict: what the history oracle finds in the record store's full history (every
endpoint, every revision; `dnsrace.scenarios.oracle`), what the DNS probes saw on every
endpoint, what the enactors' Events recorded, what the regional endpoint answers at the end,
and whether spec.expect holds. The summary's first word follows the worst thing on any
endpoint: OUTAGE (an endpoint was empty, in the store or to a probe), STALE (one went back a
generation or used a deleted plan, but answered), HELD (nothing went wrong)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dnsrace.core.faults import Fault
from dnsrace.core.plans import REGIONAL_ENDPOINT, generation_of
from dnsrace.core.times import timestamp_of
from dnsrace.core.vocabulary import Invariant, Result
from dnsrace.scenarios import cascade, history
from dnsrace.scenarios.control import LabControl
from dnsrace.scenarios.engine import Run
from dnsrace.scenarios.oracle import PlanPoll
from dnsrace.scenarios.probe import resolve

COUNTED = {
    "staleOverwrites": "StaleOverwrite",
    "activePlanDeletions": "ActivePlanDeleted",
    "recordsCleared": "RecordCleared",
    "endpointsStuck": "EndpointStuck",
    "casConflicts": "CASConflict",
    "skippedNewer": "SkippedNewer",
    "repairs": "EndpointRepaired",
}


def compute_verdict(
    control: LabControl,
    dns: str,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    run: Run,
    samples: Sequence[Mapping[str, Any]] | None = None,
    run_id: str = "",
) -> dict[str, Any]:
    base = int(status.get("baseGeneration", 0))
    since = timestamp_of(str(status["startTime"]))
    events = [
        e
        for e in control.events_since(since, set(COUNTED.values()))
        if generation_of(e.plan) > base
    ]
    counts = {key: sum(e.reason == reason for e in events) for key, reason in COUNTED.items()}
    probes = status.get("probes") or {}
    answer = resolve(REGIONAL_ENDPOINT, dns)
    record = control.records.read(REGIONAL_ENDPOINT).record
    verdict: dict[str, Any] = {
        "emptyRecordObserved": bool(probes.get("emptySamples")),
        "emptyRecordSeconds": round(float(probes.get("emptySeconds", 0.0)), 3),
        "emptySamples": dict(probes.get("emptySamples", {})),
        # DNS queries the server did not answer (down, or SERVFAIL: its store down) and probe
        # rounds the stores could not be read in: a control-plane fault, not the race's outage
        "unansweredSamples": int(probes.get("unanswered", 0)),
        "unreadProbeRounds": int(probes.get("unreadRounds", 0)),
        **counts,
        "finalRecord": {
            "endpoint": REGIONAL_ENDPOINT,
            "answer": answer.rcode,
            "addresses": list(answer.addresses),
            "generation": record.generation if record else 0,
            "plan": record.plan if record else "",
            "writtenBy": record.enactor if record else "",
        },
        "story": [
            e.message
            for e in events
            if e.reason in ("StaleOverwrite", "ActivePlanDeleted", "RecordCleared")
        ][:6],
    }
    etcd = control.records.client
    polls = [PlanPoll(int(b), frozenset(p), int(a)) for b, p, a in probes.get("planPolls", [])]
    start = int(probes.get("startRevision") or etcd.revision())
    oracle = history.judge(etcd, start, etcd.revision(), polls).as_json()
    verdict["oracle"] = oracle
    # every write that lowered an endpoint's generation, from the full history (the probes'
    # samples could miss one while the controller restarts)
    verdict["regressions"] = oracle["violations"][Invariant.I2]
    if run.simulated is not None:
        verdict["simulated"] = run.simulated
    failures = check_expectations(spec.get("expect") or {}, verdict)
    tallies = {
        name: list(st.get("faultsFired") or []) if st.get("faultsRun", "") == run_id else []
        for name in sorted({enactor for enactor, _ in run.faults})
        for st in (control.enactor_status(name),)
    }
    verdict["faults"], never = account_faults(run.faults, tallies)
    if run.expect.faultsFired:
        failures += never
    if samples is not None:
        figs = cascade.figures(samples, spec.get("invariants"))
        verdict["cascade"] = figs
        verdict["invariantViolations"] = cascade.invariant_results(figs, spec.get("invariants"))
        failures += cascade.check_figures((spec.get("expect") or {}).get("figures") or {}, figs)
    verdict["failures"] = failures
    verdict["passed"] = not failures
    verdict["word"] = word = worst(oracle, verdict)
    empty = sorted(set(oracle["emptyEndpoints"]) | set(verdict["emptySamples"]))
    found = oracle["violations"]
    if word == Result.OUTAGE:
        head = f"OUTAGE: empty {', '.join(empty)}; {REGIONAL_ENDPOINT} {answer.rcode}"
    elif word == Result.STALE:
        head = (
            f"STALE: {found['I2']} regressions, {found['I3']} records on deleted plans; "
            f"{REGIONAL_ENDPOINT} {answer.rcode}"
        )
    else:
        head = f"HELD: {REGIONAL_ENDPOINT} {answer.rcode}"
    tail = (
        f"oracle {oracle['revisionsChecked']} revisions x {len(oracle['endpoints'])} endpoints: "
        f"I1 {found['I1']}, I2 {found['I2']}, I3 {found['I3']}; "
        f"{verdict['staleOverwrites']} stale overwrites, {verdict['activePlanDeletions']} "
        f"active-plan deletions, {verdict['casConflicts']} CAS conflicts, empty "
        f"{verdict['emptyRecordSeconds']:.2f}s"
    )
    if samples is not None:
        figs = verdict["cascade"]
        dwfm = (
            f"DWFM metastable {figs['dwfm.metastableSeconds']:g}s"
            if figs.get("dwfm.metastable")
            else f"DWFM recovered {figs.get('dwfm.recoverySeconds', 0):g}s after DNS"
        )
        tail += (
            f"; {figs.get('dnsErrors', 0)} DNS errors, {dwfm}, launch errors "
            f"{figs.get('ec2.insufficientCapacity', 0)} InsufficientCapacity/"
            f"{figs.get('ec2.requestLimitExceeded', 0)} RequestLimitExceeded, NLB removals "
            f"{figs.get('nlb.removals', 0)}"
        )
    if run.faults:
        fired = sum(f["fired"] > 0 for f in verdict["faults"])
        tail += f"; faults fired {fired}/{len(run.faults)}"
        tail += "".join(f" ({text})" for text in never)
    verdict["summary"] = f"{head}; {tail}; " + (
        "as expected" if not failures else "NOT AS EXPECTED"
    )
    return verdict


def account_faults(
    faults: Sequence[tuple[str, Fault]], tallies: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each fault the scenario set, with what its enactor's tallies say of it (how often it
    fired, first and last, where last, how often its process restarted after it), and the
    failures of those that never fired and may not go unfired (`fault a after-pick delay 2s:
    never fired`)."""
    out, never = [], []
    for enactor, fault in faults:
        what = fault.describe()
        tally = next((t for t in tallies.get(enactor, ()) if t.get("fault") == what), {})
        entry: dict[str, Any] = {
            "enactor": enactor,
            "fault": what,
            "fired": int(tally.get("count", 0)),
            "mayNeverFire": fault.may_never_fire,
        }
        for key in ("first", "last", "where", "restarted"):
            if key in tally:
                entry[key] = tally[key]
        out.append(entry)
        if not entry["fired"] and not fault.may_never_fire:
            never.append(f"fault {enactor} {what}: never fired")
    return out, never


def worst(oracle: Mapping[str, Any], verdict: Mapping[str, Any]) -> str:
    """OUTAGE, STALE or HELD: the worst on any endpoint; an empty answer counts whether the
    oracle found it in the store or a probe saw it, the rest is the oracle's word (the
    verdict's regressions are its I2 findings)."""
    if oracle["emptyEndpoints"] or verdict["emptySamples"]:
        return Result.OUTAGE
    if oracle["word"] != Result.HELD:
        return Result.STALE
    return Result.HELD


def _outside(what: str, value: int, bounds: Mapping[str, Any]) -> list[str]:
    """The failures of `value` against a {min, max} expectation, each naming `what`."""
    failures = []
    if "min" in bounds and value < int(bounds["min"]):
        failures.append(f"expected {what} >= {bounds['min']}, saw {value}")
    if "max" in bounds and value > int(bounds["max"]):
        failures.append(f"expected {what} <= {bounds['max']}, saw {value}")
    return failures


def check_expectations(expect: Mapping[str, Any], verdict: Mapping[str, Any]) -> list[str]:
    failures = []
    for invariant, bounds in (expect.get("oracle") or {}).items():
        value = int(verdict["oracle"]["violations"][invariant])
        failures += _outside(f"the oracle to find {invariant}", value, bounds)
    if (
        "emptyRecordObserved" in expect
        and verdict["emptyRecordObserved"] != expect["emptyRecordObserved"]
    ):
        failures.append(
            f"expected emptyRecordObserved={expect['emptyRecordObserved']}, "
            f"saw {verdict['emptyRecordObserved']}"
        )
    if "finalAnswer" in expect and verdict["finalRecord"]["answer"] != expect["finalAnswer"]:
        failures.append(
            f"expected the regional endpoint to answer {expect['finalAnswer']}, "
            f"it answers {verdict['finalRecord']['answer']}"
        )
    for key in (
        "staleOverwrites",
        "activePlanDeletions",
        "regressions",
        "casConflicts",
        "skippedNewer",
    ):
        if expect.get(key):
            failures += _outside(key, int(verdict[key]), expect[key])
    if expect.get("matchesSimulation") and "simulated" in verdict:
        predicted = bool(verdict["simulated"]["outage"])
        live = verdict["finalRecord"]["answer"] == "NXDOMAIN"
        if predicted != live:
            failures.append(f"simulation predicted outage={predicted}, the live run gave {live}")
    return failures
