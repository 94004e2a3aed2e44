"""The supervisor's forked operators (`dnsrace.lab.forking`) run their module as `python -m`
would: output in their log, their own environment (the Kubernetes client's default kubeconfig
included), nothing else inherited, their exit code after their threads, SIGTERM's default, and
death with their parent; a process with threads executes instead of forking. Each case runs in
an interpreter of its own (a pytest worker has threads, so it would not fork)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnsrace.lab import processes

MODULE = """
import gc, json, os, sys, threading, time

def late() -> None:
    time.sleep(0.3)
    with open(os.environ["PROBE_OUT"], "w") as f:
        f.write("joined")

if __name__ == "__main__":
    from kubernetes.config import kube_config
    import kubernetes.config
    import kopf
    print(json.dumps({
        "name": __name__,
        "argv0": sys.argv[0],
        "say": os.environ.get("PROBE_SAY"),
        "comm": open("/proc/self/comm").read().strip(),
        "kubeconfig": [kube_config.KUBE_CONFIG_DEFAULT_LOCATION,
                       kubernetes.config.KUBE_CONFIG_DEFAULT_LOCATION],
        "fds": sorted(int(f) for f in os.listdir("/proc/self/fd")),
        "stdin": sys.stdin.read(),
        "kopf walked by the collector": any(o is kopf.on.create for o in gc.get_objects()),
    }))
    print("on stderr", file=sys.stderr)
    threading.Thread(target=late).start()  # not a daemon: the exit waits for it
    if os.environ.get("PROBE_SLEEP"):
        time.sleep(3600)
    sys.exit(3)
