"""The kind manifests as kustomize renders them (`kubectl kustomize manifests/`, no server): every
pod hardened, probed and bounded; every process given what the local supervisor gives it; the
fixed addresses, zones, versions and standing objects agreeing with the code that defines them
for the local lab (lab.objects, lab.permissions, versions.env, kind-config.yaml)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dnsrace.core.names import API_VERSION, NAMESPACE
from dnsrace.lab import objects, permissions, versions
from dnsrace.lab.local import DNS_ZONES
from mockaws.settings import SERVICES as MOCK_SERVICES

ROOT = versions.REPO_ROOT
PY_IMAGE = "dnsrace:dev"
FRONTEND_PORT = 8000


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    kubectl = versions.binaries().kubectl
    if not kubectl.is_file():
        pytest.skip(f"pinned kubectl not built ({kubectl}); run 'make setup'")
    out = subprocess.run(
        [str(kubectl), "kustomize", str(ROOT / "manifests")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def of_kind(rendered: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered if d["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return dict(containers[0])


def env_of(c: dict[str, Any], rendered: list[dict[str, Any]]) -> dict[str, Any]:
    """A container's environment: envFrom ConfigMaps, then env (a fieldRef as its dict)."""
    maps = of_kind(rendered, "ConfigMap")
    env: dict[str, Any] = {}
    for source in c.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]]["data"])
    for item in c.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


def test_crds_kustomization_lists_every_crd_file() -> None:
    listed = yaml.safe_load((ROOT / "crds" / "Kustomization").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))


def test_every_crd_is_rendered_from_crds_not_copied(rendered: list[dict[str, Any]]) -> None:
    crds = of_kind(rendered, "CustomResourceDefinition")
    on_disk = {yaml.safe_load(p.read_text())["metadata"]["name"] for p in ROOT.glob("crds/*.yaml")}
    assert set(crds) == on_disk
    assert not list((ROOT / "manifests").rglob("*.dnsrace.io.yaml"))


def test_every_pod_is_hardened_probed_and_bounded(rendered: list[dict[str, Any]]) -> None:
    deployments = of_kind(rendered, "Deployment")
    assert len(deployments) == 16
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        c = container(d)
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert "livenessProbe" in c, name
        assert "readinessProbe" in c, name
        for bound in ("requests", "limits"):
            assert set(c["resources"][bound]) == {"cpu", "memory"}, name
        component = pod["serviceAccountName"]
        assert component in permissions.COMPONENTS, name
        assert pod["automountServiceAccountToken"] is bool(permissions.COMPONENTS[component])
        if c["image"] == PY_IMAGE:
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            assert "/tmp" in mounts, name  # the read-only root's one writable place
            module = c["args"][0]
            assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"


