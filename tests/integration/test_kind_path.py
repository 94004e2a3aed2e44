"""The kind path, checked against the real local API server on every make test (tests/kind
runs it on a kind cluster): the manifests pass a server-side dry-run under Pod Security
"restricted"; the lab CoreDNS's Corefile serves the record store; each mock-service pod's
command starts and passes its probe; every component's ServiceAccount has the verbs of
dnsrace.lab.permissions and nothing more (SubjectAccessReview, `kubectl auth can-i`); and the
operators, running under their own ServiceAccount tokens (dnsrace.lab.identities), do their
work and a race Scenario to its verdict without a single refused request."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from dnsrace.core.names import NAMESPACE
from dnsrace.core.plans import newest
from dnsrace.core.records import EndpointRecord, Target
from dnsrace.lab import identities, local, objects, permissions, processes, versions
from dnsrace.scenarios.control import wait_for
from dnsrace.scenarios.probe import resolve
from dnsrace.stores.plans import KubePlanStore
from dnsrace.stores.records import EtcdRecordStore
from mockaws.settings import SERVICES as MOCK_SERVICES
from tests.conftest import Kubectl

pytestmark = pytest.mark.integration
NS = NAMESPACE
MANIFESTS = versions.REPO_ROOT / "manifests"
SCENARIOS = versions.REPO_ROOT / "scenarios"
OPERATORS = {
    "planner": "dnsrace.operators.planner",
    "enactor-a": "dnsrace.operators.enactor",
    "enactor-b": "dnsrace.operators.enactor",
    "enactor-c": "dnsrace.operators.enactor",
    "scenario-controller": "dnsrace.operators.scenario_controller",
}
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
# What the checks ask about: every lab kind and its status, and the core, RBAC and workload
# resources a compromised component would want.
UNIVERSE = (
    *(
        ("dnsrace.io", f"{plural}{sub}")
        for plural in ("dnsplans", "enactors", "loadbalancers", "planners", "scenarios")
        for sub in ("", "/status")
    ),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "pods"),
    ("", "pods/exec"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "serviceaccounts/token"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("apps", "deployments"),
)


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    """What `kubectl apply -k manifests/` would send (kustomize, as kubectl renders it)."""
    out = subprocess.run(
        [str(versions.binaries().kubectl), "kustomize", str(MANIFESTS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def sa_user(component: str) -> str:
    return f"system:serviceaccount:{NS}:{component}"


@pytest.fixture(scope="module")
def identities_applied(local_lab: local.LabState, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The RBAC objects applied and a token kubeconfig per API-calling component."""
    return identities.provision(local_lab.kubeconfig, tmp_path_factory.mktemp("identities"))


def can(
    api: client.ApiClient,
    component: str,
    verb: str,
    group: str,
    resource: str,
    name: str = "",
    namespace: str | None = NS,
) -> bool:
    """The API server's own answer (SubjectAccessReview) for the component's ServiceAccount,
    sent and read as plain JSON (the suite asks about a thousand of them)."""
    plural, _, sub = resource.partition("/")
    attributes = {"verb": verb, "group": group, "resource": plural}
    optional = (("namespace", namespace), ("subresource", sub), ("name", name))
    attributes |= {k: v for k, v in optional if v}  # left out when unset, as the models did
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": sa_user(component),
            "groups": [
                "system:serviceaccounts",
                f"system:serviceaccounts:{NS}",
                "system:authenticated",
            ],
            "resourceAttributes": attributes,
        },
    }
    answer = api.call_api(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        "POST",
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        body=review,
        auth_settings=["BearerToken"],
        _preload_content=False,
    )
    return bool(json.loads(answer.data)["status"].get("allowed"))


