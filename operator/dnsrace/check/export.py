"""`dnsrace check --export FILE`: a violation's trace as a Scenario that replays the same
interleaving on the live lab, one move (one store request) per entry of `spec.replay`, with the
plan generations the enactor's view held when the move read it, each commented with what the
move did."""

from __future__ import annotations

from dnsrace.check.explorer import ENACTOR_NAMES, Config, Violation
from dnsrace.lab import objects

# What each invariant's violation looks like in a live verdict: the history oracle finds it in
# the record store's full history (a probe samples, and can miss a regression that lasts a
# few milliseconds on a loaded machine); I3 also as the enactors' own count.
EXPECT = {
    "I1": ["    oracle:", "      I1: {min: 1}"],
    "I2": ["    oracle:", "      I2: {min: 1}"],
    "I3": ["    oracle:", "      I3: {min: 1}", "    activePlanDeletions: {min: 1}"],
}


class NotExportable(ValueError):
    """The trace needs something a Scenario cannot set up."""


def scenario_yaml(config: Config, violation: Violation, name: str) -> str:
    names = ENACTOR_NAMES[: config.enactors]
    if len(set(config.protocols)) != 1:
        raise NotExportable("a Scenario runs one protocol on every enactor: no mixed protocols")
    if config.endpoint_change:
        raise NotExportable("a Scenario's plans all have spec.endpoints: no endpoint change")
    if config.enactors > len(objects.ENACTORS):
        raise NotExportable(f"the lab has {len(objects.ENACTORS)} enactors")
    protocol = config.protocols[0].value
    lines = [
        f"# Exported by: dnsrace check --protocol {protocol} "
        f"--enactors {config.enactors} --plans {config.plans} --keep {config.keep}",
        f"# Shortest trace to {violation.invariant} ({violation.description}):",
        f"#   {violation.detail}",
        "apiVersion: dnsrace.io/v1alpha1",
        "kind: Scenario",
        "metadata:",
        f"  name: {name}",
        "spec:",
        f"  protocol: {protocol}",
        f"  keep: {config.keep}",
        "  enactors:",
        *[f"    - name: {n}" for n in names],
        "  endpoints:",
        *[f"    - {e}" for e in config.endpoints],
        "  replay:",
    ]
    for i, step in enumerate(violation.trace, 1):
        lines.append(f"    - actor: {step.actor}")
        if step.view is not None:
            lines.append(f"      view: [{', '.join(str(g) for g in step.view)}]")
        lines += [f"      # {i}. {text}" for text in step.text]
    lines += ["  expect:", *EXPECT[violation.invariant]]
    return "\n".join(lines) + "\n"
