"""The lab on a real kind cluster (one control plane, three zone workers): every Deployment
rolled out, each enactor on its zone's node, every pod under its own ServiceAccount with an image
that is never pulled, every shipped Scenario run with kubectl apply and kubectl wait and holding
its promise, the kubelet restarting a crashed enactor, a zone's node cut off from the control
plane while the race runs, and no 403 in any log. Tests run in file order: the log check
comes last."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.kind.conftest import NS, REPO, SCENARIOS, Kind, condition, wait_until
from tests.kind.watching import answers_in_run, reset_at, served

pytestmark = pytest.mark.kind

ZONES = {"a": "use1-az1", "b": "use1-az2", "c": "use1-az4"}
REGIONAL = "dynamodb.us-east-1.amazonaws.com"
LAB_DNS = "10.96.0.53"
WATCHER_NS = "dnsrace-kind-test"
# A pod outside the lab that asks the lab's CoreDNS (its Service address) for the regional
# endpoint every 10 ms and prints one JSON line whenever the answer's kind changes.
WATCHER = f"""
import json, time, dns.message, dns.query, dns.rcode
last = None
while True:
    q = dns.message.make_query("{REGIONAL}", "A")
    try:
        r = dns.query.udp(q, "{LAB_DNS}", timeout=0.5)
        now = (dns.rcode.to_text(r.rcode()), sum(len(s) for s in r.answer))
    except Exception as e:
        now = ("ERROR:" + type(e).__name__, 0)
    if now != last:
        print(json.dumps({{"t": time.time(), "rcode": now[0], "answers": now[1]}}), flush=True)
        last = now
    time.sleep(0.01)
