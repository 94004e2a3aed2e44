"""The command line of every process of the local lab, as pure functions of their inputs
(binaries, addresses, ports, certificate paths): what the supervisor runs, and what a test can
read without starting anything. The supervisor owns the processes; this module owns their flags.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from dnsrace.lab.pki import Pki
from dnsrace.lab.processes import LOOPBACK

SERVICE_CIDR = "10.96.0.0/16"  # ClusterIPs the API server hands out (none are routed here)
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
KCM_CONTROLLERS = "garbage-collector-controller,namespace-controller,serviceaccount-controller"
# The lab's kube-apiserver holds about 140 MB live (watch caches, OpenAPI) and allocates fast
# while a scenario writes; at Go's default GOGC=100 it collects every time the heap grows by
# that much again, and marking took a fifth of its CPU during scenarios (gctrace: 12 cycles of
# 150 to 200 CPU ms in 26 s). 400 lets the heap reach five times the live set before a cycle
# (resident memory about 770 MB instead of 400) and collects a quarter as often.
APISERVER_GOGC = "400"


def etcd(binary: Path, name: str, data: Path, client_url: str, peer_url: str) -> list[str]:
    """One single-member etcd (API storage or the record store). No fsync: a lab's data need
    survive its process (the page cache keeps it), not the machine."""
    return [
        str(binary),
        "--name",
        name,
        "--data-dir",
        str(data),
        "--listen-client-urls",
        client_url,
        "--advertise-client-urls",
        client_url,
        "--listen-peer-urls",
        peer_url,
        "--initial-advertise-peer-urls",
        peer_url,
        "--initial-cluster",
        f"{name}={peer_url}",
        "--unsafe-no-fsync",
        "--log-level",
        "warn",
        "--quota-backend-bytes",
        str(2 << 30),
    ]


def kube_apiserver(binary: Path, etcd_url: str, port: int, pki: Pki) -> list[str]:
    """Client-certificate and service-account authentication, RBAC, no endpoint reconciler."""
    return [
        str(binary),
        "--etcd-servers",
        etcd_url,
        "--bind-address",
        LOOPBACK,
        "--advertise-address",
        LOOPBACK,
        "--secure-port",
        str(port),
        "--tls-cert-file",
        str(pki.cert("apiserver")),
        "--tls-private-key-file",
        str(pki.key("apiserver")),
        "--client-ca-file",
        str(pki.ca_cert),
        "--authorization-mode",
        "RBAC",
        "--service-account-issuer",
        SA_ISSUER,
        "--service-account-key-file",
        str(pki.sa_pub),
        "--service-account-signing-key-file",
        str(pki.sa_key),
        "--service-cluster-ip-range",
        SERVICE_CIDR,
        "--endpoint-reconciler-type",
        "none",
        "--cert-dir",
        str(pki.dir),
        "--profiling=false",
        "--v",
        "1",
    ]


def kube_apiserver_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The API server's environment beyond the supervisor's: its GC pacing (a GOGC the user
    set wins)."""
    return {"GOGC": environ.get("GOGC", APISERVER_GOGC)}


def kube_controller_manager(binary: Path, kubeconfig: Path, port: int, ca: Path) -> list[str]:
    """Only the controllers the lab needs: garbage collection, namespaces, service accounts."""
    return [
        str(binary),
        "--kubeconfig",
        str(kubeconfig),
        "--authentication-kubeconfig",
        str(kubeconfig),
        "--authorization-kubeconfig",
        str(kubeconfig),
        "--bind-address",
        LOOPBACK,
        "--secure-port",
        str(port),
        "--controllers",
        KCM_CONTROLLERS,
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        "--root-ca-file",
        str(ca),
        "--v",
        "1",
    ]


def corefile(
    zones: tuple[str, ...], record_store_url: str, ready_port: int, metrics_port: int
) -> str:
    """The lab's DNS: `zones` served from the record store (SkyDNS keys under /skydns)."""
    names = " ".join(zones)
    return f"""# Written by the dnsrace supervisor: the lab's DNS, served from the record store.
{names} {{
    bind {LOOPBACK}
    etcd {names} {{
        path /skydns
        endpoint {record_store_url}
    }}
    ready {LOOPBACK}:{ready_port}
    prometheus {LOOPBACK}:{metrics_port}
    errors
}}
"""


def coredns(binary: Path, conf: Path, dns_port: int) -> list[str]:
    return [str(binary), "-conf", str(conf), "-dns.port", str(dns_port)]


def python_module(module: str, *args: str) -> list[str]:
    """A Python process of the lab (operators, mock services) under this interpreter."""
    return [sys.executable, "-m", module, *args]
