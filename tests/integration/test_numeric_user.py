"""An operator process under a numeric user with no passwd entry, as every pod runs (the image's
`USER 65532:65532`): it must start and serve its liveness endpoint, not die in kopf's start-up
asking `getpass.getuser()` who it is."""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dnsrace.core.names import NAMESPACE
from dnsrace.lab import identities, local, processes

UID = 65532

# The interpreter lives under /root (pyenv), which 65532 cannot read, so the child imports the
# operator as root and then drops to the numeric user before running it, exactly as far as the
# operator's own code is concerned: everything from kopf.run on runs as 65532 with no name.
CHILD = textwrap.dedent(
    f"""
    import os
    import dnsrace.operators.enactor
    os.setgroups([])
    os.setgid({UID})
    os.setuid({UID})
    assert os.getuid() == {UID}
    dnsrace.operators.enactor.main()
    """
)


@pytest.fixture
def readable_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dnsrace-uid-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _portable_kubeconfig(source: Path, dest: Path) -> None:
    """The component's kubeconfig with its CA inlined: the state dir is not readable by 65532."""
    cfg = yaml.safe_load(source.read_text())
    for cluster in cfg["clusters"]:
        ca = cluster["cluster"].pop("certificate-authority", None)
        if ca:
            data = base64.b64encode(Path(ca).read_bytes()).decode()
            cluster["cluster"]["certificate-authority-data"] = data
    dest.write_text(yaml.safe_dump(cfg))
    dest.chmod(0o644)


def test_operator_starts_under_a_numeric_user_without_passwd_entry(
    local_lab: local.LabState, readable_dir: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as uid 65532")
    with pytest.raises(KeyError):
        pwd.getpwuid(UID)  # the premise: no passwd entry, as in the image
    kubeconfig = readable_dir / "kubeconfig"
    _portable_kubeconfig(identities.kubeconfig_path(local_lab.dir, "enactor-a"), kubeconfig)
    port = processes.free_port()
    env = {
        # no LOGNAME/USER/LNAME/USERNAME: getpass would take those before asking passwd
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
        "HOME": "/tmp",
        "KUBECONFIG": str(kubeconfig),
        "DNSRACE_NAMESPACE": NAMESPACE,
        "DNSRACE_RECORD_STORE": local_lab.record_store,
        # an identity with no Enactor object: it watches plans and never acts
        "DNSRACE_ENACTOR_ID": "numeric-user-probe",
        "DNSRACE_LIVENESS": f"http://127.0.0.1:{port}/healthz",
    }
    log = readable_dir / "log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            served = False
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None and not served:
                served = processes.http_ok(f"http://127.0.0.1:{port}/healthz")
                time.sleep(0.2)
            alive = proc.poll() is None
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    output = log.read_text()
    assert alive, f"the operator died under uid {UID}:\n{output[-2000:]}"
    assert served, f"no liveness answer under uid {UID} in 30 s:\n{output[-2000:]}"
    assert "getpwuid" not in output, output[-2000:]
