"""The package's layout holds: every folder of operator/dnsrace is a package the build ships
(pyproject's explicit list, which the image's wheel follows), and every module says in its
docstring what it owns."""

from __future__ import annotations

import ast
import tomllib

from dnsrace.lab.versions import REPO_ROOT

PACKAGE = REPO_ROOT / "operator" / "dnsrace"


def test_every_folder_is_a_shipped_package() -> None:
    shipped = set(
        tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        "dnsrace" + "".join(f".{part}" for part in init.parent.relative_to(PACKAGE).parts)
        for init in PACKAGE.rglob("__init__.py")
    }
    assert folders <= shipped, f"add to pyproject's packages: {sorted(folders - shipped)}"
    assert {p for p in shipped if p.startswith("dnsrace")} == folders


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []
