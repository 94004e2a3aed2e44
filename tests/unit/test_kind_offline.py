"""The offline kind config (hack/kind-offline/kind-config-overlay.py): the users' kind-config.yaml
with the patches this machine class needs added, and the users' file itself left alone."""

from __future__ import annotations

import copy
import importlib.util
from types import ModuleType
from typing import Any

import yaml

from dnsrace.lab import versions

ROOT = versions.REPO_ROOT


def overlay_module() -> ModuleType:
    path = ROOT / "hack" / "kind-offline" / "kind-config-overlay.py"
    spec = importlib.util.spec_from_file_location("kind_config_overlay", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_offline_config_adds_the_patches_and_keeps_the_users_cluster() -> None:
    users: dict[str, Any] = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    before = copy.deepcopy(users)
    merged = overlay_module().overlay(users, "3.6.16-0", "v1.14.7")
    assert users == before  # the users' config is not modified
    assert merged["nodes"] == users["nodes"]  # one control plane, three zone workers
    assert merged["networking"] == {**users["networking"], "disableDefaultCNI": True}
    (containerd,) = merged["containerdConfigPatches"]
    assert toml_line(containerd, "restrict_oom_score_adj") == "true"
    kubelet, cluster = (yaml.safe_load(p) for p in merged["kubeadmConfigPatches"])
    assert kubelet == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert cluster["etcd"]["local"]["imageTag"] == "3.6.16-0"
    assert cluster["dns"]["imageTag"] == "v1.14.7"


def test_the_users_own_patches_are_kept_first() -> None:
    users = {"kind": "Cluster", "kubeadmConfigPatches": ["kind: InitConfiguration\n"]}
    merged = overlay_module().overlay(users, "3.6.16-0", "v1.14.7")
    assert merged["kubeadmConfigPatches"][0] == "kind: InitConfiguration\n"
    assert len(merged["kubeadmConfigPatches"]) == 3


def toml_line(text: str, key: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(key)]
    return line.split("=", 1)[1].strip()
