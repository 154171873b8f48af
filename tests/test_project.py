"""Project conventions: pinned dependencies mirrored in environment.yml, clean notebooks, escaped data text."""

from __future__ import annotations

import json
import re
import tomllib

import pandas as pd
import yaml

from aicompute import paths
from aicompute.present.display import esc


def test_environment_yml_mirrors_pyproject_pins():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][^,;]*", p) for p in pins), "every dependency is pinned with =="
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {p for p in pip if "==" in p} == pins


def test_notebooks_are_committed_without_outputs_and_with_one_parameters_cell():
    for path in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and not c.get("execution_count") for c in code), f"{path.name} has outputs"
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


def test_notebooks_do_not_hard_code_paths():
    for path in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        source = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        assert "read_csv(" not in source and "/work/" not in source, f"{path.name}: load data through aicompute.data"


def test_markup_in_data_text_is_escaped_for_prose():
    text = esc("<script>alert('x')</script> *bold* [link](http://x)")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*bold\\*" in text and "\\[link\\]" in text


def test_table_escapes_markup(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from aicompute.present.display import table

    InteractiveShell.instance()
    shown = []
    import aicompute.present.display as display_module

    original = display_module.display
    display_module.display = lambda obj: shown.append(obj.data)
    try:
        table(pd.DataFrame({"note": ["<script>alert(1)</script>"]}))
    finally:
        display_module.display = original
    assert "<script>alert" not in shown[0] and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown[0]


def test_notebook_cells_are_short_narrative():
    """Logic lives in the package: a code cell loads, calls, charts or explains in a few lines (a sentence quoting
    many records may run longer; the parameters cell lists every parameter with its explanation)."""
    import json

    long_cells = []
    for path in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
                continue
            lines = "".join(cell["source"]).splitlines()
            if len(lines) > 15:
                long_cells.append(f"{path.name} cell {index}: {len(lines)} lines")
    assert long_cells == []
