"""`dnsrace check --export FILE`: a violation's trace as a Scenario that replays the same
interleaving on the live lab, one step per entry of `spec.replay`, each commented with what
the step did."""

from __future__ import annotations

from dnsrace.check.explorer import ENACTOR_NAMES, Config, Violation

# What each invariant's violation looks like in a live verdict.
EXPECT = {
    "I1": ["    emptyRecordObserved: true"],
    "I2": ["    regressions: {min: 1}"],
    "I3": ["    activePlanDeletions: {min: 1}"],
}


def scenario_yaml(config: Config, violation: Violation, name: str) -> str:
    names = ENACTOR_NAMES[: config.enactors]
    lines = [
        f"# Exported by: dnsrace check --protocol {config.protocol.value} "
        f"--enactors {config.enactors} --plans {config.plans} --keep {config.keep}",
        f"# Shortest trace to {violation.invariant} ({violation.description}):",
        f"#   {violation.detail}",
        "apiVersion: dnsrace.io/v1alpha1",
        "kind: Scenario",
        "metadata:",
        f"  name: {name}",
        "spec:",
        f"  protocol: {config.protocol.value}",
        f"  keep: {config.keep}",
        "  enactors:",
        *[f"    - name: {n}" for n in names],
        "  endpoints:",
        *[f"    - {e}" for e in config.endpoints],
        "  replay:",
    ]
    for i, step in enumerate(violation.trace, 1):
        lines.append(f"    - actor: {step.actor}")
        lines += [f"      # {i}. {text}" for text in step.text]
    lines += ["  expect:", *EXPECT[violation.invariant]]
    return "\n".join(lines) + "\n"
