"""The local lab's per-component identities: each operator authenticates as its own
ServiceAccount, exactly as its pod does on kind, so every local run exercises the RBAC of
`manifests/rbac`.

`provision` applies the RBAC objects of `dnsrace.lab.permissions` (the same objects the manifests
are generated from) as the admin, asks the TokenRequest API for a token per component that calls
the API, and writes `<state>/kubeconfig-<component>`: the admin kubeconfig's server and CA, and
that token as the user."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import NAMESPACE
from dnsrace.lab import permissions

DEFAULT_TOKEN_SECONDS = 86400  # a day: longer than a lab session; `provision` again to renew


def kubeconfig_path(state_dir: Path, component: str) -> Path:
    return state_dir / f"kubeconfig-{component}"


def apply_rbac(api: client.ApiClient, namespace: str = NAMESPACE) -> None:
    """Create every ServiceAccount, Role and RoleBinding of the table, or replace it with the
    table's version when it exists (idempotent: a second lab start changes nothing)."""
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    writers: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
        "ServiceAccount": (
            core.create_namespaced_service_account,
            core.replace_namespaced_service_account,
        ),
        "Role": (rbac.create_namespaced_role, rbac.replace_namespaced_role),
        "RoleBinding": (rbac.create_namespaced_role_binding, rbac.replace_namespaced_role_binding),
    }
    for obj in permissions.rbac_objects(namespace):
        create, replace = writers[obj["kind"]]
        try:
            create(namespace, obj)
        except ApiException as exc:
            if exc.status != 409:
                raise
            replace(obj["metadata"]["name"], namespace, obj)


def request_token(
    api: client.ApiClient,
    service_account: str,
    namespace: str = NAMESPACE,
    seconds: int = DEFAULT_TOKEN_SECONDS,
) -> str:
    """A bound token for the ServiceAccount from the TokenRequest API (audience: the API
    server's own, the default when none is asked for)."""
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
    )
    answer = client.CoreV1Api(api).create_namespaced_service_account_token(
        service_account, namespace, request
    )
    return str(answer.status.token)


def token_kubeconfig(admin: dict[str, Any], user: str, token: str, namespace: str) -> str:
    """A kubeconfig with the admin kubeconfig's current cluster (server, CA) and a token user."""
    contexts = {c["name"]: c["context"] for c in admin["contexts"]}
    clusters = {c["name"]: c["cluster"] for c in admin["clusters"]}
    cluster_name = contexts[admin["current-context"]]["cluster"]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": clusters[cluster_name]}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {
                "name": user,
                "context": {"cluster": cluster_name, "user": user, "namespace": namespace},
            }
        ],
        "current-context": user,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def provision(
    admin_kubeconfig: Path,
    state_dir: Path,
    namespace: str = NAMESPACE,
    seconds: int = DEFAULT_TOKEN_SECONDS,
) -> dict[str, Path]:
    """Apply the RBAC objects and write a token kubeconfig per API-calling component.

    Returns component -> kubeconfig path. The namespace must exist. Files are written 0600."""
    api: client.ApiClient = config.new_client_from_config(config_file=str(admin_kubeconfig))
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    written: dict[str, Path] = {}
    with api:
        apply_rbac(api, namespace)
        for component in permissions.api_callers():
            token = request_token(api, component, namespace, seconds)
            user = f"system:serviceaccount:{namespace}:{component}"
            path = kubeconfig_path(state_dir, component)
            _write_private(path, token_kubeconfig(admin, user, token, namespace))
            written[component] = path
    return written


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)
