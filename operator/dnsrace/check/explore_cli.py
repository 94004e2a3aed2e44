"""The text and JSON faces of `dnsrace check`. Exit status: 0 no violation in a complete
exploration, 1 a violation was found, 2 the state limit cut the exploration short."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnsrace.check.explorer import Config, Result, explore
from dnsrace.check.export import scenario_yaml
from dnsrace.check.schedules import ScheduleConfig, run_many
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.protocol import Protocol


class CheckUsageError(ValueError):
    pass


def config_from(args: argparse.Namespace) -> Config:
    if not 1 <= args.endpoints <= len(DEFAULT_ENDPOINTS):
        raise CheckUsageError(f"--endpoints must be 1 to {len(DEFAULT_ENDPOINTS)}")
    return Config(
        Protocol(args.protocol),
        args.enactors,
        args.plans,
        args.keep,
        DEFAULT_ENDPOINTS[: args.endpoints],
        args.max_states,
    )


def render(result: Result) -> str:
    c = result.config
    out = [
        f"dnsrace check: protocol {c.protocol.value}, {c.enactors} enactors, {c.plans} plans, "
        f"keep {c.keep}, {len(c.endpoints)} endpoints",
        f"explored {result.states:,} states, {result.transitions:,} transitions, depth "
        f"{result.depth}, in {result.seconds:.1f} s "
        f"({'complete' if result.complete else 'INCOMPLETE: state limit reached'})",
    ]
    if not result.violations:
        out.append(
            "no violation of I1 (never empty once applied), I2 (generation never "
            "decreases), I3 (plan in use never deleted)"
        )
    for v in result.violations:
        out.append("")
        out.append(f"VIOLATION {v.invariant}: {v.description}")
        out.append(f"  {v.detail}; shortest trace, {len(v.trace)} steps:")
        for i, step in enumerate(v.trace, 1):
            for text in step.text:
                out.append(f"  {i:3d}. [{step.actor}] {text}")
    return "\n".join(out)


def run_random(args: argparse.Namespace) -> int:
    cfg = ScheduleConfig(Protocol(args.protocol), args.enactors, max(args.plans, 1), args.keep)
    outcomes = run_many(range(args.seed, args.seed + args.random), cfg)
    violating = [o for o in outcomes if o.violations]
    outages = [o for o in outcomes if o.outage_at_end]
    kinds = sorted({v for o in outcomes for v in o.violations})
    summary = {
        "protocol": cfg.protocol.value,
        "schedules": len(outcomes),
        "seeds": [args.seed, args.seed + args.random - 1],
        "violating": len(violating),
        "invariantsViolated": kinds,
        "outages": len(outages),
        "outageSeeds": [o.seed for o in outages],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"dnsrace check: {len(outcomes)} seeded random fault schedules "
            f"(seeds {args.seed}..{args.seed + args.random - 1}), protocol {cfg.protocol.value}, "
            f"{cfg.enactors} enactors, {cfg.plans} plans, keep {cfg.keep}"
        )
        print(f"  {len(violating)} violate an invariant ({', '.join(kinds) or 'none'})")
        print(
            f"  {len(outages)} end with the regional endpoint empty (the outage)"
            + (f": seeds {', '.join(str(o.seed) for o in outages)}" if outages else "")
        )
    return 1 if violating else 0


def run_check(args: argparse.Namespace) -> int:
    from dnsrace.controlplane.lab import LabError

    try:
        config = config_from(args)
    except ValueError as exc:
        raise LabError(str(exc)) from exc
    if args.random:
        return run_random(args)
    result = explore(config)
    print(json.dumps(result.as_json(), indent=2) if args.json else render(result))
    if args.export:
        if not result.violations:
            raise LabError("nothing to export: no violation was found")
        first = result.violations[0]
        name = f"check-{config.protocol.value}-{first.invariant.lower()}"
        Path(args.export).write_text(scenario_yaml(config, first, name))
        if not args.json:
            print(f"\nexported {first.invariant}'s trace as Scenario {name} to {args.export}")
    if result.violations:
        return 1
    return 0 if result.complete else 2
