"""The CLI never says yes to a mistake: each wrong input below ends with one readable line on
stderr that names the problem, a non-zero exit, and nothing changed (no hold file, no process
signalled, no Scenario sent: the lab here is a state folder whose supervisor is this test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dnsrace.cli.main import CHECK_ENACTORS, main
from dnsrace.lab.local import ComponentState, LabState

SCENARIO = "apiVersion: dnsrace.io/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec: {}\n"


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    """A 'running' lab: its supervisor pid is this process; a component that is not held."""
    state = LabState(state_dir=str(tmp_path), supervisor_pid=os.getpid())
    state.ports = {"apiserver": 1, "dns": 1, "etcd_records": 1}
    state.components = {"coredns": ComponentState(pid=2**22 + 1, ready=True)}
    state.save()
    # a kubeconfig to a port nobody serves: any API call would fail loudly, none is made
    (tmp_path / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
    )
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "broken.yaml").write_text("kind: Scenario\nspec: [unclosed\n")
    (tmp_path / "files" / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    (tmp_path / "files" / "unnamed.yaml").write_text(SCENARIO.replace("{name: s}", "{}"))
    (tmp_path / "files" / "unreadable.yaml").mkdir()  # a folder where a file is expected
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kill", "etcd-nope"], "no component 'etcd-nope'; one of: coredns"),
        (["kill", "--hold", "etcd-nope"], "no component 'etcd-nope'; one of: coredns"),
        (["release", "enactor-z"], "no component 'enactor-z'; one of: coredns"),
        (["release", "coredns"], "coredns is not held; nothing to release"),
        (["run", "{dir}/files/missing.yaml"], "cannot read {dir}/files/missing.yaml: "),
        (["run", "{dir}/files/unreadable.yaml"], "cannot read {dir}/files/unreadable.yaml: "),
        (["run", "{dir}/files/broken.yaml"], "cannot read {dir}/files/broken.yaml: "),
        (["run", "{dir}/files/pod.yaml"], "is not a Scenario (kind: Scenario"),
        (["run", "{dir}/files/unnamed.yaml"], "metadata.name is required"),
        (["check", "--plans", "0"], "argument --plans: 0 is out of range: must be from 1 to 50"),
        (["check", "--plans", "-3"], "argument --plans: -3 is out of range"),
        (["check", "--plans", "five"], "argument --plans: 'five' is not an integer"),
        (["check", "--enactors", "0"], "argument --enactors: 0 is out of range: must be from 1"),
        (["check", "--enactors", "11"], "argument --enactors: 11 is out of range"),
        (["check", "--keep", "-1"], "argument --keep: -1 is out of range"),
        (["check", "--endpoints", "0"], "argument --endpoints: 0 is out of range"),
        (["check", "--endpoints", "5"], "argument --endpoints: 5 is out of range"),
        (["check", "--max-states", "0"], "argument --max-states: 0 is out of range"),
        (["check", "--random", "-1"], "argument --random: -1 is out of range"),
        (["check", "--seed", "-1"], "argument --seed: -1 is out of range"),
        (["check", "--endpoint-change", "9"], "--endpoint-change must be a generation from 2"),
        (["check", "--protocol", "optimistic"], "optimistic"),
        (["up", "--dns-port", "70000"], "argument --dns-port: 70000 is out of range"),
        (["up", "--timeout", "0"], "argument --timeout: 0 is out of range: must be at least 1"),
        (["nope"], "argument command: invalid choice: 'nope'"),
    ],
)
def test_a_mistake_is_one_line_a_non_zero_exit_and_nothing_changed(
    lab_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = sorted(p.relative_to(lab_dir) for p in lab_dir.rglob("*"))
    state_before = (lab_dir / "state.json").read_text()
    argv = [a.replace("{dir}", str(lab_dir)) for a in argv]
    try:
        code = main(["--state-dir", str(lab_dir), *argv])
    except SystemExit as exc:  # argparse's refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dnsrace: ")
    assert message.replace("{dir}", str(lab_dir)) in lines[0]
    assert sorted(p.relative_to(lab_dir) for p in lab_dir.rglob("*")) == before
    assert (lab_dir / "state.json").read_text() == state_before


def test_commands_that_need_a_lab_say_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["kill", "coredns"], ["release", "coredns"], ["run", "x.yaml"], ["records"]):
        code = main(["--state-dir", str(tmp_path), *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1
        assert len(err) == 1
        assert err[0].startswith(f"dnsrace: no lab is running in {tmp_path}")
        assert list(tmp_path.iterdir()) == []


def test_the_checks_enactor_bound_is_the_checkers() -> None:
    from dnsrace.check.explorer import ENACTOR_NAMES

    assert len(ENACTOR_NAMES) == CHECK_ENACTORS


def test_the_lab_commands_do_not_load_the_kubernetes_client(tmp_path: Path) -> None:
    """`up`, `down`, `env`, `status`, `records`, `kill` and `release` read the lab's state folder
    (and the record store) and never call the API, so they do not pay the Kubernetes client's
    import (about 0.4 CPU s a run); the commands that call the API import it when they run."""
    probe = (
        "import sys\n"
        "from dnsrace.cli.main import main\n"
        f"code = main(['--state-dir', {str(tmp_path)!r}, 'env'])\n"
        "print(code, 'kubernetes' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["1", "False"], run.stdout + run.stderr
