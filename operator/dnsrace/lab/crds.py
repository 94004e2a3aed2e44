"""The lab's CRDs (crds/*.yaml), rendered from the typed definitions in
`dnsrace.core.resources`: names, printer columns and the schema, descriptions included, so
`kubectl explain` answers every field from the text written once beside the field's type.
tests/unit/test_crds.py keeps the committed files equal to this rendering.

`python -m dnsrace.lab.crds` prints what differs; `--write` writes crds/."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import yaml

from dnsrace.core import schema
from dnsrace.core.names import GROUP, VERSION
from dnsrace.core.resources.dnsplan import DNSPlan
from dnsrace.core.resources.enactor import Enactor
from dnsrace.core.resources.loadbalancer import LoadBalancer
from dnsrace.core.resources.planner import Planner
from dnsrace.core.resources.scenario import Scenario
from dnsrace.lab.versions import CRDS_DIR


@dataclass(frozen=True)
class Definition:
    """One CRD: its object type, names, printer columns and the comment atop its file."""

    root: type
    plural: str
    comment: str
    columns: tuple[tuple[str, str, str], ...]  # name, type, jsonPath
    short_names: tuple[str, ...] = ()
    wide: tuple[tuple[str, str, str], ...] = ()  # columns shown only with -o wide

    @property
    def kind(self) -> str:
        return self.root.__name__

    @property
    def path(self) -> str:
        return str(CRDS_DIR / f"{self.plural}.{GROUP}.yaml")


AGE = ("Age", "date", ".metadata.creationTimestamp")

DEFINITIONS = (
    Definition(
        Scenario,
        "scenarios",
        "Scenario: one run of the lab, declared like a Chaos Mesh experiment. The scenario "
        "controller resets plans and records, configures the planner and enactors, drives the "
        "run (a choreography of steps that wait on observed states, or an exact replay of an "
        "interleaving), probes DNS all along, records a timeline, and writes a verdict checked "
        "against spec.expect.",
        (
            ("Protocol", "string", ".spec.protocol"),
            ("Phase", "string", ".status.phase"),
            ("Step", "string", ".status.step"),
            ("Result", "string", ".status.result"),
            ("Empty-Seconds", "number", ".status.verdict.emptyRecordSeconds"),
            AGE,
        ),
        ("sc",),
        wide=(("Verdict", "string", ".status.verdict.summary"),),
    ),
    Definition(
        Enactor,
        "enactors",
        "Enactor: the settings and live state of one Enactor operator replica (a, b, c; one per "
        "zone). The operator whose identity matches the object's name runs its loop from this "
        "object's spec; the scenario controller changes protocol, keep and faults here. Status "
        "shows what it does.",
        (
            ("Zone", "string", ".spec.zone"),
            ("Protocol", "string", ".spec.protocol"),
            ("Phase", "string", ".status.phase"),
            ("Applied", "integer", ".status.lastAppliedGeneration"),
            ("Carrying", "integer", ".status.carryingGeneration"),
            AGE,
        ),
    ),
    Definition(
        Planner,
        "planners",
        "Planner: the settings of the DNS Planner for one region (which endpoints its plans "
        "cover, how often it plans, how often it checks the pool's health); status shows the "
        "last generation it allocated and the healthy targets.",
        (
            ("Region", "string", ".spec.region"),
            ("Cadence", "number", ".spec.cadenceSeconds"),
            ("Generation", "integer", ".status.lastGeneration"),
            ("Healthy", "integer", ".status.healthyTargets"),
            ("Phase", "string", ".status.phase"),
            AGE,
        ),
    ),
    Definition(
        DNSPlan,
        "dnsplans",
        "DNSPlan: one generation of the regional DNS plan (which load balancers, with which "
        "weights, for which endpoint names). The Planner creates them with ever-growing "
        "generations; the Enactors apply them to the record store CoreDNS serves. A plan is an "
        "immutable snapshot.",
        (
            ("Generation", "integer", ".spec.generation"),
            ("Targets", "string", ".status.targets"),
            ("Applied-By", "string", ".status.appliedBy"),
            ("Ready", "string", '.status.conditions[?(@.type=="Applied")].status'),
            AGE,
        ),
        ("plan", "plans"),
    ),
    Definition(
        LoadBalancer,
        "loadbalancers",
        "LoadBalancer: one member of the region's load-balancer pool (a DynamoDB front-end). "
        "The Planner health-checks each and plans only the healthy ones.",
        (
            ("Address", "string", ".spec.address"),
            ("Zone", "string", ".spec.zone"),
            ("Weight", "integer", ".spec.weight"),
            ("Healthy", "boolean", ".status.healthy"),
            AGE,
        ),
        ("lb",),
    ),
)


def crd(d: Definition) -> dict[str, Any]:
    """The CustomResourceDefinition of `d`."""
    columns: list[dict[str, Any]] = [{"name": n, "type": t, "jsonPath": p} for n, t, p in d.columns]
    columns += [{"name": n, "type": t, "jsonPath": p, "priority": 1} for n, t, p in d.wide]
    names: dict[str, Any] = {
        "kind": d.kind,
        "listKind": f"{d.kind}List",
        "plural": d.plural,
        "singular": d.kind.lower(),
    }
    if d.short_names:
        names["shortNames"] = list(d.short_names)
    names["categories"] = ["dnsrace"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{d.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": names,
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": schema.openapi(d.root)},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(d: Definition) -> str:
    """The CRD file's text: its comment, then the YAML."""
    comment = "".join(
        f"# {line}\n" for line in _wrap(d.comment + " Generated by python -m dnsrace.lab.crds.")
    )
    body = yaml.dump(crd(d), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return comment + body


def _wrap(text: str, width: int = 98) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def main() -> int:
    stale = []
    for d in DEFINITIONS:
        text = render(d)
        with open(d.path, encoding="utf-8") as f:
            same = f.read() == text
        if not same:
            stale.append(d.path)
            if sys.argv[1:] == ["--write"]:
                with open(d.path, "w", encoding="utf-8") as f:
                    f.write(text)
    verb = "wrote" if sys.argv[1:] == ["--write"] else "differs"
    for path in stale:
        print(f"{verb}: {path}")
    return 0 if not stale or sys.argv[1:] == ["--write"] else 1


if __name__ == "__main__":
    sys.exit(main())
