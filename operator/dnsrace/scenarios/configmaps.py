"""Append-only JSON-lines logs kept in ConfigMaps: a scenario's probe samples and its service
samples, which the report and the verdict read back.

A log named NAME is a ring of at most SLOTS chunks, the ConfigMaps NAME-0 to NAME-<SLOTS-1>,
each holding whole lines (`samples.jsonl`) and its place in the log (`seq`). An append rewrites
only the newest chunk, so its cost is bounded however long the run (one ConfigMap rewritten
whole cost each append more as the run went on). A chunk past CHUNK bytes is followed by a new
one; once the ring is full the new chunk takes the oldest one's slot (the oldest lines go first,
a chunk at a time), so a log stays below SLOTS * CHUNK bytes. Writes are resourceVersion-guarded.
"""

from __future__ import annotations

from collections.abc import Callable

from kubernetes import client
from kubernetes.client.exceptions import ApiException

KEY = "samples.jsonl"
SEQ = "seq"
CHUNK = 64_000
SLOTS = 14
ATTEMPTS = 5  # writes that meet another writer's (409) are retried this often, then dropped


def chunk_name(name: str, slot: int) -> str:
    return f"{name}-{slot}"


def _text(cm: client.V1ConfigMap) -> str:
    return str((cm.data or {}).get(KEY, ""))


def _seq(cm: client.V1ConfigMap) -> int:
    return int((cm.data or {}).get(SEQ, "0"))


def _chunks(core: client.CoreV1Api, ns: str, name: str) -> list[client.V1ConfigMap]:
    """The log's chunks, oldest first."""
    found = []
    for slot in range(SLOTS):
        try:
            found.append(core.read_namespaced_config_map(chunk_name(name, slot), ns))
        except ApiException as exc:
            if exc.status != 404:
                raise
    return sorted(found, key=_seq)


class _Conflict(Exception):
    """Another writer's write came first: read the log again."""


class ConfigMapLog:
    """The writer of one log. It keeps the newest chunk as it last wrote it, so an append is
    one write; it reads the chunks again only at its first append, after a conflict (a
    restarted controller carries on where the log ends) or after a write whose outcome it did
    not learn.

    Such a write (the connection lost, the API server restarting) may have landed, and the
    caller, told the append failed, offers the same lines again with any newer ones after
    them. So the writer keeps that write's text (`attempt`), and if the log, read again, ends
    with it, it was written: those lines (`landed`) are not written a second time."""

    def __init__(self, api: client.ApiClient, ns: str, name: str) -> None:
        self.core = client.CoreV1Api(api)
        self.ns, self.name = ns, name
        self.newest: client.V1ConfigMap | None = None
        self.known = False
        self.landed = ""  # lines written by appends that failed after all: offered again
        self.attempt = ""  # the text of the write in flight, or of one whose outcome is unknown

    def append(self, lines: list[str]) -> None:
        offered = "".join(line + "\n" for line in lines)
        if not offered.startswith(self.landed):
            self.landed = self.attempt = ""  # not the lines it offered before
        try:
            self._append(offered[len(self.landed) :])
        except Exception:
            self.known = False
            raise
        self.landed = self.attempt = ""

    def _append(self, text: str) -> None:
        for _ in range(ATTEMPTS):
            try:
                if not self.known:
                    chunks = _chunks(self.core, self.ns, self.name)
                    self.newest, self.known = (chunks[-1] if chunks else None), True
                    if (
                        self.attempt
                        and text.startswith(self.attempt)
                        and self.newest is not None
                        and _text(self.newest).endswith(self.attempt)
                    ):
                        self.landed += self.attempt
                        text = text[len(self.attempt) :]
                    self.attempt = ""
                if not text:
                    return
                cm = self.newest
                held = "" if cm is None else _text(cm)
                self.attempt = text
                if cm is None or (held and len(held) + len(text) > CHUNK):
                    self.newest = self._start(0 if cm is None else _seq(cm) + 1, text)
                else:
                    cm.data = {KEY: held + text, SEQ: str(_seq(cm))}
                    self.newest = self._write(
                        self.core.replace_namespaced_config_map, cm.metadata.name, self.ns, cm
                    )
                return
            except _Conflict:
                self.known, self.attempt = False, ""  # refused: it did not land

    def _start(self, seq: int, text: str) -> client.V1ConfigMap:
        """Chunk `seq` in its slot: created, or replacing the older chunk the slot held."""
        name = chunk_name(self.name, seq % SLOTS)
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name), data={KEY: text, SEQ: str(seq)}
        )
        try:
            return self._write(self.core.create_namespaced_config_map, self.ns, body)
        except _Conflict:
            old = self.core.read_namespaced_config_map(name, self.ns)
            if _seq(old) >= seq:
                raise
            body.metadata.resource_version = old.metadata.resource_version
            return self._write(self.core.replace_namespaced_config_map, name, self.ns, body)

    @staticmethod
    def _write(call: Callable[..., client.V1ConfigMap], *args: object) -> client.V1ConfigMap:
        """`call(*args)`, a 409 (another writer came first) raised as a conflict."""
        try:
            return call(*args)
        except ApiException as exc:
            if exc.status == 409:
                raise _Conflict from exc
            raise


def read_lines(api: client.ApiClient, ns: str, name: str) -> list[str]:
    """Every line the log still holds, oldest first."""
    chunks = _chunks(client.CoreV1Api(api), ns, name)
    return [line for cm in chunks for line in _text(cm).splitlines() if line.strip()]


def delete(api: client.ApiClient, ns: str, name: str) -> None:
    core = client.CoreV1Api(api)
    for slot in range(SLOTS):
        try:
            core.delete_namespaced_config_map(chunk_name(name, slot), ns)
        except ApiException as exc:
            if exc.status != 404:
                raise
