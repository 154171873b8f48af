"""The package's three parts import downwards only: analysis <- present <- build (see src/aicompute/*/__init__.py)."""

from __future__ import annotations

import ast

import pytest

from aicompute import paths

# What each part may not import: the analysis never reaches up to the page or the build; the page never to the build.
FORBIDDEN = {"analysis": ("aicompute.present", "aicompute.build"), "present": ("aicompute.build",)}


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_part_imports_only_downwards(part):
    files = sorted((paths.PACKAGE / part).rglob("*.py"))
    assert files, f"no modules in aicompute/{part}"
    offences = [
        f"{file.relative_to(paths.PACKAGE)} imports {module}"
        for file in files
        for module in imported_modules(file)
        if module.startswith(FORBIDDEN[part])
    ]
    assert not offences, offences


def test_imported_modules_sees_both_import_forms(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("import aicompute.build.run\nfrom aicompute.present import charts\n", encoding="utf-8")
    assert imported_modules(sample) == {"aicompute.build.run", "aicompute.present"}
