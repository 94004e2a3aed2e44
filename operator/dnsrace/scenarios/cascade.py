"""The cascade's figures and invariants, computed from the service monitor's samples (one row
every quarter second: the regional endpoint's DNS answer and every dependent service's
counters). Pure: rows in, figures out. Figures are flat (`dwfm.recoverySeconds`) so that
`spec.expect.figures` can bound any of them; "recovery" is measured from the moment DNS is
healthy again. The metastable invariant (`spec.invariants.metastable`) is the explicit check
that recovery failed although the trigger is gone: after DNS is healthy, DWFM has leases waiting
but re-establishes fewer than `goodputBelowPerSecond` per second for `forSeconds` or longer."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
PROMPT_SECONDS = 1.0  # Network Manager is back to normal when nothing has waited this long


@dataclass(frozen=True)
class Metastable:
    goodput_below: float = 4.0
    for_seconds: float = 8.0

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> Metastable:
        m = dict((spec or {}).get("metastable") or {})
        return cls(
            float(m.get("goodputBelowPerSecond", cls.goodput_below)),
            float(m.get("forSeconds", cls.for_seconds)),
        )


def _empty(row: Row) -> bool:
    return int(row.get("addrs", 0)) == 0


def _get(row: Row, svc: str, key: str) -> float:
    return float((row.get(svc) or {}).get(key, 0) or 0)


def _delta_while(rows: Sequence[Row], svc: str, key: str, empty: bool) -> float:
    """Increase of a counter over the intervals whose both ends are (not) empty."""
    total = 0.0
    for prev, cur in itertools.pairwise(rows):
        if _empty(prev) == empty and _empty(cur) == empty:
            total += max(0.0, _get(cur, svc, key) - _get(prev, svc, key))
    return total


def _last_increase(rows: Sequence[Row], svc: str, keys: Sequence[str]) -> float | None:
    last = None
    for prev, cur in itertools.pairwise(rows):
        if any(_get(cur, svc, k) > _get(prev, svc, k) for k in keys):
            last = float(cur["t"])
    return last


def figures(rows: Sequence[Row], invariants: Mapping[str, Any] | None = None) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: float(r["t"]))
    if not rows:
        return {"samples": 0}
    last = rows[-1]
    empties = [float(r["t"]) for r in rows if _empty(r)]
    healthy_at: float | None = None
    if empties:
        after = [float(r["t"]) for r in rows if float(r["t"]) > empties[-1] and not _empty(r)]
        healthy_at = after[0] if after else None
    start = healthy_at if healthy_at is not None else float(rows[0]["t"])
    since = [r for r in rows if float(r["t"]) >= start]

    def recovery(done_at: float | None) -> float:
        """Seconds from DNS healthy to `done_at`; 0 when nothing needed recovering."""
        if done_at is None:
            return 0.0
        return round(max(0.0, done_at - start), 2)

    observed = round(float(last["t"]) - start, 2)

    f: dict[str, Any] = {
        "samples": len(rows),
        # how long the monitor watched: from its first sample to its last
        "monitoredSeconds": round(float(last["t"]) - float(rows[0]["t"]), 2),
    }
    # each interval between two samples counts for the samples' share of it that was empty:
    # all of it between two empty samples, half of it where the answer changed (the change
    # fell somewhere inside); counting only the first kind undercounts an outage by up to two
    # intervals, which a loaded monitor stretches
    f["dns.emptySeconds"] = round(
        sum(
            (float(cur["t"]) - float(prev["t"])) * (_empty(prev) + _empty(cur)) / 2
            for prev, cur in itertools.pairwise(rows)
        ),
        2,
    )
    f["dns.healthyAgain"] = healthy_at is not None or not empties

    # DynamoDB, as the clients see it
    c = "clients"
    f["dynamodb.newConnectionFailuresWhileEmpty"] = int(
        _delta_while(rows, c, "newConnectionDnsFailures", True)
    )
    f["dynamodb.openConnectionRequestsWhileEmpty"] = int(
        _delta_while(rows, c, "okOnOpenConnections", True)
    )
    f["dynamodb.openConnectionErrorsWhileEmpty"] = int(
        _delta_while(rows, c, "failedOnOpenConnections", True)
    )
    failures = (
        _get(last, c, "newConnectionDnsFailures")
        + _get(last, c, "newConnectionRequestFailures")
        + _get(last, c, "failedOnOpenConnections")
    )
    requests = failures + _get(last, c, "newConnectionsOk") + _get(last, c, "okOnOpenConnections")
    f["dynamodb.errorRatePercent"] = round(100 * failures / requests, 1) if requests else 0.0
    failed_after = [
        float(cur["t"])
        for prev, cur in itertools.pairwise(since)
        if _get(cur, c, "newConnectionDnsFailures") > _get(prev, c, "newConnectionDnsFailures")
    ]
    f["dynamodb.recoverySeconds"] = recovery(failed_after[-1] if failed_after else None)
    f["dnsErrors"] = int(
        _get(last, c, "newConnectionDnsFailures") + _get(last, "dwfm", "dnsFailures")
    )

    # DWFM
    d = "dwfm"
    droplets = _get(last, d, "droplets")
    f["dwfm.leasesExpired"] = int(_get(last, d, "expired"))
    f["dwfm.timeouts"] = int(_get(last, d, "timeouts"))
    f["dwfm.minLeased"] = int(min(_get(r, d, "leased") for r in rows))
    not_leased = [float(r["t"]) for r in since if _get(r, d, "leased") < droplets]
    f["dwfm.recovered"] = _get(last, d, "leased") >= droplets
    f["dwfm.recoverySeconds"] = (
        recovery(not_leased[-1] if not_leased else None) if f["dwfm.recovered"] else observed
    )
    f["dwfm.maxGoodputAfterDnsHealthy"] = max((_get(r, d, "goodput") for r in since), default=0.0)
    m = Metastable.from_spec(invariants)
    longest = run_start = 0.0
    in_run = False
    for r in since if healthy_at is not None else []:
        t = float(r["t"])
        stuck = _get(r, d, "goodput") < m.goodput_below and (
            _get(r, d, "queued") + _get(r, d, "inFlight") > 0
        )
        if stuck and not in_run:
            run_start, in_run = t, True
        if not stuck:
            in_run = False
        if in_run:
            longest = max(longest, t - run_start)
    f["dwfm.metastableSeconds"] = round(longest, 2)
    f["dwfm.metastable"] = longest >= m.for_seconds

    # Network Manager
    n = "netmgr"
    f["netmgr.maxBacklog"] = int(max(_get(r, n, "backlog") for r in rows))
    f["netmgr.maxDelaySeconds"] = round(_get(last, n, "maxDelaySeconds"), 2)
    # recovered: propagation is prompt again (a launch's item waits a fraction of a second even
    # in steady state, so "backlog == 0" at one sample would be a coin toss)
    delayed = [float(r["t"]) for r in since if _get(r, n, "oldestWaitSeconds") >= PROMPT_SECONDS]
    f["netmgr.recovered"] = _get(last, n, "oldestWaitSeconds") < PROMPT_SECONDS
    f["netmgr.recoverySeconds"] = (
        recovery(delayed[-1] if delayed else None) if f["netmgr.recovered"] else observed
    )

    # EC2 launches
    e = "ec2"
    f["ec2.launchRequests"] = int(_get(last, e, "launchRequests"))
    f["ec2.insufficientCapacity"] = int(_get(last, e, "insufficientCapacity"))
    f["ec2.requestLimitExceeded"] = int(_get(last, e, "requestLimitExceeded"))
    errors = f["ec2.insufficientCapacity"] + f["ec2.requestLimitExceeded"]
    launches = f["ec2.launchRequests"]
    f["ec2.errorRatePercent"] = round(100 * errors / launches, 1) if launches else 0.0
    f["ec2.recoverySeconds"] = recovery(
        _last_increase(since, e, ("insufficientCapacity", "requestLimitExceeded"))
    )

    # NLB
    b = "nlb"
    f["nlb.removals"] = int(_get(last, b, "removals"))
    f["nlb.restorations"] = int(_get(last, b, "restorations"))
    f["nlb.oscillatingTargets"] = int(_get(last, b, "oscillatingTargets"))
    f["nlb.minCapacityPercent"] = min(
        (_get(r, b, "capacityPercent") for r in rows if r.get(b)), default=100.0
    )
    f["nlb.maxRemovedPercentInWindow"] = _get(last, b, "maxRemovedPercentInWindow")
    limit = _get(last, b, "velocityLimitPercent")
    f["nlb.velocityLimitPercent"] = limit
    f["nlb.withinVelocityLimit"] = limit == 0 or f["nlb.maxRemovedPercentInWindow"] <= limit
    f["nlb.recoverySeconds"] = recovery(_last_increase(since, b, ("removals", "restorations")))
    return f


def invariant_results(f: Mapping[str, Any], invariants: Mapping[str, Any] | None) -> list[str]:
    """Human-readable violations of the cascade's invariants."""
    m = Metastable.from_spec(invariants)
    out = []
    if f.get("dwfm.metastable"):
        out.append(
            f"metastable: DNS healthy again but DWFM re-established fewer than "
            f"{m.goodput_below:g} leases/s for {f['dwfm.metastableSeconds']:g}s "
            f"(threshold {m.for_seconds:g}s) with leases waiting"
        )
    return out


def check_figures(expect: Mapping[str, Any], f: Mapping[str, Any]) -> list[str]:
    """spec.expect.figures: name -> {min, max} or {equals}."""
    failures = []
    for name, bound in sorted(expect.items()):
        if name not in f:
            failures.append(f"expected figure {name}, which the verdict does not have")
            continue
        value = f[name]
        service = name.split(".")[0]
        if name.endswith("recoverySeconds") and f.get(f"{service}.recovered") is False:
            failures.append(f"expected {service} to recover; it had not when the run ended")
            continue
        if "equals" in bound and value != bound["equals"]:
            failures.append(f"expected {name} = {bound['equals']}, saw {value}")
        if "min" in bound and float(value) < float(bound["min"]):
            failures.append(f"expected {name} >= {bound['min']}, saw {value}")
        if "max" in bound and float(value) > float(bound["max"]):
            failures.append(f"expected {name} <= {bound['max']}, saw {value}")
    return failures
