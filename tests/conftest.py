"""Shared fixtures: one real local control plane per test session (started with the same code
`dnsrace up` uses), a fresh namespace and a clean record-store prefix per test."""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.records import skydns_dir
from dnsrace.lab import identities, local, objects, processes, versions
from dnsrace.scenarios.control import LabControl, wait_for
from dnsrace.stores.records import EtcdRecordStore

pytest_plugins = ("tests.schedule",)  # longest tests first (tests/schedule.py)


def pytest_collection_finish() -> None:
    """What is imported and collected by now lives for the whole session: out of the cyclic
    collector's reach (`gc.freeze`), so a full collection in a worker no longer walks the
    Kubernetes client, kopf and every collected test again."""
    gc.freeze()


@pytest.fixture(scope="session")
def local_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.LabState]:
    """The worker's lab, started quiet (`quiet_lab`): `dnsrace up` leaves the planner making a
    plan every 5 s, which a worker's lab would churn through the tests that do not use it."""
    state_dir = tmp_path_factory.mktemp("lab")
    state = local.up(state_dir)
    try:
        api = config.new_client_from_config(config_file=str(state.kubeconfig))
        control = LabControl(api, state.record_store)
        quiet_lab(state, control)
        control.close()
        yield state
    finally:
        local.down(state_dir)
        assert processes.group_members(state.supervisor_pid) == [], "lab processes left behind"


@pytest.fixture(scope="session")
def api(local_lab: local.LabState) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(local_lab.kubeconfig))


@pytest.fixture(scope="session")
def planner_api(local_lab: local.LabState) -> client.ApiClient:
    """The planner's own identity (only it and the scenario controller may create DNSPlans)."""
    path = identities.kubeconfig_path(local_lab.dir, "planner")
    return config.new_client_from_config(config_file=str(path))


@pytest.fixture
def kubectl(local_lab: local.LabState) -> Kubectl:
    return Kubectl(local_lab)


def dnsrace(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The dnsrace CLI as a user runs it, against the lab in `state_dir`."""
    return subprocess.run(
        [sys.executable, "-m", "dnsrace.cli", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=400,
    )


class Kubectl:
    """The pinned kubectl against the test lab (what users type, in tests)."""

    def __init__(self, state: local.LabState) -> None:
        self.argv = [str(versions.binaries().kubectl), "--kubeconfig", str(state.kubeconfig)]

    def __call__(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [*self.argv, *args], input=stdin, capture_output=True, text=True, check=False
        )
        if check and res.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {res.stderr.strip()}")
        return res


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"t-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def dns_suffix(local_lab: local.LabState) -> Iterator[str]:
    """A DNS suffix no other test uses; its record-store keys are removed afterwards."""
    suffix = f"t{secrets.token_hex(4)}.test.amazonaws.com"
    yield suffix
    store = EtcdRecordStore(local_lab.record_store)
    for name in store.names():
        if name.endswith(suffix):
            store.delete(name)
    store.etcd.delete_prefix(skydns_dir(suffix).encode())
    store.etcd.close()


def pytest_report_header() -> list[str]:
    return [
        f"dnsrace binaries: {versions.cache_dir()} "
        f"(DNSRACE_CACHE={os.environ.get('DNSRACE_CACHE', '')})"
    ]


@pytest.fixture
def crd(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def set_health(state: local.LabState, address: str, healthy: bool) -> None:
    """Mark a DynamoDB front-end healthy or not (its /admin/health endpoint)."""
    import json
    import urllib.request

    req = urllib.request.Request(
        f"http://{address}:{state.ports['frontend']}/admin/health",
        data=json.dumps({"healthy": healthy}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


@pytest.fixture
def control(
    local_lab: local.LabState, api: client.ApiClient, planner_api: client.ApiClient
) -> Iterator[LabControl]:
    """The lab's control for one test (plans created as the planner), closed afterwards; the
    one `lab_defaults` sets the lab up and quiets it with."""
    lab = LabControl(api, local_lab.record_store, allocator=planner_api)
    yield lab
    lab.close()


@pytest.fixture
def lab_defaults(local_lab: local.LabState, control: LabControl) -> Iterator[local.LabState]:
    """The shared lab in its standing configuration for the test: every front-end healthy,
    planner running at a 1 s cadence, enactors unguarded, keep 3, no faults, every endpoint
    served. Afterwards the lab is left quiet (planner and enactors paused, no plan, no record):
    a worker's lab does not churn plans while the worker runs tests that do not use it."""
    quiet_lab(local_lab, control)
    for ident in objects.ENACTORS:
        control.enactor(ident, paused=False)
    control.planner(cadenceSeconds=1, paused=False)
    wait_for(lambda: control.newest_plan(), 20, "the planner's first plan after the reset")
    wait_for(
        lambda: all(
            o.record is not None and not o.empty
            for o in control.records.read_all(DEFAULT_ENDPOINTS).values()
        ),
        20,
        "every endpoint served after the reset",
    )
    yield local_lab
    quiet_lab(local_lab, control)


@pytest.fixture
def lab_quiet(local_lab: local.LabState, control: LabControl) -> Iterator[local.LabState]:
    """The shared lab quiet before and after the test (`quiet_lab`), for a test that runs a
    scenario or needs no planner: a run's set-up resets the lab itself, so standing the lab up
    first (`lab_defaults`: the planner's first plan, every endpoint served) is work the reset
    throws away, about 0.5 CPU s and 1.5 s a test, and a lab left churning at a 1 s cadence
    costs about 0.3 cores for as long as a test runs. `tests/e2e/test_race.py` keeps
    `lab_defaults`: a scenario applied to a churning lab, as after `dnsrace up`, is covered
    there."""
    quiet_lab(local_lab, control)
    yield local_lab
    quiet_lab(local_lab, control)


def quiet_lab(state: local.LabState, control: LabControl) -> None:
    """Planner and enactors paused, no plan, no record, every front-end healthy, no process
    held and every one ready: no test inherits another's aftermath (a control-plane test that
    failed half-way leaves its lab coming back, not the next test failing with it), and an
    idle lab does no work."""
    for component in state.components:
        local.release(state.dir, component, missing_ok=True)

    def every_process_ready() -> bool:
        now = local.LabState.load(state.dir)
        return bool(now and all(c.ready for c in now.components.values()))

    wait_for(every_process_ready, 120, "every lab process ready")
    for address in objects.FRONTEND_ADDRESSES:
        set_health(state, address, True)
    for ident in objects.ENACTORS:
        control.enactor(ident, stepGate=None)
    control.reset("unguarded", 3)
