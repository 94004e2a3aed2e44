"""The CRD reference page (docs/reference/crds.md), rendered from the CRDs the lab installs
(as `dnsrace.lab.crds` renders them from their definitions):
every field of every resource with its type, meaning, bounds, default and the rules the API
server checks, so the page and `kubectl explain` say the same thing and cannot drift apart
(tests/unit/test_reference.py compares the committed page with this rendering).

`python -m dnsrace.cli.reference` prints the page; `--write` writes it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from dnsrace.lab import crds, versions

ROOT = versions.REPO_ROOT

PAGE = ROOT / "docs" / "reference" / "crds.md"


def fields(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every field under `node`, depth first, with its path (`spec.steps[].waitFor.seen`)."""
    for name, sub in (node.get("properties") or {}).items():
        here = f"{path}.{name}" if path else name
        if here == "metadata":
            continue
        yield here, sub
        yield from fields(sub, here)
        if "items" in sub:
            yield from fields(sub["items"], here + "[]")
        extra = sub.get("additionalProperties")
        if isinstance(extra, Mapping):
            yield from fields(extra, here + "{}")


def kind_of(node: Mapping[str, Any]) -> str:
    kind = str(node.get("type", "object"))
    if kind == "array":
        return f"array of {node.get('items', {}).get('type', 'object')}"
    if node.get("x-kubernetes-preserve-unknown-fields"):
        return "object (free-form)"
    return kind


def bounds(node: Mapping[str, Any]) -> str:
    out = []
    if "enum" in node:
        out.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    low = "above" if node.get("exclusiveMinimum") else "at least"
    high = "below" if node.get("exclusiveMaximum") else "at most"
    if "minimum" in node:
        out.append(f"{low} {node['minimum']:g}")
    if "maximum" in node:
        out.append(f"{high} {node['maximum']:g}")
    for key, what in (
        ("maxLength", "characters"),
        ("minItems", "items at least"),
        ("maxItems", "items"),
        ("maxProperties", "entries"),
    ):
        if key in node:
            n = node[key]
            out.append(f"at least {n} items" if key == "minItems" else f"at most {n} {what}")
    if "pattern" in node:
        out.append(f"matches `{node['pattern']}`")
    if "default" in node:
        out.append(f"default `{json.dumps(node['default'])}`")
    for rule in node.get("x-kubernetes-validations") or ():
        out.append("rule: " + str(rule["message"]).rstrip("."))
    for rule in (node.get("items") or {}).get("x-kubernetes-validations") or ():
        out.append("each item, rule: " + str(rule["message"]).rstrip("."))
    return "; ".join(out)


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    lines = [
        "# Reference: the custom resources",
        "",
        "Every field of the lab's custom resources (group `dnsrace.io`, version `v1alpha1`): its",
        "type, its meaning, and what the API server checks (bounds, defaults and rules). The",
        "same text answers `kubectl explain`, e.g. `kubectl explain scenario.spec.expect`.",
        "Each field is defined once, in `dnsrace.core.resources`; the CRDs are rendered from",
        "those definitions (`python -m dnsrace.lab.crds --write`) and this page from the CRDs",
        "(`python -m dnsrace.cli.reference --write`); tests keep all three equal.",
    ]
    for definition in crds.DEFINITIONS:
        crd = crds.crd(definition)
        kind = definition.kind
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        lines += ["", f"## {kind}", ""]
        name = (schema.get("properties", {}).get("metadata", {}).get("properties") or {}).get(
            "name"
        )
        if name:
            text = cell(str(name.get("description", "")))
            lines += [f"`metadata.name`: {text} (checked: {bounds(name)})", ""]
        for rule in (schema["properties"]["spec"].get("x-kubernetes-validations")) or ():
            where = str(rule.get("fieldPath", "")).lstrip(".")
            lines.append(
                f"- Rule{f' on `spec.{where}`' if where else ''}: {cell(str(rule['message']))}"
            )
        lines += ["", "| field | type | meaning | checked |", "| --- | --- | --- | --- |"]
        for path, node in fields(schema):
            lines.append(
                f"| `{path}` | {kind_of(node)} | {cell(str(node.get('description', '')))} "
                f"| {cell(bounds(node))} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    page = render()
    if sys.argv[1:] == ["--write"]:
        PAGE.parent.mkdir(parents=True, exist_ok=True)
        PAGE.write_text(page)
        print(f"wrote {PAGE.relative_to(ROOT)}")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
