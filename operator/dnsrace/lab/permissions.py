"""Who may do what in the lab's namespace: the one declared table of Kubernetes permissions per
component, and the RBAC objects (ServiceAccounts, Roles, RoleBindings) made from it.

Each rule names the calls it exists for (the code's CustomObjectsApi / CoreV1Api calls and what
kopf itself does for a handler). Kopf runs standalone (no peering objects) with cluster scanning
off (telemetry.configure_operator), so it needs no cluster-wide read of namespaces or CRDs: only
list and watch on what it watches, patch on what carries a daemon (its finalizer) and create on
core Events (kopf posts to `v1/events` only). The mock services, the record store and the lab
DNS call no Kubernetes API: their ServiceAccounts get no Role and mount no token.

`python -m dnsrace.lab.permissions --write manifests/rbac` writes the kind manifests from this
table; the local lab applies the same objects (dnsrace.lab.identities)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dnsrace.core.names import ENACTORS, GROUP, NAMESPACE

CORE = ""  # the core API group ("" in RBAC rules)
GENERATED_BY = "python -m dnsrace.lab.permissions --write manifests/rbac"


@dataclass(frozen=True)
class Rule:
    """Verbs on one resource (`plural` or `plural/subresource`) of one API group, optionally only
    on the objects named in `names` (RBAC resourceNames)."""

    group: str
    resource: str
    verbs: tuple[str, ...]
    names: tuple[str, ...] = ()


def _kopf_events() -> Rule:
    """kopf.event() and kopf's own warnings on objects are posted as core v1 Events (create)."""
    return Rule(CORE, "events", ("create",))


PLANNER: tuple[Rule, ...] = (
    # kopf.on.event(loadbalancers): the pool, listed and watched
    Rule(GROUP, "loadbalancers", ("list", "watch")),
    # planner_loop: kube.patch_status(loadbalancers) after each health change
    Rule(GROUP, "loadbalancers/status", ("patch",)),
    # kopf.daemon(planners): list/watch, patch for kopf's finalizer; allocation reads the
    # high-water mark with get
    Rule(GROUP, "planners", ("get", "list", "watch", "patch")),
    # patch_status(healthyTargets); allocation's high-water mark is a resourceVersion-guarded
    # replace of the status (update)
    Rule(GROUP, "planners/status", ("patch", "update")),
    # KubePlanStore.list (newest plan), create-if-absent of the next generation's plan
    Rule(GROUP, "dnsplans", ("list", "create")),
    # patch_status(dnsplans) with the target summary
    Rule(GROUP, "dnsplans/status", ("patch",)),
    _kopf_events(),
)


def enactor(ident: str) -> tuple[Rule, ...]:
    """Enactor `ident` writes only its own Enactor object; plans it reads, marks and cleans up."""
    return (
        # PlanWatch lists and watches (its view); mark_applied reads the plan (get) before
        # its CAS; clean-up deletes old plans (with a resourceVersion precondition when guarded)
        Rule(GROUP, "dnsplans", ("get", "list", "watch", "delete")),
        # mark_applied: resourceVersion-guarded replace of the plan's status (update)
        Rule(GROUP, "dnsplans/status", ("update",)),
        # kopf.daemon(enactors, when=mine): every Enactor is listed and watched ...
        Rule(GROUP, "enactors", ("list", "watch")),
        # ... but only its own carries the daemon's finalizer (patch) and its reported status
        Rule(GROUP, "enactors", ("patch",), (ident,)),
        Rule(GROUP, "enactors/status", ("patch",), (ident,)),
        _kopf_events(),
    )


SCENARIO_CONTROLLER: tuple[Rule, ...] = (
    # kopf.daemon(scenarios): list/watch, patch for the finalizer; _acquire lists the others
    Rule(GROUP, "scenarios", ("list", "watch", "patch")),
    # ScenarioRun.save: merge patches of the Scenario's status
    Rule(GROUP, "scenarios/status", ("patch",)),
    # LabControl.planner (pause, cadence) patches the spec; planner_spec, StepEngine.setup and the
    # allocator read it
    Rule(GROUP, "planners", ("get", "patch")),
    # LabControl.create_plan allocates like the Planner: CAS replace of the high-water mark
    Rule(GROUP, "planners/status", ("update",)),
    # LabControl.enactor (protocol, keep, faults, paused, stepGate); enactor_status reads
    Rule(GROUP, "enactors", ("get", "patch")),
    # LabControl.pool_targets: the pool as plan targets
    Rule(GROUP, "loadbalancers", ("list",)),
    # reset deletes every plan; produceUntil creates plans; waits list them
    Rule(GROUP, "dnsplans", ("list", "create", "delete")),
    # kopf.event on the Scenario (timeline); the verdict counts the enactors' Events (list)
    Rule(CORE, "events", ("create", "list")),
    # dnsrace.scenarios.configmaps: the probe and service samples in ConfigMaps
    # scenario-<name>-series-<k> and scenario-<name>-services-<k>, chunks of a ring (read,
    # create, CAS replace; deleted before a rerun); the names are per scenario, and create
    # cannot be limited by name
    Rule(CORE, "configmaps", ("get", "create", "update", "delete")),
)


