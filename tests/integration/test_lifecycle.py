"""`dnsrace up / status / env / down` as a user runs them, on a lab of its own: it returns when
ready, recovers from a stale state folder, refuses a taken DNS port in one line, and `down`
leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from dnsrace.lab import local, processes
from tests.conftest import dnsrace

pytestmark = pytest.mark.integration


def test_up_status_env_stale_recovery_and_down(tmp_path: Path) -> None:
    state_dir = tmp_path / "lab"
    up = dnsrace(state_dir, "up")
    assert up.returncode == 0, up.stderr
    assert "up in" in up.stdout
    state = local.LabState.load(state_dir)
    assert state is not None
    assert state.phase == "ready"
    first_pgid = state.supervisor_pid

    status = dnsrace(state_dir, "status")
    assert status.returncode == 0
    assert "kube-apiserver" in status.stdout

    env = dnsrace(state_dir, "env").stdout
    assert f"export KUBECONFIG={state_dir}/kubeconfig" in env
    assert f"export DNSRACE_DNS=127.0.0.1:{state.ports['dns']}" in env
    assert f"export DNSRACE_RECORD_STORE=http://127.0.0.1:{state.ports['etcd_records']}" in env
    # the exports work in a shell: kubectl (on the PATH it sets) reaches the API server
    shell = subprocess.run(
        ["bash", "-c", f'eval "{env}"; kubectl get --raw /readyz'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shell.stdout.strip() == "ok", shell.stderr

    # again: idempotent
    again = dnsrace(state_dir, "up")
    assert again.returncode == 0
    assert "already up" in again.stdout

    # the supervisor is killed hard: its children follow (parent-death signal); state is stale
    os.kill(first_pgid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while processes.group_members(first_pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes.group_members(first_pgid) == []
    assert dnsrace(state_dir, "status").returncode == 1

    recovered = dnsrace(state_dir, "up")
    assert recovered.returncode == 0, recovered.stderr
    assert "stale lab" in recovered.stderr
    state = local.LabState.load(state_dir)
    assert state is not None
    assert state.supervisor_pid != first_pgid

    down = dnsrace(state_dir, "down")
    assert down.returncode == 0
    assert "no process left" in down.stdout
    assert processes.group_members(state.supervisor_pid) == []
    assert dnsrace(state_dir, "env").returncode == 1


def test_taken_dns_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        res = dnsrace(tmp_path / "lab", "up", "--dns-port", str(port))
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0
    assert f"DNS port {port}" in res.stderr
    assert "taken" in res.stderr


def test_env_without_a_lab_fails_in_one_line(tmp_path: Path) -> None:
    res = dnsrace(tmp_path / "none", "env")
    assert res.returncode == 1
    assert (
        res.stderr.strip()
        == f"dnsrace: no lab is running in {tmp_path / 'none'}; start one with 'dnsrace up'"
    )
