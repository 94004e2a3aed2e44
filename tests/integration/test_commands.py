"""Every flag the lab passes to a pinned upstream binary is one that binary knows (its own
--help says so): a flag renamed or dropped upstream fails here, not as a lab that never starts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dnsrace.lab import commands, versions
from dnsrace.lab.pki import Pki

pytestmark = pytest.mark.integration


def known_flags(binary: Path) -> set[str]:
    res = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=False)
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9.-]*)", res.stdout + res.stderr))


def given_flags(argv: list[str]) -> set[str]:
    return {a.split("=", 1)[0] for a in argv[1:] if a.startswith("-")}


def test_every_flag_is_known_to_its_binary(tmp_path: Path) -> None:
    bins = versions.binaries()
    url = "http://127.0.0.1:1"
    for argv in (
        commands.etcd(bins.etcd, "e", tmp_path, url, url),
        commands.kube_apiserver(bins.kube_apiserver, url, 1, Pki(tmp_path)),
        commands.kube_controller_manager(bins.kube_controller_manager, tmp_path, 1, tmp_path),
        commands.coredns(bins.coredns, tmp_path, 1),
    ):
        unknown = given_flags(argv) - known_flags(Path(argv[0]))
        assert not unknown, f"{Path(argv[0]).name} does not know {sorted(unknown)}"
