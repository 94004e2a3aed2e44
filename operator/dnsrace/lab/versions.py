"""Where the pinned upstream binaries live: reads hack/versions.env, the one file that pins them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
VERSIONS_FILE = REPO_ROOT / "hack" / "versions.env"
BUILD_SCRIPT = REPO_ROOT / "hack" / "build.sh"
CRDS_DIR = REPO_ROOT / "crds"
ADMISSION_DIR = REPO_ROOT / "admission"  # ValidatingAdmissionPolicies, applied after the CRDs


def read_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Parse the KEY=VALUE lines of versions.env (comments and blank lines ignored)."""
    versions: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        versions[key.strip()] = value.strip()
    return versions


def cache_dir() -> Path:
    """The build cache: $DNSRACE_CACHE, else ~/.cache/dnsrace (same rule as hack/build.sh)."""
    env = os.environ.get("DNSRACE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "dnsrace"


@dataclass(frozen=True)
class Binaries:
    """Paths of the pinned binaries in the build cache."""

    etcd: Path
    coredns: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path

    def missing(self) -> list[Path]:
        return [p for p in vars(self).values() if not p.is_file()]


def binaries() -> Binaries:
    v = read_versions()
    root = cache_dir()

    def at(name: str, version_key: str) -> Path:
        return root / f"{name}-{v[version_key]}" / name

    return Binaries(
        etcd=at("etcd", "ETCD_VERSION"),
        coredns=at("coredns", "COREDNS_VERSION"),
        kube_apiserver=at("kube-apiserver", "KUBERNETES_VERSION"),
        kube_controller_manager=at("kube-controller-manager", "KUBERNETES_VERSION"),
        kubectl=at("kubectl", "KUBERNETES_VERSION"),
    )
