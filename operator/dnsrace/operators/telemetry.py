"""Operator telemetry: JSON logs (kopf's JSON format plus our own event lines), a Prometheus
metrics endpoint per operator process, and the one kopf settings block every operator shares."""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import sys
import time
from typing import Any, cast

import kopf
import prometheus_client
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import API_VERSION
from dnsrace.stores import kube
from dnsrace.stores.transient import describe, transient

METRICS_PORT_ENV = "DNSRACE_METRICS_PORT"
_log = logging.getLogger("dnsrace")


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout: the operators' own record of what they did."""
    record = {"ts": time.time(), "event": event, **fields}
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def post_event(
    api: client.ApiClient,
    kind: str,
    ns: str,
    name: str,
    uid: str,
    reason: str,
    message: str,
    component: str,
    type_: str = "Normal",
) -> None:
    """An Event on one of the lab's objects, posted now (kopf queues its own: an Event queued
    before a crash fault's exit was lost with the process). One lost in passing, the API server
    restarting or refusing, is only noted here: an Event is never the evidence."""
    involved = {"apiVersion": API_VERSION, "kind": kind, "name": name, "namespace": ns, "uid": uid}
    try:
        kube.post_event(api, involved, reason, message, component, type_)
    except Exception as exc:
        if not transient(exc) and not isinstance(exc, ApiException):
            raise
        emit("event-lost", object=f"{kind}/{name}", reason=reason, error=describe(exc))


def start_metrics() -> int | None:
    port = os.environ.get(METRICS_PORT_ENV)
    if not port:
        return None
    prometheus_client.start_http_server(
        int(port), addr=os.environ.get("DNSRACE_METRICS_ADDR", "127.0.0.1")
    )
    return int(port)


def operator_identity(component: str) -> str:
    """The operator's kopf identity, `<component>@<host>` (the pod's name on kind).

    Given explicitly because kopf's default asks `getpass.getuser()`, which raises KeyError in
    a container whose numeric user has no passwd entry (the image runs as 65532)."""
    return f"{component}@{socket.gethostname()}"


# A daemon that fails (the API server or the record store restarting under it) starts again
# after this many seconds, from the state in its object's status: kopf's default is 60.
DAEMON_BACKOFF = 1.0


def run_operator(component: str) -> None:
    """Run the kopf operator whose handlers the calling module registered: standalone (no
    peering), in the lab's namespace, JSON logs, kopf's liveness endpoint if one is given."""
    from dnsrace.stores import kube

    kopf.configure(log_format=kopf.LogFormat.JSON)
    # Everything imported lives as long as the operator: out of the cyclic collector's reach,
    # so its full collections stop walking kopf's and the Kubernetes client's objects again
    # (executed rather than forked, as in a pod, the kind-path tests' enactors spent 2.8 of
    # their 4.7 CPU s in collections over one make test; 0.4 s with the freeze)
    gc.freeze()
    kopf.run(
        # kopf's Identity is a NewType of str it does not export
        identity=cast(Any, operator_identity(component)),
        standalone=True,
        namespaces=[kube.namespace()],
        liveness_endpoint=os.environ.get("DNSRACE_LIVENESS"),
    )


def configure_operator(settings: kopf.OperatorSettings, identity: str) -> None:
    """Standalone (no peering: every replica is active), no cluster scanning, storage keys of its
    own, quiet posting."""
    settings.peering.standalone = True
    # No cluster-wide watch of namespaces and CRDs: the namespace is given by name and the CRDs
    # are installed before the operators start, so no Role needs cluster-scoped read access.
    settings.scanning.disabled = True
    prefix = f"{identity}.dnsrace.io"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=prefix, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{prefix}/finalizer"
    settings.posting.level = logging.WARNING  # kopf's own chatter stays in the log, not Events
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 30
    # "Handler ... succeeded" for every watch event would drown the log; keep warnings and up.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
