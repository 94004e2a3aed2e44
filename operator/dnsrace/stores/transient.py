"""What counts as a passing failure of the lab's control plane: the API server or the record
store unreachable, restarting or not ready yet. Callers retry these within a deadline (a wait
treats one as "not yet"); anything else is a real error and propagates.

While kube-apiserver restarts it answers 401/403 until its authenticators and RBAC caches are
filled from etcd and 429/5xx ("storage is (re)initializing"); these are retried too, always
within a deadline, and a wait that times out names the last such error, so a real RBAC mistake
still surfaces, as a timeout that says "Forbidden".
"""

from __future__ import annotations

import http.client

import urllib3
from kubernetes.client.exceptions import ApiException

from dnsrace.stores.etcd import EtcdError

STATUSES = frozenset({0, 401, 403, 408, 429, 500, 502, 503, 504})


# After kube-apiserver restarts, its admission plugins map a policy's parameter kind (a CRD)
# only once their discovery mapper refreshes (every 30 s): until then a DNSPlan create is
# refused with this (admission/dnsplans.yaml).
UNCONFIGURED_POLICY = "failed to configure policy"


def transient(exc: BaseException) -> bool:
    if isinstance(exc, ApiException):
        if exc.status == 422 and UNCONFIGURED_POLICY in str(exc.body or ""):
            return True
        return (exc.status or 0) in STATUSES
    return isinstance(
        exc,
        EtcdError
        | urllib3.exceptions.HTTPError
        | http.client.HTTPException
        | ConnectionError
        | TimeoutError,
    )


def describe(exc: BaseException) -> str:
    """One line: the exception's type and the first line of its message."""
    if isinstance(exc, ApiException):
        return f"API {exc.status} {exc.reason}".strip()
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
