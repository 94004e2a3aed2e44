"""The suite CPU sampler's bookkeeping: which component a command line is, and CPU per
component counted from the command's start (a process already running counts only what it
used since; one started later counts from zero; a reused pid is another process)."""

from __future__ import annotations

from bench.suitecpu import NO_COMMAND_LINE, component_of, tally


def test_component_of_names_what_runs() -> None:
    py = "/work/main/.venv/bin/python3.11"
    assert component_of([py, "-m", "dnsrace.operators.enactor"]) == "enactor"
    assert component_of([py, "-m", "mockaws.frontend", "--name", "lb-1"]) == "mockaws.frontend"
    assert component_of([py, "-c", "import sys;exec(eval(sys.stdin.readline()))"]).startswith(
        "pytest"
    )
    etcd = ["/c/etcd-v3.6.16/etcd", "--name", "etcd-records", "--data-dir", "/x"]
    assert component_of(etcd) == "etcd-records"
    assert component_of(["/c/kube-apiserver", "--v", "1"]) == "kube-apiserver"
    assert component_of([]) == component_of([""]) == NO_COMMAND_LINE
    # the supervisor's forked operators: its command line, their own name
    supervisor = [py, "-m", "dnsrace.lab.supervisor", "--state-dir", "/s"]
    assert component_of(supervisor, "enactor-a") == "enactor-a"
    assert component_of(supervisor, "python3.11") == "dnsrace.lab.supervisor"
    assert component_of(["/c/kube-controller-manager"], "kube-controller") == (
        "kube-controller-manager"
    )


def test_tally_counts_from_the_start_and_keeps_processes_apart() -> None:
    before = [((10, 1), "kube-apiserver", 5.0)]
    samples = [
        ((10, 1), "kube-apiserver", 6.0),
        ((10, 1), "kube-apiserver", 7.5),  # 2.5 s since the start, not 7.5
        ((20, 3), "kubectl", 0.25),  # started during the run: all of it
        ((20, 9), "kubectl", 0.5),  # pid 20 again, another process
        ((30, 4), "enactor", 1.0),
        ((30, 4), NO_COMMAND_LINE, 2.0),  # exited, not yet reaped: still the enactor's
        ((40, 5), NO_COMMAND_LINE, 0.5),  # a kernel thread
    ]
    spent = tally(samples, before)
    assert spent == {
        "kube-apiserver": 2.5,
        "kubectl": 0.75,
        "enactor": 2.0,
        NO_COMMAND_LINE: 0.5,
    }