"""


def shipped() -> list[str]:
    return sorted(p.name for p in SCENARIOS.glob("*.yaml"))


def pods(kind: Kind) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kind.json("-n", NS, "get", "pods")["items"]
    return items


def owner_deployment(pod: dict[str, Any]) -> str:
    """The Deployment a pod belongs to (its ReplicaSet's name without the hash)."""
    rs = pod["metadata"]["ownerReferences"][0]["name"]
    return str(rs.rsplit("-", 1)[0])


@pytest.mark.parametrize("buildkit", ["0", "1"])
def test_the_image_builds_with_and_without_buildkit(kind: Kind, buildkit: str) -> None:
    """The Dockerfile is plain syntax (no frontend to fetch, no RUN --mount): the legacy builder
    and BuildKit both build it, so a kind user's Docker needs neither setting."""
    base = os.environ.get("DNSRACE_PYTHON_IMAGE")
    args = ["build", "-q", "-t", f"dnsrace:builder-check-{buildkit}", str(REPO)]
    if base:
        args[1:1] = ["--build-arg", f"PYTHON_IMAGE={base}"]
    res = subprocess.run(
        [kind.docker, *args],
        env={**os.environ, "DOCKER_BUILDKIT": buildkit},
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    kind.node_docker("rmi", f"dnsrace:builder-check-{buildkit}")


def test_every_deployment_is_available(lab: Kind) -> None:
    deployments = lab.json("-n", NS, "get", "deployments")["items"]
    assert len(deployments) >= 14
    for d in deployments:
        avail = condition(d["status"], "Available")
        assert avail.get("status") == "True", (d["metadata"]["name"], avail)
        assert d["status"].get("readyReplicas") == d["spec"]["replicas"], d["metadata"]["name"]


def test_each_enactor_runs_on_its_zones_node(lab: Kind) -> None:
    nodes = {n["metadata"]["name"]: n for n in lab.json("get", "nodes")["items"]}
    for enactor, zone in ZONES.items():
        (pod,) = [p for p in pods(lab) if owner_deployment(p) == f"enactor-{enactor}"]
        node = nodes[pod["spec"]["nodeName"]]
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == zone
        assert pod["status"]["phase"] == "Running"
    zones = {n["metadata"]["labels"].get("topology.kubernetes.io/zone") for n in nodes.values()}
    assert set(ZONES.values()) <= zones
    assert len(nodes) == 4


def test_every_pod_runs_as_its_own_service_account_with_images_never_pulled(lab: Kind) -> None:
    """Each Deployment's pods run as the ServiceAccount named for that component (the three
    DynamoDB front-ends share theirs), never `default`; no container may pull its image."""
    by_account: dict[str, set[str]] = {}
    for pod in pods(lab):
        account = pod["spec"]["serviceAccountName"]
        assert account != "default", pod["metadata"]["name"]
        by_account.setdefault(account, set()).add(owner_deployment(pod))
        for c in pod["spec"]["containers"]:
            assert c["imagePullPolicy"] in (
                ("Never",) if lab.offline else ("Never", "IfNotPresent")
            ), (pod["metadata"]["name"], c["imagePullPolicy"])
    shared = {a: d for a, d in by_account.items() if len(d) > 1}
    assert shared == {"dynamodb-frontend": {"lb-1", "lb-2", "lb-3"}}
    for account, deployments in by_account.items():
        if account != "dynamodb-frontend":
            assert deployments == {account}, (account, deployments)
    # the tokens are those accounts': the API server answers who each one is
    for account in by_account:
        review = lab(
            "auth", "can-i", "list", "pods", "-n", NS, f"--as=system:serviceaccount:{NS}:{account}",
            check=False,
        )  # fmt: skip
        assert review.stdout.strip() == "no", f"{account} may list pods"


@pytest.fixture
def dns_watcher(lab: Kind) -> Any:
    """A pod of the dnsrace image in a namespace of its own, querying the lab's CoreDNS."""
    lab("create", "namespace", WATCHER_NS, check=False)
    lab("-n", WATCHER_NS, "delete", "pod", "dns-watcher", "--ignore-not-found", "--wait=true")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "dns-watcher"},
        "spec": {
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
            "containers": [
                {
                    "name": "watch",
                    "image": "dnsrace:dev",
                    "imagePullPolicy": "Never",
                    "command": ["python", "-c", WATCHER],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    lab("-n", WATCHER_NS, "apply", "-f", "-", stdin=json.dumps(pod))
    lab("-n", WATCHER_NS, "wait", "--for=condition=Ready", "pod/dns-watcher", "--timeout=120s")
    wait_until("the watcher's first answer", lambda: bool(watcher_lines(lab)), timeout=60)
    yield lambda: watcher_lines(lab)
    lab("delete", "namespace", WATCHER_NS, "--wait=true")


def watcher_lines(kind: Kind) -> list[dict[str, Any]]:
    out = kind("-n", WATCHER_NS, "logs", "dns-watcher", check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_race_unguarded_empties_the_regional_record_seen_from_a_pod(
    lab: Kind, dns_watcher: Any
) -> None:
    st = lab.run_scenario("race-unguarded.yaml")
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    assert verdict["word"] == "OUTAGE"
    assert verdict["emptyRecordObserved"] is True  # the scenario's in-cluster probe
    assert verdict["activePlanDeletions"] >= 1
    # an ordinary pod's own DNS queries got NXDOMAIN for the regional endpoint during the run
    # (after it was served again following the reset, which empties the store on purpose)
    during = answers_in_run(dns_watcher(), reset_at(st))
    assert any(e["rcode"] == "NXDOMAIN" for e in during), during


def test_race_guarded_holds_seen_from_a_pod(lab: Kind, dns_watcher: Any) -> None:
    st = lab.run_scenario("race-guarded.yaml")
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    verdict = st["verdict"]
    assert verdict["word"] == "HELD"
    assert verdict["emptyRecordObserved"] is False
    assert verdict["skippedNewer"] >= 1
    assert verdict["oracle"]["violations"] == {"I1": 0, "I2": 0, "I3": 0}
    # from the regional name's first answer after the reset on, the pod was never without it
    during = answers_in_run(dns_watcher(), reset_at(st))
    assert all(served(e) for e in during), during


@pytest.mark.parametrize(
    "file",
    [
        f
        for f in shipped()
        if f not in ("race-unguarded.yaml", "race-guarded.yaml", "enactor-crash.yaml")
    ],
)
def test_every_other_shipped_scenario_keeps_its_promise(lab: Kind, file: str) -> None:
    """Each Scenario's spec.expect is its promise (for the cascades: their figures and
    invariants); VerdictPassed says the verdict met all of it."""
    st = lab.run_scenario(file, timeout="420s")
    assert st["phase"] == "Completed"
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    if file.startswith("cascade-"):
        figures = st["verdict"]["cascade"]
        assert figures, "a cascade scenario without figures"
        if file == "cascade-unguarded.yaml":
            assert figures["dwfm.metastable"] is True
            assert figures["dynamodb.newConnectionFailuresWhileEmpty"] > 0
        else:
            assert st["verdict"]["invariantViolations"] == []


def test_enactor_crash_is_restarted_by_the_kubelet(lab: Kind) -> None:
    def restarts() -> int:
        (pod,) = [p for p in pods(lab) if owner_deployment(p) == "enactor-c"]
        return int(pod["status"]["containerStatuses"][0]["restartCount"])

    before = restarts()
    st = lab.run_scenario("enactor-crash.yaml")
    assert condition(st, "VerdictPassed")["status"] == "True", st["verdict"]["failures"]
    assert restarts() == before + 1  # the same pod: the kubelet restarted its container


def test_a_zone_node_lost_to_the_control_plane_guarded_holds_unguarded_does_not(lab: Kind) -> None:
    """Only kind can show this: the kubelet of enactor c's zone node stops, the node goes
    NotReady (Unknown: it no longer reports) and stays so while the race runs, first guarded,
    then unguarded for comparison. The lab's other pods are moved off that node first, so the
    zone holds only its enactor. The node's containers keep running, as on a real node cut off
    from the control plane, so enactor c still takes part: a NotReady node is not a dead
    workload. Then the kubelet comes back and the node is Ready again."""
    (pod,) = [p for p in pods(lab) if owner_deployment(p) == "enactor-c"]
    node = pod["spec"]["nodeName"]
    # Only the zone's enactor stays on that node: a NotReady node's pods leave their Services'
    # endpoints, so a record store, lab DNS or cluster DNS pod there would be lost with it.
    lab("cordon", node)
    try:
        move_off(lab, node, keep=pod["metadata"]["name"])
        lab.node_docker("exec", node, "systemctl", "stop", "kubelet")
        try:
            wait_until(f"{node} not Ready", lambda: node_ready(lab, node) != "True", timeout=180)
            guarded = lab.run_scenario("race-guarded.yaml")
            unguarded = lab.run_scenario("race-unguarded.yaml")
            still_down = node_ready(lab, node)
            (after,) = [p for p in pods(lab) if owner_deployment(p) == "enactor-c"]
        finally:
            lab.node_docker("exec", node, "systemctl", "start", "kubelet")
    finally:
        lab("uncordon", node)
    assert still_down != "True"  # the node was out of the control plane's reach throughout
    assert after["metadata"]["uid"] == pod["metadata"]["uid"]  # the same enactor c took part
    assert condition(guarded, "VerdictPassed")["status"] == "True", guarded["verdict"]["failures"]
    assert guarded["verdict"]["word"] == "HELD"
    assert guarded["verdict"]["emptyRecordObserved"] is False
    assert condition(unguarded, "VerdictPassed")["status"] == "True"
    assert unguarded["verdict"]["word"] == "OUTAGE"
    assert unguarded["verdict"]["emptyRecordObserved"] is True
    wait_until(f"{node} Ready again", lambda: node_ready(lab, node) == "True", timeout=180)


def move_off(kind: Kind, node: str, keep: str) -> None:
    """Every lab pod but `keep`, and the cluster DNS pods, rescheduled off a cordoned node."""
    for ns, selector in ((NS, ""), ("kube-system", "k8s-app=kube-dns")):
        listed = kind.json("-n", ns, "get", "pods", *(["-l", selector] if selector else []))
        for p in listed["items"]:
            if p["spec"].get("nodeName") == node and p["metadata"]["name"] != keep:
                kind("-n", ns, "delete", "pod", p["metadata"]["name"], "--wait=true")
    kind("-n", NS, "rollout", "status", "deployment", "--timeout=300s")
    kind("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s")


def node_ready(kind: Kind, node: str) -> str:
    return str(condition(kind.json("get", "node", node)["status"], "Ready")["status"])


def test_offline_nothing_in_the_cluster_tried_to_pull_an_image(lab: Kind) -> None:
    """Offline every image is preloaded or loaded: the kubelets never began a pull, in any
    namespace (kube-system's control plane included), during everything above."""
    if not lab.offline:
        pytest.skip("the published-image path pulls what it lacks; this is the offline promise")
    events = lab.json("get", "events", "-A", "--field-selector", "reason=Pulling")["items"]
    failed = lab.json("get", "events", "-A", "--field-selector", "reason=Failed")["items"]
    assert [e["message"] for e in events] == []
    assert [e["message"] for e in failed if "pull" in e["message"].lower()] == []


def test_no_pod_logged_a_403(lab: Kind) -> None:
    """Every component's permissions sufficed for everything the runs above made it do."""
    offenders = {}
    for pod in pods(lab):
        name = pod["metadata"]["name"]
        for previous in (False, True):
            res = lab("-n", NS, "logs", name, "--all-containers", *(["--previous"] * previous),
                      check=False)  # fmt: skip
            hits = [
                line
                for line in res.stdout.splitlines()
                if " 403" in line or "Forbidden" in line or '"code":403' in line
            ]
            if hits:
                offenders[name] = hits[:3]
    assert offenders == {}