"""


def harness(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run `body` in a fresh interpreter that has preloaded like the supervisor, with the probe
    module importable and five files of its own open (fds 3 to 7)."""
    (tmp_path / "probe_module.py").write_text(MODULE)
    script = (
        "import os, sys, threading, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from dnsrace.lab import forking\n"
        "os.environ['KUBECONFIG'] = '/the/supervisors/kubeconfig'\n"
        "forking.preload()\n"
        "kept = [open(__import__('os').devnull) for _ in range(5)]\n"
        f"log = Path({str(tmp_path / 'probe.log')!r})\n"
        f"env = {{'PROBE_SAY': 'hello', 'KUBECONFIG': '/its/own/kubeconfig', "
        f"'PROBE_OUT': {str(tmp_path / 'late')!r}}}\n" + body
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
def test_a_forked_module_runs_as_python_dash_m_would(tmp_path: Path, unbuffered: str) -> None:
    run = harness(
        tmp_path,
        f"env['PYTHONUNBUFFERED'] = {unbuffered!r}\n"
        "child = forking.fork_module('probe_module', log, env, 'probe-a-long-component')\n"
        "print(type(child).__name__, child.wait(30))\n",
    )
    assert run.stdout.split() == ["Forked", "3"], run.stderr
    # the non-daemon thread finished before the exit code was given
    assert (tmp_path / "late").read_text() == "joined"
    lines = (tmp_path / "probe.log").read_text().splitlines()
    # as a new interpreter: each write at once under PYTHONUNBUFFERED; otherwise stderr by the
    # line and stdout when it is flushed, at the end
    stdout, stderr = lines if unbuffered else lines[::-1]
    assert stderr == "on stderr"
    seen = json.loads(stdout)
    assert seen["name"] == "__main__"
    assert seen["argv0"] == str(tmp_path / "probe_module.py")
    assert seen["say"] == "hello"
    assert seen["comm"] == "probe-a-long-co"  # the kernel keeps 15 bytes
    assert seen["kubeconfig"] == ["/its/own/kubeconfig"] * 2  # not the supervisor's
    assert seen["fds"] == [0, 1, 2, 3]  # 3 is the listing's own: fds 3 to 7 were not inherited
    assert seen["stdin"] == ""
    # the preloaded libraries were frozen: a full collection in the child does not walk them
    assert seen["kopf walked by the collector"] is False


def test_a_forked_child_stops_on_sigterm_and_dies_with_its_parent(tmp_path: Path) -> None:
    run = harness(
        tmp_path,
        "env['PROBE_SLEEP'] = '1'\n"
        "child = forking.fork_module('probe_module', log, env, 'sleeper')\n"
        "time.sleep(1)\n"
        "child.terminate()\n"
        "print(child.wait(30))\n"
        "orphan = forking.fork_module('probe_module', log, env, 'orphan')\n"
        "time.sleep(1)\n"
        "print(orphan.pid, flush=True)\n"
        "os._exit(0)  # without stopping it\n",
    )
    code, orphan = run.stdout.split()
    assert int(code) == -15  # SIGTERM's default, not the supervisor's handler
    deadline = time.monotonic() + 10
    while processes.pid_alive(int(orphan)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes.pid_alive(int(orphan))


def test_a_process_with_threads_executes_the_module_instead(tmp_path: Path) -> None:
    run = harness(
        tmp_path,
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
        "child = forking.fork_module('probe_module', log, "
        "{**env, 'PYTHONPATH': sys.path[0], 'PYTHONUNBUFFERED': '1'}, 'probe')\n"
        "print(type(child).__name__, child.wait(30))\n",
    )
    assert run.stdout.split() == ["Popen", "3"], run.stderr
    seen = json.loads((tmp_path / "probe.log").read_text().splitlines()[0])
    assert seen["comm"].startswith("python")
    assert seen["kubeconfig"] == ["/its/own/kubeconfig"] * 2


OPERATOR_VARIABLES = (
    "KUBECONFIG",
    "DNSRACE_",  # every variable of the operators' own (Supervisor.operator)
)


def test_the_preloaded_libraries_read_only_known_variables_at_import() -> None:
    """A forked child inherits what the preloaded modules computed from the supervisor's
    environment when they were imported. Of the variables the operators are given, only
    KUBECONFIG is read at import (by the Kubernetes client), and the child reads it again."""
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "before = set(sys.modules)\n"
            "from dnsrace.lab import forking\n"
            "forking.preload()\n"
            "for name in sorted(set(sys.modules) - before):\n"
            "    print(getattr(sys.modules[name], '__file__', None) or '')\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    files = [f for f in listed if f.endswith(".py") and "/dnsrace/" not in f]
    assert len(files) > 100  # kopf, aiohttp and the Kubernetes client were loaded
    read = {name for f in files for name in variables_read_at_import(Path(f))}
    operators = {v for v in read if any(v.startswith(p) for p in OPERATOR_VARIABLES)}
    assert operators == {"KUBECONFIG"}, sorted(read)


def variables_read_at_import(path: Path) -> set[str]:
    """Names of the environment variables a module reads while it is imported: `os.environ`
    and `os.getenv` with a literal name, anywhere but inside a function's body."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        name = _variable_read(node)
        if name:
            found.add(name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    text = path.read_text(errors="replace")
    if "environ" not in text and "getenv" not in text:
        return found  # (most of them: parsing every one costs seconds)
    try:
        visit(ast.parse(text))
    except SyntaxError:
        return set()
    return found


def _variable_read(node: ast.AST) -> str | None:
    def environ(expr: ast.AST) -> bool:
        text = ast.unparse(expr)
        return text in ("os.environ", "environ", "_os.environ")

    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        called = ast.unparse(func)
        by_get = isinstance(func, ast.Attribute) and func.attr == "get" and environ(func.value)
        if by_get or called in ("os.getenv", "getenv", "_os.getenv"):
            return str(node.args[0].value)
    if (
        isinstance(node, ast.Subscript)
        and environ(node.value)
        and isinstance(node.slice, ast.Constant)
    ):
        return str(node.slice.value)
    return None


def test_the_variable_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\n"
        "A = os.environ.get('AT_IMPORT')\n"
        "if os.getenv('IN_AN_IF'):\n"
        "    B = os.environ['SUBSCRIPT']\n"
        "class C:\n"
        "    D = os.environ.get('IN_A_CLASS')\n"
        "    def later(self):\n"
        "        return os.environ.get('IN_A_METHOD')\n"
        "def later():\n"
        "    return os.getenv('IN_A_FUNCTION')\n"
    )
    assert variables_read_at_import(module) == {"AT_IMPORT", "IN_AN_IF", "SUBSCRIPT", "IN_A_CLASS"}
