"""`dnsrace run FILE [--json] [--dry-run]`: check a Scenario (the API server's strict, dry-run
validation, then the scenario controller's own checks), apply it, show its progress live, print
the verdict, and exit 0 when its expectations hold, 1 when they do not (or it failed). A
Scenario with a problem is never applied: each problem is one line, and the exit is 1.
`--dry-run` checks only."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from dnsrace.core.names import Plural
from dnsrace.core.plans import ENDPOINT_LABELS
from dnsrace.core.vocabulary import Condition, Phase
from dnsrace.scenarios.engine import ScenarioInvalid, prepare
from dnsrace.stores import kube

PLURAL = Plural.SCENARIOS


class RunError(RuntimeError):
    """One readable line for the CLI."""


def load(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RunError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(doc, dict) or doc.get("kind") != "Scenario":
        raise RunError(
            f"{path} is not a Scenario (kind: Scenario, apiVersion: dnsrace.io/v1alpha1)"
        )
    if not doc.get("metadata", {}).get("name"):
        raise RunError(f"{path}: metadata.name is required")
    return doc


def api_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
        return str(body.get("message", exc.reason))
    except ValueError:
        return str(exc.reason)


def refusal_lines(exc: ApiException) -> list[str]:
    """An API server's refusal as one line per problem: each cause of a 422 (field and what is
    wrong), each unknown field of a strict decoding error."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return [str(exc.reason)]
    causes = (body.get("details") or {}).get("causes") or []
    lines = [
        f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", ""))
        for c in causes
    ]
    message = str(body.get("message", exc.reason))
    if not lines and "strict decoding error: " in message:
        found = message.split("strict decoding error: ", 1)[1]
        lines = [
            f"{part.strip()} (misspelt? kubectl explain scenario.spec names every field)"
            for part in found.split(", ")
        ]
    return lines or [message]


def problems(api: client.ApiClient, ns: str, doc: dict[str, Any]) -> list[str]:
    """What stops this Scenario from running as written, one line each; empty when nothing
    does. First the API server (a dry-run create with strict field validation: the schema,
    its CEL rules, unknown fields), then, on the object as the API server would store it
    (defaults filled in), the scenario controller's own checks."""
    crd = client.CustomObjectsApi(api)
    body = json.loads(json.dumps(doc))

    def dry_run(obj: dict[str, Any]) -> Any:
        return crd.create_namespaced_custom_object(
            kube.GROUP, kube.VERSION, ns, PLURAL, obj, dry_run="All", field_validation=kube.STRICT
        )

    try:
        stored = dry_run(body)
    except ApiException as exc:
        if exc.status != 409:
            return refusal_lines(exc)
        # one of that name exists (a run would replace it): check the same spec under a
        # name of the server's choosing
        meta = {k: v for k, v in body["metadata"].items() if k != "name"}
        body["metadata"] = {**meta, "generateName": f"{str(doc['metadata']['name'])[:190]}-"}
        try:
            stored = dry_run(body)
        except ApiException as again:
            return refusal_lines(again)
    try:
        prepare(stored["spec"])
    except ScenarioInvalid as exc:
        return [str(exc)]
    return []


def apply(api: client.ApiClient, ns: str, doc: dict[str, Any]) -> str:
    """Create the Scenario, deleting a finished one of the same name first (spec is immutable);
    refuse, changing nothing, when one of that name is running, waiting or about to start."""
    crd = client.CustomObjectsApi(api)
    name = doc["metadata"]["name"]
    try:
        old: Any = crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, ns, PLURAL, name)
        phase = (old.get("status") or {}).get("phase")
        if phase in (Phase.RUNNING, Phase.WAITING) or (
            phase is None and not old["metadata"].get("deletionTimestamp")
        ):
            raise RunError(
                f"scenario {name} is {(phase or 'starting').lower()} now; nothing changed "
                f"(wait for it, or stop it: kubectl delete scenario {name} -n {ns})"
            )
        crd.delete_namespaced_custom_object(kube.GROUP, kube.VERSION, ns, PLURAL, name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, ns, PLURAL, name)
            time.sleep(0.1)
    except ApiException as exc:
        if exc.status != 404:
            raise RunError(f"cannot replace scenario {name}: {api_message(exc)}") from exc
    try:
        crd.create_namespaced_custom_object(
            kube.GROUP, kube.VERSION, ns, PLURAL, doc, field_validation=kube.STRICT
        )
    except ApiException as exc:
        raise RunError(f"scenario {name} refused: {api_message(exc)}") from exc
    return str(name)