# component (its ServiceAccount's name) -> its rules; an empty tuple: no Role, no token mounted
COMPONENTS: dict[str, tuple[Rule, ...]] = {
    "planner": PLANNER,
    **{f"enactor-{i}": enactor(i) for i in ENACTORS},
    "scenario-controller": SCENARIO_CONTROLLER,
    "record-store": (),
    "lab-dns": (),
    "dynamodb-store": (),
    "dynamodb-frontend": (),
    "dwfm": (),
    "netmgr": (),
    "ec2": (),
    "nlb": (),
    "clients": (),
}


def api_callers() -> list[str]:
    """Components that call the Kubernetes API (a Role and a token each)."""
    return [name for name, rules in COMPONENTS.items() if rules]


def grants(component: str) -> set[tuple[str, str, str, str]]:
    """The declared permission set, one (group, resource, verb, resourceName or "") per grant."""
    return {
        (rule.group, rule.resource, verb, name)
        for rule in COMPONENTS[component]
        for verb in rule.verbs
        for name in (rule.names or ("",))
    }


# objects --------------------------------------------------------------------------------------
def service_account(component: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": component, "namespace": namespace, "labels": _labels(component)},
        "automountServiceAccountToken": bool(COMPONENTS[component]),
    }


def role(component: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    rules = []
    for rule in COMPONENTS[component]:
        entry: dict[str, Any] = {
            "apiGroups": [rule.group],
            "resources": [rule.resource],
            "verbs": list(rule.verbs),
        }
        if rule.names:
            entry["resourceNames"] = list(rule.names)
        rules.append(entry)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": component, "namespace": namespace, "labels": _labels(component)},
        "rules": rules,
    }


def role_binding(component: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": component, "namespace": namespace, "labels": _labels(component)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": component},
        "subjects": [{"kind": "ServiceAccount", "name": component, "namespace": namespace}],
    }


def rbac_objects(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Every ServiceAccount, then a Role and RoleBinding per component that calls the API."""
    objects = [service_account(c, namespace) for c in COMPONENTS]
    for component in api_callers():
        objects += [role(component, namespace), role_binding(component, namespace)]
    return objects


def _labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "dnsrace"}


# the manifests ---------------------------------------------------------------------------------
def manifest_files() -> dict[str, str]:
    """File name -> YAML text of manifests/rbac (what --write writes)."""
    header = (
        "# Generated from the table in operator/dnsrace/lab/permissions.py by\n"
        f"#   {GENERATED_BY}\n"
        "# Do not edit: change the table and regenerate.\n"
    )
    files = {
        "service-accounts.yaml": header + _dump_all(service_account(c) for c in COMPONENTS),
    }
    for component in api_callers():
        files[f"role-{component}.yaml"] = header + _dump_all(
            (role(component), role_binding(component))
        )
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    files["kustomization.yaml"] = header + yaml.safe_dump(kustomization, sort_keys=False)
    return files


def _dump_all(objects: Iterable[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(list(objects), sort_keys=False, explicit_start=True)


def write(directory: Path) -> list[Path]:
    """Write manifest_files() into `directory`, removing YAML files it no longer generates."""
    directory.mkdir(parents=True, exist_ok=True)
    files = manifest_files()
    for stale in directory.glob("*.yaml"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dnsrace.lab.permissions",
        description="Print the lab's RBAC objects, or write them as the kind manifests.",
    )
    parser.add_argument("--write", type=Path, metavar="DIR", help="write the YAML files into DIR")
    args = parser.parse_args(argv)
    if args.write is None:
        sys.stdout.write(_dump_all(rbac_objects()))
        return 0
    for path in write(args.write):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
