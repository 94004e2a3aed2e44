"""The local control plane is real: kube-apiserver answers, CRDs install, and the CAS semantics
the lab relies on (409 on a stale resourceVersion, refused delete precondition, etcd compare
transaction) hold on the real processes."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.records import EndpointRecord, Target
from dnsrace.lab import local
from dnsrace.lab.ports import SLOT_PORTS, ephemeral_low
from dnsrace.stores.records import EtcdRecordStore
from tests.conftest import Kubectl

pytestmark = pytest.mark.integration

GROUP, VERSION, PLURAL = "dnsrace.io", "v1alpha1", "dnsplans"


def test_readyz_and_crds_apply(kubectl: Kubectl) -> None:
    assert kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    applied = kubectl("apply", "--server-side", "-f", "crds/")
    assert "dnsplans.dnsrace.io serverside-applied" in applied.stdout
    kubectl("wait", "--for=condition=Established", "crd/dnsplans.dnsrace.io")


def _plan(name: str, generation: int) -> dict[str, object]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "DNSPlan",
        "metadata": {"name": name},
        "spec": {
            "generation": generation,
            "region": "us-east-1",
            "endpoints": ["dynamodb.us-east-1.amazonaws.com"],
            "targets": [{"address": "127.0.0.11", "weight": 100, "loadBalancer": "lb-1"}],
        },
    }


def test_replace_with_stale_resource_version_is_409(api: client.ApiClient, namespace: str) -> None:
    crd = client.CustomObjectsApi(api)
    created = crd.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _plan("p1", 1))
    stale = created["metadata"]["resourceVersion"]
    created["metadata"].setdefault("labels", {})["touched"] = "first"
    crd.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "p1", created)

    created["metadata"]["labels"]["touched"] = "second"
    created["metadata"]["resourceVersion"] = stale
    with pytest.raises(ApiException) as err:
        crd.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "p1", created)
    assert err.value.status == 409


def test_delete_with_stale_precondition_is_refused(api: client.ApiClient, namespace: str) -> None:
    crd = client.CustomObjectsApi(api)
    created = crd.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _plan("p2", 2))
    stale = created["metadata"]["resourceVersion"]
    crd.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "p2", {"metadata": {"labels": {"x": "y"}}}
    )
    with pytest.raises(ApiException) as err:
        crd.delete_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            "p2",
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(resource_version=stale)
            ),
        )
    assert err.value.status == 409
    # still there; a current precondition deletes it
    current = crd.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "p2")
    crd.delete_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "p2",
        body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(
                resource_version=current["metadata"]["resourceVersion"]
            )
        ),
    )


def test_etcd_compare_transaction_refuses_a_stale_write(
    local_lab: local.LabState, dns_suffix: str
) -> None:
    store = EtcdRecordStore(local_lab.record_store)
    name = f"dynamodb.{dns_suffix}"
    first = EndpointRecord(name, 1, "plan-1", "a", (Target("127.0.0.11"),))
    assert store.write(first, expect_revision=0)
    seen = store.read(name)
    second = EndpointRecord(name, 2, "plan-2", "b", (Target("127.0.0.12"),))
    assert store.write(second, expect_revision=seen.revision)

    stale = EndpointRecord(name, 1, "plan-1", "a", (Target("127.0.0.13"),))
    assert not store.write(stale, expect_revision=seen.revision), "stale CAS must be refused"
    now = store.read(name)
    assert now.record == second
    assert now.served == (Target("127.0.0.12"),)
    assert not store.write(stale, expect_revision=0), "create-if-absent must be refused"


def test_state_file_reports_every_component_ready(local_lab: local.LabState) -> None:
    raw = json.loads((local_lab.dir / "state.json").read_text())
    assert raw["phase"] == "ready"
    assert set(raw["components"]) == {
        "etcd-api",
        "etcd-records",
        "kube-apiserver",
        "kube-controller-manager",
        "coredns",
        "frontend-lb-1",
        "frontend-lb-2",
        "frontend-lb-3",
        "planner",
        "enactor-a",
        "scenario-controller",
        "enactor-b",
        "enactor-c",
        "dynamodb-store",
        "netmgr",
        "dwfm",
        "ec2",
        "nlb",
        "clients",
    }
    assert all(c["ready"] for c in raw["components"].values())


def test_the_lab_listens_below_the_ephemeral_range(local_lab: local.LabState) -> None:
    """Every port of the lab is its own block's (ports.py): none is a port an outgoing
    connection could take while the process listening on it restarts."""
    ports = sorted(local_lab.ports.values())
    assert len(ports) == len(set(ports))
    assert ports[-1] < ephemeral_low()
    assert ports[-1] - ports[0] < SLOT_PORTS


def test_namespace_deletion_and_garbage_collection_run(
    api: client.ApiClient, kubectl: Kubectl, namespace: str
) -> None:
    """kube-controller-manager is there: an owned object is collected with its owner."""
    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    ref = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owned", owner_references=[ref])),
    )
    core.delete_namespaced_config_map("owner", namespace)
    kubectl("wait", "--for=delete", "configmap/owned", "-n", namespace, "--timeout=60s")
