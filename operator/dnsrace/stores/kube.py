"""Kubernetes API access for the operators, CLI and scenario code: a client from $KUBECONFIG
(the local lab) or from the pod's service account (kind), and small CAS helpers."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import GROUP, NAMESPACE, VERSION

__all__ = ["GROUP", "STRICT", "VERSION"]  # re-exported: kube.GROUP, kube.VERSION at call sites

# Every write of a lab object asks the API server for strict field validation: an unknown or
# duplicate field is refused (400, naming the field, as kubectl apply says it) instead of being
# dropped without a word. tests/unit/test_strict_writes.py keeps every write call passing it.
STRICT = "Strict"

NAMESPACE_ENV = "DNSRACE_NAMESPACE"


def namespace() -> str:
    return os.environ.get(NAMESPACE_ENV, NAMESPACE)


def api_client() -> client.ApiClient:
    path = os.environ.get("KUBECONFIG")
    if path:
        api: client.ApiClient = config.new_client_from_config(config_file=path)
        return api
    config.load_incluster_config()
    return client.ApiClient()


def update_status_cas(
    api: client.ApiClient,
    plural: str,
    ns: str,
    name: str,
    mutate: Callable[[dict[str, Any]], bool],
    attempts: int = 8,
) -> bool:
    """Read-modify-write of an object's status with a resourceVersion precondition: a 409 means
    someone else wrote in between, so re-read and decide again. `mutate` edits the status in
    place and returns False when nothing needs writing. Returns whether a write landed."""
    crd = client.CustomObjectsApi(api)
    for _ in range(attempts):
        try:
            obj: Any = crd.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        status = obj.setdefault("status", {})
        if not mutate(status):
            return False
        try:
            crd.replace_namespaced_custom_object_status(
                GROUP, VERSION, ns, plural, name, obj, field_validation=STRICT
            )
            return True
        except ApiException as exc:
            if exc.status == 409:
                continue
            if exc.status == 404:
                return False
            raise
    return False


def patch_status(
    api: client.ApiClient, plural: str, ns: str, name: str, status: dict[str, Any]
) -> None:
    """A merge patch of status fields this writer alone owns (no precondition needed)."""
    try:
        client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            GROUP, VERSION, ns, plural, name, {"status": status}, field_validation=STRICT
        )
    except ApiException as exc:
        if exc.status != 404:
            raise


def post_event(
    api: client.ApiClient,
    involved: dict[str, Any],
    reason: str,
    message: str,
    component: str,
    type_: str = "Normal",
) -> None:
    """A core/v1 Event on `involved` (apiVersion, kind, name, namespace, uid), stamped with its
    eventTime to the microsecond and named after it (NAME.<microseconds, hex>), so the API lists
    an object's Events in the order they happened. `kubectl describe` sorts them by
    lastTimestamp, which has whole seconds (kopf's Events: several in one second came out in
    any order); these have none, and its sort leaves a list already in order as it is. A
    failure to post is the caller's to ignore (an Event is never the evidence)."""
    now = dt.datetime.now(dt.UTC)
    stamp = f"{round(now.timestamp() * 1_000_000):015x}"
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name'][:200]}.{stamp}",
            "namespace": involved["namespace"],
        },
        "involvedObject": involved,
        "reason": reason[:128],
        "message": message[:1000],
        "type": type_,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": reason[:128],
        "reportingComponent": component,
        "reportingInstance": component,
        "source": {"component": component},
        "count": 1,
    }
    client.CoreV1Api(api).create_namespaced_event(involved["namespace"], body)
