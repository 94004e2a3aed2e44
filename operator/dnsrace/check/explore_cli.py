"""The text and JSON faces of `dnsrace check`. Exit status: 0 no violation in a complete
exploration, 1 a violation was found, 2 the state limit cut the exploration short."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnsrace.check.explorer import Config, Result, explore
from dnsrace.check.export import NotExportable, scenario_yaml
from dnsrace.check.schedules import ScheduleConfig, run_many
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.protocol import Variant


class CheckUsageError(ValueError):
    pass


def protocols_from(text: str, enactors: int) -> tuple[Variant, ...]:
    """`guarded` (every enactor) or `guarded,guarded,unguarded` (one per enactor)."""
    names = [t.strip() for t in text.split(",")]
    known = ", ".join(p.value for p in Variant)
    try:
        protocols = tuple(Variant(n) for n in names)
    except ValueError:
        raise CheckUsageError(f"--protocol: each must be one of {known}, not {text!r}") from None
    if len(protocols) == 1:
        return protocols * enactors
    if len(protocols) != enactors:
        raise CheckUsageError(
            f"--protocol lists {len(protocols)} protocols for {enactors} enactors"
        )
    return protocols


def config_from(args: argparse.Namespace) -> Config:
    if not 1 <= args.endpoints <= len(DEFAULT_ENDPOINTS):
        raise CheckUsageError(f"--endpoints must be 1 to {len(DEFAULT_ENDPOINTS)}")
    return Config(
        protocols_from(args.protocol, args.enactors),
        args.plans,
        args.keep,
        DEFAULT_ENDPOINTS[: args.endpoints],
        args.endpoint_change,
        args.max_states,
    )


def render(result: Result) -> str:
    c = result.config
    out = [
        f"dnsrace check: protocol {c.protocol_text}, {c.enactors} enactors, {c.plans} plans, "
        f"keep {c.keep}, {len(c.endpoints)} endpoints"
        + (f", endpoint change at g{c.endpoint_change}" if c.endpoint_change else "")
        + "; one transition = one store request, views may lag",
        f"explored {result.states:,} states, {result.transitions:,} transitions, depth "
        f"{result.depth}, in {result.seconds:.1f} s "
        f"({'complete' if result.complete else 'INCOMPLETE: cut short'})",
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
            view = ""
            if step.view is not None:
                view = " view {" + ", ".join(f"g{g}" for g in step.view) + "}"
            for j, text in enumerate(step.text):
                lead = f"  {i:3d}. [{step.actor}]{view if j == 0 else ''} "
                out.append(
                    lead + text if j == 0 else " " * len(f"  {i:3d}. [{step.actor}] ") + text
                )
    return "\n".join(out)


def run_random(args: argparse.Namespace) -> int:
    protocols = set(protocols_from(args.protocol, args.enactors))
    if len(protocols) != 1:
        raise CheckUsageError("--random runs one protocol for every enactor")
    cfg = ScheduleConfig(protocols.pop(), args.enactors, max(args.plans, 1), args.keep)
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
    from dnsrace.lab.local import LabError

    try:
        config = config_from(args)
        if args.random:
            return run_random(args)
    except ValueError as exc:
        raise LabError(str(exc)) from exc
    result = explore(config, stop_at_first=args.first)
    print(json.dumps(result.as_json(), indent=2) if args.json else render(result))
    if args.export:
        if not result.violations:
            raise LabError("nothing to export: no violation was found")
        first = result.violations[0]
        name = f"check-{config.protocol_text.replace(',', '-')}-{first.invariant.lower()}"
        try:
            text = scenario_yaml(config, first, name)
        except NotExportable as exc:
            raise LabError(f"cannot export: {exc}") from exc
        Path(args.export).write_text(text)
        if not args.json:
            print(f"\nexported {first.invariant}'s trace as Scenario {name} to {args.export}")
    if result.violations:
        return 1
    return 0 if result.complete else 2
