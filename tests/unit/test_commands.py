"""The lab's command lines, read without starting anything: the Corefile serves every zone from
the record store's SkyDNS keys, the API server authorizes with RBAC and signs service-account
tokens with the lab's keys, and every Python process runs under this interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

from dnsrace.lab import commands
from dnsrace.lab.local import DNS_ZONES
from dnsrace.lab.pki import Pki


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_corefile_serves_every_zone_from_the_record_store() -> None:
    text = commands.corefile(DNS_ZONES, "http://127.0.0.1:2379", 8181, 9153)
    assert text.count("{") == text.count("}") == 2
    server, plugin = text.split("{")[0].splitlines()[-1], text.split("{")[1].splitlines()[-1]
    assert server.split() == list(DNS_ZONES)
    assert plugin.split() == ["etcd", *DNS_ZONES]  # every zone read from etcd, none forwarded
    assert "path /skydns" in text
    assert "endpoint http://127.0.0.1:2379" in text
    assert "forward" not in text  # nothing in the lab reaches an outside resolver


def test_the_api_server_authorizes_with_rbac_and_the_labs_keys(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    argv = commands.kube_apiserver(Path("/bin/kube-apiserver"), "http://127.0.0.1:1", 6443, pki)
    assert flag(argv, "--authorization-mode") == "RBAC"  # not AlwaysAllow: least privilege holds
    assert flag(argv, "--service-account-key-file") == str(pki.sa_pub)
    assert flag(argv, "--service-account-signing-key-file") == str(pki.sa_key)
    assert flag(argv, "--client-ca-file") == str(pki.ca_cert)
    assert flag(argv, "--bind-address") == "127.0.0.1"


def test_the_api_servers_gc_pacing_is_the_labs_unless_the_user_set_one() -> None:
    lab = commands.kube_apiserver_env({})["GOGC"]
    assert int(lab) > 100  # fewer cycles than Go's default: the point of setting it
    assert commands.kube_apiserver_env({"GOGC": "150", "PATH": "/bin"}) == {"GOGC": "150"}


def test_etcd_is_one_member_that_listens_on_loopback_only(tmp_path: Path) -> None:
    argv = commands.etcd(
        Path("/bin/etcd"), "etcd-records", tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2"
    )
    assert flag(argv, "--initial-cluster") == "etcd-records=http://127.0.0.1:2"
    assert flag(argv, "--data-dir") == str(tmp_path)
    assert all(
        flag(argv, f).startswith("http://127.0.0.1:")
        for f in ("--listen-client-urls", "--listen-peer-urls")
    )


def test_python_processes_run_under_this_interpreter() -> None:
    assert commands.python_module("dnsrace.operators.enactor")[:3] == [
        sys.executable,
        "-m",
        "dnsrace.operators.enactor",
    ]
