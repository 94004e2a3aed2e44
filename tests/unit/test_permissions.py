"""The declared permission table and the RBAC manifests made from it: the committed YAML is
exactly what `python -m dnsrace.lab.permissions --write manifests/rbac` writes, and the table itself
holds no wildcard, no secret, no pod and no RBAC power."""

from __future__ import annotations

from pathlib import Path

import yaml

from dnsrace.core.names import ENACTORS
from dnsrace.lab import identities, permissions, versions

RBAC_DIR = versions.REPO_ROOT / "manifests" / "rbac"


def test_committed_rbac_manifests_equal_the_generated_ones() -> None:
    generated = permissions.manifest_files()
    committed = {p.name: p.read_text() for p in RBAC_DIR.glob("*.yaml")}
    assert sorted(committed) == sorted(generated), f"regenerate: {permissions.GENERATED_BY}"
    for name, text in generated.items():
        assert committed[name] == text, f"{name} differs; regenerate: {permissions.GENERATED_BY}"


def test_write_replaces_stale_files(tmp_path: Path) -> None:
    (tmp_path / "role-gone.yaml").write_text("stale")
    permissions.write(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == sorted(permissions.manifest_files())


def test_the_table_grants_no_wildcard_secret_pod_or_rbac_power() -> None:
    for component, rules in permissions.COMPONENTS.items():
        for rule in rules:
            assert "*" not in (rule.group, rule.resource, *rule.verbs), component
            plural = rule.resource.split("/")[0]
            assert plural not in ("secrets", "pods", "serviceaccounts", "roles", "rolebindings")
            assert rule.group in (permissions.CORE, "dnsrace.io"), (component, rule)
            assert not {"escalate", "bind", "impersonate"} & set(rule.verbs)


def test_who_calls_the_api() -> None:
    assert permissions.api_callers() == [
        "planner",
        "enactor-a",
        "enactor-b",
        "enactor-c",
        "scenario-controller",
    ]
    for component in ("dwfm", "netmgr", "ec2", "nlb", "clients", "dynamodb-store", "lab-dns"):
        sa = permissions.service_account(component)
        assert sa["automountServiceAccountToken"] is False
        assert permissions.grants(component) == set()


def test_enactors_write_only_their_own_object() -> None:
    for ident in ENACTORS:
        own = {g for g in permissions.grants(f"enactor-{ident}") if g[1].startswith("enactors")}
        writes = {g for g in own if g[2] not in ("get", "list", "watch")}
        assert writes == {
            ("dnsrace.io", "enactors", "patch", ident),
            ("dnsrace.io", "enactors/status", "patch", ident),
        }


def test_rbac_objects_bind_each_role_to_its_own_service_account() -> None:
    objects = permissions.rbac_objects("elsewhere")
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    assert len(bindings) == len(permissions.api_callers())
    for binding in bindings:
        name = binding["metadata"]["name"]
        assert binding["roleRef"]["name"] == name
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": name, "namespace": "elsewhere"}
        ]
    assert all(o["metadata"]["namespace"] == "elsewhere" for o in objects)


def test_token_kubeconfig_keeps_the_admin_cluster_and_uses_the_token() -> None:
    admin = {
        "clusters": [{"name": "lab", "cluster": {"server": "https://127.0.0.1:1", "x": "ca"}}],
        "users": [{"name": "admin", "user": {"client-certificate": "admin.crt"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "lab", "user": "admin"}}],
        "current-context": "ctx",
    }
    doc = yaml.safe_load(identities.token_kubeconfig(admin, "sa", "TOKEN", "dnsrace"))
    assert doc["clusters"] == admin["clusters"]
    assert doc["users"] == [{"name": "sa", "user": {"token": "TOKEN"}}]
    context = doc["contexts"][0]["context"]
    assert context == {"cluster": "lab", "user": "sa", "namespace": "dnsrace"}
    assert doc["current-context"] == "sa"