def progress_line(obj: dict[str, Any], started: float) -> str:
    st = obj.get("status") or {}
    steps = obj["spec"].get("steps") or obj["spec"].get("replay") or []
    total = len(steps) if steps else "?"
    probes = st.get("probes") or {}
    gens = probes.get("lastGenerations", {})
    answers = probes.get("lastAnswers", {})
    label = ENDPOINT_LABELS.get
    eps = " ".join(
        f"{label(name, name.split('.')[0])}:g{gens.get(name, 0)}/{answers.get(name, '-')}"
        for name in answers
    )
    return (
        f"[{time.monotonic() - started:6.1f}s] {st.get('phase', 'Pending'):<9} "
        f"step {st.get('stepIndex', 0)}/{total}  {eps}"
    )


def run_scenario_file(
    api: client.ApiClient,
    ns: str,
    path: Path,
    as_json: bool,
    timeout: float = 900,
    dry_run: bool = False,
) -> int:
    doc = load(path)
    found = problems(api, ns, doc)
    for line in found:
        print(f"{path}: {line}", file=sys.stderr)
    if found:
        return 1
    if dry_run:
        print(f"{path}: scenario {doc['metadata']['name']} would run as written")
        return 0
    name = apply(api, ns, doc)
    crd = client.CustomObjectsApi(api)
    started = time.monotonic()
    last = ""
    tty = sys.stderr.isatty()
    while True:
        obj: Any = crd.get_namespaced_custom_object(kube.GROUP, kube.VERSION, ns, PLURAL, name)
        st = obj.get("status") or {}
        if not as_json:
            line = progress_line(obj, started)
            if line[9:] != last[9:]:
                print(
                    ("\r" if tty else "") + line,
                    end="" if tty else "\n",
                    file=sys.stderr,
                    flush=True,
                )
            last = line
        if st.get("phase") in (Phase.COMPLETED, Phase.FAILED):
            break
        if time.monotonic() - started > timeout:
            raise RunError(
                f"scenario {name} did not finish in {timeout:.0f}s (phase {st.get('phase')})"
            )
        time.sleep(0.3)
    if tty and not as_json:
        print(file=sys.stderr)
    verdict = st.get("verdict") or {}
    passed = st.get("phase") == Phase.COMPLETED and bool(verdict.get("passed"))
    if as_json:
        print(
            json.dumps(
                {
                    "name": name,
                    "phase": st.get("phase"),
                    "conditions": st.get("conditions", []),
                    "verdict": verdict,
                    "startTime": st.get("startTime"),
                    "completionTime": st.get("completionTime"),
                },
                indent=2,
            )
        )
    else:
        print(render_verdict(name, st))
    return 0 if passed else 1


def render_verdict(name: str, st: dict[str, Any]) -> str:
    if st.get("phase") == Phase.FAILED:
        failed: dict[str, Any] = next(
            (c for c in st.get("conditions", []) if c["type"] == Condition.FAILED), {}
        )
        return f"scenario {name} FAILED: {failed.get('message', '?')}"
    v = st.get("verdict") or {}
    fr = v.get("finalRecord", {})
    lines = [f"scenario {name}: {v.get('summary', '')}"]
    for text in v.get("story", []):
        lines.append(f"  {text}")
    rows = [
        ("emptyRecordObserved", v.get("emptyRecordObserved")),
        ("emptyRecordSeconds", v.get("emptyRecordSeconds")),
        ("staleOverwrites", v.get("staleOverwrites")),
        ("activePlanDeletions", v.get("activePlanDeletions")),
        ("casConflicts", v.get("casConflicts")),
        ("regressions", v.get("regressions")),
        (
            "finalRecord",
            f"{fr.get('answer')} g{fr.get('generation')} by {fr.get('writtenBy') or '-'}",
        ),
    ]
    if "simulated" in v:
        sim = v["simulated"]
        rows.append(
            (
                "simulated",
                f"outage={sim['outage']} violations={','.join(sim['violations']) or 'none'}",
            )
        )
    lines += [f"  {k:<22}{val}" for k, val in rows]
    lines.append(
        "  expectations: " + ("all hold" if v.get("passed") else "; ".join(v.get("failures", [])))
    )
    return "\n".join(lines)