def test_operators_get_what_the_local_supervisor_gives_them(
    rendered: list[dict[str, Any]],
) -> None:
    deployments = of_kind(rendered, "Deployment")
    modules = {
        "planner": "dnsrace.operators.planner",
        **{f"enactor-{i}": "dnsrace.operators.enactor" for i in objects.ENACTORS},
        "scenario-controller": "dnsrace.operators.scenario_controller",
    }
    for name, module in modules.items():
        c = container(deployments[name])
        assert c["args"] == [module]
        env = env_of(c, rendered)
        assert "KUBECONFIG" not in env  # in-cluster: the pod's ServiceAccount
        assert env["DNSRACE_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert env["DNSRACE_RECORD_STORE"] == "http://record-store:2379"
        assert env["DNSRACE_METRICS_ADDR"] == "0.0.0.0"
        liveness = re.fullmatch(r"http://0\.0\.0\.0:(\d+)(/\S+)", env["DNSRACE_LIVENESS"])
        assert liveness is not None
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports == {"liveness": int(liveness[1]), "metrics": int(env["DNSRACE_METRICS_PORT"])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"] == {"path": liveness[2], "port": "liveness"}, name
    scenario = env_of(container(deployments["scenario-controller"]), rendered)
    assert sorted(json.loads(scenario["DNSRACE_SERVICES"])) == sorted(MOCK_SERVICES)


def test_enactors_run_one_per_zone_of_the_kind_cluster(rendered: list[dict[str, Any]]) -> None:
    kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    worker_zones = [
        n["labels"]["topology.kubernetes.io/zone"] for n in kind["nodes"] if n["role"] == "worker"
    ]
    assert worker_zones == list(objects.ZONES)
    deployments = of_kind(rendered, "Deployment")
    zones = {}
    for spec in objects.enactors():
        ident = spec["metadata"]["name"]
        d = deployments[f"enactor-{ident}"]
        affinity = d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
        terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        (expr,) = terms[0]["matchExpressions"]
        assert expr["key"] == "topology.kubernetes.io/zone"
        assert expr["values"] == [spec["spec"]["zone"]]
        assert {"name": "DNSRACE_ENACTOR_ID", "value": ident} in container(d)["env"]
        assert d["spec"]["strategy"] == {"type": "Recreate"}
        zones[ident] = expr["values"][0]
    assert sorted(zones.values()) == sorted(worker_zones)


def test_standing_objects_equal_the_local_labs_with_kind_addresses(
    rendered: list[dict[str, Any]],
) -> None:
    services = of_kind(rendered, "Service")
    addresses = tuple(services[f"lb-{i}"]["spec"]["clusterIP"] for i in (1, 2, 3))
    expected = [
        *objects.load_balancers(FRONTEND_PORT, addresses),
        objects.planner(),
        *objects.enactors(),
    ]
    lab = [d for d in rendered if d["apiVersion"] == API_VERSION]
    for d in lab:
        assert d["metadata"].pop("namespace") == NAMESPACE
        d["metadata"].pop("labels")
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(lab, key=key) == sorted(expected, key=key)


def test_fixed_addresses_agree_everywhere(rendered: list[dict[str, Any]]) -> None:
    services = of_kind(rendered, "Service")
    endpoints = of_kind(rendered, "ConfigMap")["lab-endpoints"]["data"]
    dns_ip = services["lab-dns"]["spec"]["clusterIP"]
    assert endpoints["DNSRACE_DNS"] == endpoints["MOCKAWS_DNS"] == f"{dns_ip}:53"
    assert {p["port"] for p in services["lab-dns"]["spec"]["ports"] if p["name"].startswith("dns")}
    for i in (1, 2, 3):
        (port,) = services[f"lb-{i}"]["spec"]["ports"]
        assert port["port"] == FRONTEND_PORT == int(endpoints["MOCKAWS_DYNAMODB_PORT"])
    urls = json.loads(endpoints["DNSRACE_SERVICES"])
    for name, url in urls.items():
        (port,) = services[name]["spec"]["ports"]
        assert url == f"http://{name}:{port['port']}"
        assert endpoints[f"MOCKAWS_{name.upper()}_URL"] == url
    store = services["record-store"]["spec"]["ports"][0]["port"]
    assert endpoints["DNSRACE_RECORD_STORE"] == f"http://record-store:{store}"


def test_the_lab_dns_and_record_store_run_the_pinned_versions(
    rendered: list[dict[str, Any]],
) -> None:
    pins = versions.read_versions()
    deployments = of_kind(rendered, "Deployment")
    etcd = container(deployments["record-store"])["image"]
    assert etcd == f"gcr.io/etcd-development/etcd:{pins['ETCD_VERSION']}"
    coredns = container(deployments["lab-dns"])["image"]
    assert coredns == f"coredns/coredns:{pins['COREDNS_VERSION'].removeprefix('v')}"
    corefile = (ROOT / "manifests" / "dns" / "Corefile").read_text()
    server_block = re.search(r"^(\S.*)\{$", corefile, re.MULTILINE)
    assert server_block is not None
    assert [z.split(":")[0] for z in server_block[1].split()] == list(DNS_ZONES)
    assert f"etcd {' '.join(DNS_ZONES)} {{" in corefile
    assert "path /skydns" in corefile


def test_the_dockerfile_is_pinned_non_root_and_module_addressed() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, re.MULTILINE)
    assert "FROM ${PYTHON_IMAGE} AS build" in text
    assert "FROM ${PYTHON_IMAGE} AS runtime" in text
    assert re.search(r"^USER 65532:65532$", text, re.MULTILINE)
    assert 'ENTRYPOINT ["python", "-m"]' in text
    # builds with or without BuildKit, and offline: no frontend image, no BuildKit-only flags
    assert "# syntax=" not in text
    assert "--mount" not in text


@pytest.mark.parametrize("target", ["kind-up", "kind-demo", "kind-down"])
def test_kind_targets_name_everything_missing_in_one_line(tmp_path: Path, target: str) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # a docker CLI whose daemon does not answer, no kind, no kubectl (sed the Makefile uses)
    (tmp_path / "docker").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "docker").chmod(0o755)
    sed = shutil.which("sed")
    assert sed is not None
    (tmp_path / "sed").symlink_to(sed)
    res = subprocess.run(
        [make, "--no-print-directory", "-s", target],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode != 0
    assert res.stdout == ""
    kube_version = versions.read_versions()["KUBERNETES_VERSION"]
    ours = [line for line in res.stderr.splitlines() if not line.startswith("make")]
    assert ours == [
        f"{target}: missing: a running Docker daemon ('docker info' cannot reach it), "
        "kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), "
        f"kubectl (or make {target} KUBECTL=~/.cache/dnsrace/kubectl-{kube_version}/kubectl)"
    ]


def test_the_offline_overlay_is_the_same_lab_with_nothing_ever_pulled(
    rendered: list[dict[str, Any]],
) -> None:
    """hack/kind-offline/manifests renders the objects of manifests/, each container with pull
    policy Never; in manifests/ the lab's own image is never pulled either (it is only ever
    loaded with `kind load`), while etcd and CoreDNS may be pulled by users with a registry."""
    kubectl = versions.binaries().kubectl
    out = subprocess.run(
        [str(kubectl), "kustomize", str(ROOT / "hack" / "kind-offline" / "manifests")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    offline = [d for d in yaml.safe_load_all(out) if d]
    ids = sorted((d["kind"], d["metadata"]["name"]) for d in rendered)
    assert sorted((d["kind"], d["metadata"]["name"]) for d in offline) == ids
    for name, d in of_kind(offline, "Deployment").items():
        assert container(d)["imagePullPolicy"] == "Never", name
    for name, d in of_kind(rendered, "Deployment").items():
        c = container(d)
        if c["image"].startswith("dnsrace:"):
            assert c["imagePullPolicy"] == "Never", name
        else:
            assert "imagePullPolicy" not in c, name  # a pinned tag: IfNotPresent


def test_kind_up_names_a_docker_too_old_for_multi_stage_builds(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    docker = tmp_path / "docker"
    docker.write_text('#!/bin/sh\ncase "$1" in version) echo 17.03.2-ce;; esac\nexit 0\n')
    docker.chmod(0o755)
    res = subprocess.run(
        [make, "--no-print-directory", "-s", "kind-up", "KIND=/bin/true", "KUBECTL=/bin/true"],
        cwd=ROOT,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    ours = [line for line in res.stderr.splitlines() if not line.startswith("make")]
    assert ours == [
        "kind-up: missing: Docker 17.05 or newer (multi-stage builds; BuildKit on or off both work)"
    ]