# (a) the manifests ------------------------------------------------------------------------------
def test_manifests_pass_a_server_side_dry_run_under_restricted_pod_security(
    kubectl: Kubectl, rendered: list[dict[str, Any]]
) -> None:
    # the namespace as manifests/namespace.yaml labels it: Pod Security "restricted" warns about
    # (and would refuse pods of) any workload that is not hardened
    ns_doc = yaml.safe_load((MANIFESTS / "namespace.yaml").read_text())
    labels = [f"{k}={v}" for k, v in ns_doc["metadata"]["labels"].items()]
    kubectl("label", "namespace", NS, "--overwrite", *labels)
    try:
        res = kubectl("apply", "--dry-run=server", "-k", str(MANIFESTS))
    finally:
        kubectl("label", "namespace", NS, *(f"{k}-" for k in ns_doc["metadata"]["labels"]))
    done = [line for line in res.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(done) == len(rendered), res.stdout
    assert "PodSecurity" not in res.stderr, res.stderr
    for kind in ("Deployment", "Service", "Role", "RoleBinding", "ServiceAccount", "Enactor"):
        assert any(d["kind"] == kind for d in rendered)
    # the fixed ClusterIPs are valid in the lab's service range (kind's too: kind-config.yaml)
    ips = [
        d["spec"]["clusterIP"]
        for d in rendered
        if d["kind"] == "Service" and "clusterIP" in d["spec"]
    ]
    assert sorted(ips) == ["10.96.0.11", "10.96.0.12", "10.96.0.13", "10.96.0.53"]


def test_the_lab_corefile_serves_the_record_store(
    local_lab: local.LabState, dns_suffix: str, tmp_path: Path
) -> None:
    """manifests/dns/Corefile run by the pinned CoreDNS, with only the addresses of this machine
    put in (record store, ports): a record written to the store is answered, per query."""
    dns_port = processes.free_port((socket.SOCK_DGRAM, socket.SOCK_STREAM))
    health, ready, metrics = (processes.free_port() for _ in range(3))
    text = (MANIFESTS / "dns" / "Corefile").read_text()
    for kind_value, local_value in (
        (":1053", f":{dns_port}"),
        ("http://record-store:2379", local_lab.record_store),
        ("health :8080", f"health 127.0.0.1:{health}"),
        ("ready :8181", f"ready 127.0.0.1:{ready}"),
        ("prometheus :9153", f"prometheus 127.0.0.1:{metrics}"),
    ):
        assert kind_value in text
        text = text.replace(kind_value, local_value)
    corefile = tmp_path / "Corefile"
    corefile.write_text(text)
    log = tmp_path / "coredns.log"
    proc = processes.spawn([str(versions.binaries().coredns), "-conf", str(corefile)], log)
    try:
        processes.wait_until(
            lambda: processes.http_ok(f"http://127.0.0.1:{ready}/ready"), proc, 30, "coredns", log
        )
        name = f"dynamodb.{dns_suffix}"
        server = f"127.0.0.1:{dns_port}"
        assert resolve(name, server).rcode == "NXDOMAIN"
        store = EtcdRecordStore(local_lab.record_store)
        store.write(EndpointRecord(name, 1, "p1", "a", (Target("10.96.0.11"),)), None)
        answer = resolve(name, server)
        assert answer.rcode == "NOERROR"
        assert answer.addresses == ("10.96.0.11",)
        assert processes.http_ok(f"http://127.0.0.1:{health}/health")
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_pod_commands_start_and_answer_their_probes(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Each mock-service Deployment's args and probe, run here: the same module and flags, with
    only the addresses made local (loopback, a free port; peers at a closed loopback port)."""
    maps = {d["metadata"]["name"]: d["data"] for d in rendered if d["kind"] == "ConfigMap"}
    seen: set[str] = set()
    for d in rendered:
        c = d["spec"]["template"]["spec"]["containers"][0] if d["kind"] == "Deployment" else {}
        module = (c.get("args") or [""])[0]
        if not module.startswith("mockaws.") or module in seen:
            continue
        seen.add(module)
        (container_port,) = (p["containerPort"] for p in c["ports"])
        port = processes.free_port()
        args = [_local(a, container_port, port) for a in c["args"]]
        env = {
            k: _local(v, container_port, port)
            for source in c.get("envFrom", [])
            for k, v in maps[source["configMapRef"]["name"]].items()
        }
        _start_and_probe(args, env, port, c["readinessProbe"], tmp_path / f"{module}.log")
    assert seen == {f"mockaws.{m}" for m in ("store", "frontend", *MOCK_SERVICES)}


def _start_and_probe(
    args: list[str], env: dict[str, str], port: int, probe: dict[str, Any], log: Path
) -> None:
    """`python -m ARGS` (the image's entrypoint) until its readiness probe passes, then stop."""
    proc = processes.spawn([sys.executable, "-m", *args], log, env)

    def ready() -> bool:
        if "httpGet" in probe:
            return processes.http_ok(f"http://127.0.0.1:{port}{probe['httpGet']['path']}")
        return not processes.port_is_free(port)  # tcpSocket: something listens

    try:
        processes.wait_until(ready, proc, 60, args[0], log)
    finally:
        proc.terminate()
        proc.wait(10)


def _local(value: str, container_port: int, port: int) -> str:
    """A pod's address made local: its own listening address and port, and every peer (the
    lab DNS, Services) a closed loopback port, so nothing leaves this machine."""
    if value == "0.0.0.0":
        return "127.0.0.1"
    if value == str(container_port):
        return str(port)
    value = value.replace("10.96.0.53:53", "127.0.0.1:1")
    return re.sub(r"http://[a-z0-9-]+:\d+", "http://127.0.0.1:1", value)


# (b) least privilege --------------------------------------------------------------------------
def test_tokens_from_the_token_request_api_authenticate_as_the_service_accounts(
    identities_applied: dict[str, Path], kubectl: Kubectl
) -> None:
    assert sorted(identities_applied) == sorted(permissions.api_callers())
    for component, path in identities_applied.items():
        assert path.stat().st_mode & 0o777 == 0o600
        who = kubectl("--kubeconfig", str(path), "auth", "whoami", "-o", "json")
        assert json.loads(who.stdout)["status"]["userInfo"]["username"] == sa_user(component)
    planner = str(identities_applied["planner"])
    assert kubectl("--kubeconfig", planner, "get", "planners", "-n", NS).returncode == 0
    refused = kubectl("--kubeconfig", planner, "get", "secrets", "-n", NS, check=False)
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr


def test_each_service_account_has_its_declared_verbs_and_nothing_more(
    identities_applied: dict[str, Path], api: client.ApiClient
) -> None:
    """Every (resource, verb) of the universe, per component, answered by the API server: allowed
    exactly when the table of dnsrace.lab.permissions grants it (resourceNames included)."""
    wrong = []
    for component in permissions.COMPONENTS:
        granted = permissions.grants(component)
        for group, resource in UNIVERSE:
            names = ("", "a", "b") if resource.startswith("enactors") else ("",)
            for verb in VERBS:
                for name in names:
                    expected = any(
                        (g, r, v) == (group, resource, verb) and n in ("", name)
                        for g, r, v, n in granted
                    )
                    if can(api, component, verb, group, resource, name) != expected:
                        wrong.append(f"{component}: {verb} {resource}.{group} {name!r}")
    assert not wrong, "allowed != declared for:\n" + "\n".join(wrong)


def test_the_forbidden_list_is_denied_to_every_component(
    identities_applied: dict[str, Path], api: client.ApiClient
) -> None:
    forbidden = [
        ("get", "", "secrets", "", NS),
        ("list", "", "secrets", "", NS),
        ("delete", "", "pods", "", NS),
        ("create", "", "pods/exec", "", NS),
        ("*", "*", "*", "", NS),
        ("*", "*", "*", "", None),
        ("delete", "apiextensions.k8s.io", "customresourcedefinitions", "", None),
        ("create", "dnsrace.io", "dnsplans", "", "default"),
        ("list", "dnsrace.io", "dnsplans", "", "kube-system"),
        ("create", "", "serviceaccounts/token", "planner", NS),
        ("create", "rbac.authorization.k8s.io", "rolebindings", "", NS),
        ("escalate", "rbac.authorization.k8s.io", "roles", "", NS),
        ("impersonate", "", "serviceaccounts", "", NS),
        ("list", "", "nodes", "", None),
    ]
    allowed = [
        f"{component}: {verb} {resource}.{group} {name} in {ns}"
        for component in permissions.COMPONENTS
        for verb, group, resource, name, ns in forbidden
        if can(api, component, verb, group, resource, name, ns)
    ]
    assert not allowed, allowed
    # the mock services, the record store and the lab DNS: nothing of the lab at all
    for component, rules in permissions.COMPONENTS.items():
        if not rules:
            assert not any(
                can(api, component, verb, "dnsrace.io", plural)
                for plural in ("dnsplans", "enactors", "scenarios")
                for verb in ("get", "list", "create", "patch")
            ), component
    # one enactor cannot touch another's object
    assert can(api, "enactor-a", "patch", "dnsrace.io", "enactors/status", "a")
    assert not can(api, "enactor-a", "patch", "dnsrace.io", "enactors/status", "b")
    assert not can(api, "enactor-a", "patch", "dnsrace.io", "enactors", "c")


def test_kubectl_auth_can_i_says_the_same(
    identities_applied: dict[str, Path], kubectl: Kubectl
) -> None:
    """`kubectl auth can-i` as the admin impersonating each ServiceAccount: the headline denials,
    and `--list` shows exactly the declared set (beyond what every authenticated user has)."""
    for component in permissions.COMPONENTS:
        as_sa = (f"--as={sa_user(component)}", "-n", NS)
        for args in (("get", "secrets"), ("delete", "pods"), ("*", "*")):
            res = kubectl("auth", "can-i", *args, *as_sa, check=False)
            assert res.stdout.strip() == "no", (component, args, res.stdout, res.stderr)
        listed = kubectl("auth", "can-i", "--list", *as_sa).stdout
        assert can_i_list_grants(listed) == permissions.grants(component), component
    as_b = f"--as={sa_user('enactor-b')}"
    res = kubectl("auth", "can-i", "update", "dnsplans", "--subresource=status", as_b, "-n", NS)
    assert res.stdout.strip() == "yes"


_BASELINE_GROUPS = {"authentication.k8s.io", "authorization.k8s.io"}  # self-reviews, for everyone


def can_i_list_grants(table: str) -> set[tuple[str, str, str, str]]:
    """Parse `kubectl auth can-i --list` into (group, resource, verb, name) grants, leaving out
    non-resource URLs and the self-review rules every authenticated user has."""
    out: set[tuple[str, str, str, str]] = set()
    for line in table.splitlines()[1:]:
        cols = re.split(r"\s{2,}", line.strip())
        if line.startswith(" ") or len(cols) != 4:
            continue  # a non-resource URL row
        resource_group, _urls, names, verbs = cols
        plural_group, _, sub = resource_group.partition("/")
        plural, _, group = plural_group.partition(".")
        if group in _BASELINE_GROUPS:
            continue
        resource = f"{plural}/{sub}" if sub else plural
        for verb in verbs.strip("[]").split():
            for name in names.strip("[]").split() or [""]:
                out.add((group, resource, verb, name))
    return out


# the operators under their own identities -----------------------------------------------------
@pytest.fixture
def operators_as_service_accounts(
    local_lab: local.LabState, identities_applied: dict[str, Path], tmp_path: Path
) -> Iterator[dict[str, Path]]:
    """The lab's operator processes held (stopped, not restarted), and the same modules started
    with the same environment except KUBECONFIG: each its own token kubeconfig. Yields the
    log file of each; afterwards stops them, and waits until the supervisor has restarted the
    lab's own."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    held: dict[str, tuple[int, str]] = {}  # component -> (the lab's pid, its liveness URL)
    logs = {component: tmp_path / f"{component}.log" for component in OPERATORS}
    try:
        for component, module in OPERATORS.items():
            kubeconfig = identities_applied[component]
            proc, pid, live = _restart_as(
                local_lab.dir, component, module, kubeconfig, logs[component]
            )
            started[component], held[component] = proc, (pid, live)
        yield logs
    finally:
        for proc in started.values():
            proc.send_signal(signal.SIGTERM)
        for proc in started.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for component in held:
            local.release(local_lab.dir, component)
        for component, (old_pid, live) in held.items():
            _wait_restarted(local_lab.dir, component, old_pid, live)


def _wait_restarted(state_dir: Path, component: str, old_pid: int, live: str) -> None:
    """The supervisor has started the lab's own process again and kopf answers."""

    def back() -> bool:
        state = local.LabState.load(state_dir)
        pid = state.components[component].pid if state else old_pid
        return pid != old_pid and processes.pid_alive(pid) and processes.http_ok(live)

    wait_for(back, 60, f"the supervisor to restart {component}")


def _restart_as(
    state_dir: Path, component: str, module: str, kubeconfig: Path, log: Path
) -> tuple[subprocess.Popen[bytes], int, str]:
    """Hold the lab's process of `component` and start its module again with the environment
    the supervisor gave it, but KUBECONFIG = the ServiceAccount's; wait for kopf's liveness."""
    state = local.LabState.load(state_dir)
    assert state is not None
    pid = state.components[component].pid
    env = {**os.environ, **state.components[component].env}
    local.kill(state_dir, component, hold=True)

    def gone() -> bool:
        return not processes.pid_alive(pid)

    wait_for(gone, 10, f"{component} to stop")
    env["KUBECONFIG"] = str(kubeconfig)
    proc = processes.spawn([sys.executable, "-m", module], log, env)

    def live() -> bool:
        return processes.http_ok(env["DNSRACE_LIVENESS"])

    processes.wait_until(live, proc, 60, component, log)
    return proc, pid, env["DNSRACE_LIVENESS"]


def test_operators_under_their_service_accounts_run_the_lab_and_a_race_scenario(
    lab_defaults: local.LabState,
    operators_as_service_accounts: dict[str, Path],
    api: client.ApiClient,
    kubectl: Kubectl,
) -> None:
    crd = client.CustomObjectsApi(api)
    plans = KubePlanStore(api, NS)
    before = newest(plans.list())
    start = before.generation if before else 0
    # normal operation: the planner (its token) creates plans, every enactor applies them
    plan = wait_for(
        lambda: (p := newest(plans.list())) is not None and p.generation > start + 1 and p,
        30,
        "the planner to create new plans",
    )

    def applied_by_all() -> bool:
        for ident in objects.ENACTORS:
            obj: Any = crd.get_namespaced_custom_object(
                "dnsrace.io", "v1alpha1", NS, "enactors", ident
            )
            if int((obj.get("status") or {}).get("lastAppliedGeneration", 0)) < plan.generation:
                return False
        return True

    wait_for(applied_by_all, 30, f"every enactor to apply g{plan.generation}")
    # the race, run by the scenario controller (its token) on these enactors
    scenario = SCENARIOS / "race-unguarded.yaml"
    kubectl("apply", "-n", NS, "-f", str(scenario))

    def finished() -> Any:
        obj: Any = crd.get_namespaced_custom_object(
            "dnsrace.io", "v1alpha1", NS, "scenarios", "race-unguarded"
        )
        return (obj.get("status") or {}).get("phase") in ("Completed", "Failed") and obj

    obj = wait_for(finished, 180, "scenario race-unguarded to finish")
    assert obj["status"]["phase"] == "Completed", obj["status"].get("conditions")
    verdict = obj["status"]["verdict"]
    assert verdict["passed"], verdict
    assert verdict["finalRecord"]["answer"] == "NXDOMAIN"
    assert verdict["staleOverwrites"] >= 1
    assert verdict["activePlanDeletions"] >= 1
    series = kubectl("get", "configmap", "scenario-race-unguarded-series-0", "-n", NS)
    assert series.returncode == 0
    events = kubectl("get", "events", "-n", NS, "-o", "json")
    reasons = {e["reason"] for e in json.loads(events.stdout)["items"]}
    assert {"Applied", "StaleOverwrite", "ActivePlanDeleted", "Verdict"} <= reasons
    # and not one request was refused, by any of them
    for component, log in operators_as_service_accounts.items():
        text = log.read_text(errors="replace")
        refusals = [
            line
            for line in text.splitlines()
            if re.search(r"\b403\b|[Ff]orbidden|[Nn]ot enough permissions", line)
        ]
        assert not refusals, f"{component}: {refusals[:3]}"
