"""Every write of a lab object asks for strict field validation.

A custom object written without `field_validation` has its unknown fields dropped by the API
server without a word (a misspelt fault field becomes a fault that does nothing). This reads
the project's source and finds every create, patch or replace of a custom object; each must
pass `field_validation=kube.STRICT`. ConfigMaps and Events are built from the client's typed
models, which cannot carry an unknown field, and are left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = re.compile(r"^(create|patch|replace)_(namespaced_|cluster_)?custom_object(_status)?$")


def _writes_without_strict() -> tuple[int, list[str]]:
    found, missing = 0, []
    for folder in ("operator", "services", "bench", "hack"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if not WRITES.match(node.func.attr):
                    continue
                found += 1
                if not any(k.arg == "field_validation" for k in node.keywords):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
    return found, missing


def test_every_custom_object_write_is_strict() -> None:
    found, missing = _writes_without_strict()
    assert found >= 7, "the scan found too few writes: has the client's API changed?"
    assert not missing, "writes without field_validation=kube.STRICT:\n" + "\n".join(missing)
