"""One file pins every upstream version, and the Go wrapper modules agree with it."""

from __future__ import annotations

import subprocess

from dnsrace.lab import versions


def test_versions_file_pins_every_component() -> None:
    v = versions.read_versions()
    assert v["KUBERNETES_VERSION"].startswith("v1.")
    assert v["ETCD_VERSION"].startswith("v3.6.")
    assert v["COREDNS_VERSION"].startswith("v1.")


def test_wrappers_match_the_pins() -> None:
    v = versions.read_versions()
    hack = versions.REPO_ROOT / "hack"
    kube = (hack / "kubernetes" / "go.mod").read_text()
    assert f"k8s.io/kubernetes {v['KUBERNETES_VERSION']}" in kube
    staging = "v0." + v["KUBERNETES_VERSION"].removeprefix("v1.")
    assert f"k8s.io/apiserver => k8s.io/apiserver {staging}" in kube
    assert "=> ./" not in kube, "a local replace would not build from the proxy"
    assert (
        f"go.etcd.io/etcd/server/v3 {v['ETCD_VERSION']}" in (hack / "etcd" / "go.mod").read_text()
    )
    coredns = (hack / "coredns" / "go.mod").read_text()
    assert f"github.com/coredns/coredns {v['COREDNS_VERSION']}" in coredns
    for wrapper in ("kubernetes", "etcd", "coredns"):
        assert (hack / wrapper / "go.sum").stat().st_size > 0


def test_the_cached_binaries_are_the_pinned_versions() -> None:
    """What `versions.binaries()` points at (built by `make setup`) reports the pinned version
    when run: a stale cache or a path that ignores the pin fails here."""
    v = versions.read_versions()
    bins = versions.binaries()
    expected = [
        ([str(bins.etcd), "--version"], f"etcd Version: {v['ETCD_VERSION'].removeprefix('v')}"),
        ([str(bins.coredns), "-version"], f"CoreDNS-{v['COREDNS_VERSION'].removeprefix('v')}"),
        ([str(bins.kube_apiserver), "--version"], f"Kubernetes {v['KUBERNETES_VERSION']}"),
        (
            [str(bins.kube_controller_manager), "--version"],
            f"Kubernetes {v['KUBERNETES_VERSION']}",
        ),
        ([str(bins.kubectl), "version", "--client"], f"Client Version: {v['KUBERNETES_VERSION']}"),
    ]
    for command, first_line in expected:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
        assert out.stdout.splitlines()[0] == first_line, command
