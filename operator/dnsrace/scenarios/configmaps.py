"""Append-only JSON-lines logs kept in a ConfigMap (`samples.jsonl`): a scenario's probe samples
and its service samples, which the report and the verdict read back. Bounded below the
ConfigMap size limit (the oldest lines go first); writes are resourceVersion-guarded."""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

KEY = "samples.jsonl"
LIMIT = 900_000


def append_lines(api: client.ApiClient, ns: str, name: str, lines: list[str]) -> None:
    core = client.CoreV1Api(api)
    text = "".join(line + "\n" for line in lines)
    for _ in range(5):
        try:
            cm = core.read_namespaced_config_map(name, ns)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={KEY: text})
            try:
                core.create_namespaced_config_map(ns, body)
                return
            except ApiException as again:
                if again.status == 409:
                    continue
                raise
        data = (cm.data or {}).get(KEY, "") + text
        if len(data) > LIMIT:
            data = data[-LIMIT:]
            data = data[data.find("\n") + 1 :]  # whole lines only
        cm.data = {KEY: data}
        try:
            core.replace_namespaced_config_map(name, ns, cm)
            return
        except ApiException as exc:
            if exc.status != 409:
                raise


def read_lines(api: client.ApiClient, ns: str, name: str) -> list[str]:
    try:
        cm = client.CoreV1Api(api).read_namespaced_config_map(name, ns)
    except ApiException as exc:
        if exc.status == 404:
            return []
        raise
    return [line for line in (cm.data or {}).get(KEY, "").splitlines() if line.strip()]


def delete(api: client.ApiClient, ns: str, name: str) -> None:
    try:
        client.CoreV1Api(api).delete_namespaced_config_map(name, ns)
    except ApiException as exc:
        if exc.status != 404:
            raise
