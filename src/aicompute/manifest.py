"""The build manifest (``params.yaml``): which notebooks run, in what order, with what default parameters.

Also reads each notebook's declared parameters (the cell tagged ``parameters``) and checks overrides against them:
an unknown name or a value of the wrong type is an error before any notebook runs.
"""

from __future__ import annotations

import ast
import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aicompute import paths

# Python type names a parameter may declare, and the YAML values each accepts.
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


class ParameterError(ValueError):
    """A parameter override that does not fit what the notebook declares."""


class ManifestError(ValueError):
    """The manifest itself is malformed."""


@dataclass(frozen=True)
class Declared:
    name: str
    type: str
    default: Any
    help: str = ""


@dataclass
class NotebookSpec:
    name: str
    path: Path
    title: str
    depends_on: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    title: str
    subtitle: str
    notebooks: list[NotebookSpec]
    report_order: list[str]
    # Report-level parameters (e.g. the one analysis date ``as_of``): given to every notebook that declares them.
    shared: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> NotebookSpec:
        for spec in self.notebooks:
            if spec.name == name:
                return spec
        raise ManifestError(f"no notebook named {name!r} in the manifest")


def load_manifest(path: Path | None = None) -> Manifest:
    path = Path(path or paths.MANIFEST)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        specs = [
            NotebookSpec(
                name=item["name"],
                path=paths.ROOT / item["path"],
                title=item["title"],
                depends_on=list(item.get("depends_on") or []),
                parameters=dict(item.get("parameters") or {}),
            )
            for item in raw["notebooks"]
        ]
        manifest = Manifest(
            raw["report"]["title"],
            raw["report"].get("subtitle", ""),
            specs,
            list(raw["report"]["order"]),
            dict(raw["report"].get("parameters") or {}),
        )
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"{path.name}: missing or malformed entry {exc}") from exc
    names = [s.name for s in specs]
    for spec in specs:
        unknown = [d for d in spec.depends_on if d not in names]
        if unknown:
            raise ManifestError(f"{path.name}: notebook {spec.name!r} depends on unknown {unknown}")
    if sorted(manifest.report_order) != sorted(names):
        raise ManifestError(f"{path.name}: report.order must list each notebook once: {names}")
    return manifest


def declared_parameters(notebook: Path) -> dict[str, Declared]:
    """Parameters declared in the notebook's cell tagged ``parameters`` (``name: type = default``)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ManifestError(f"{notebook}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    source = "".join(cells[0]["source"])
    lines = source.splitlines()
    declared: dict[str, Declared] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            type_name = ast.unparse(node.annotation).split("[")[0]
            default = ast.literal_eval(node.value) if node.value is not None else None
            declared[node.target.id] = Declared(node.target.id, type_name, default, _comment_above(lines, node.lineno))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            default = ast.literal_eval(node.value)
            declared[node.targets[0].id] = Declared(
                node.targets[0].id, type(default).__name__, default, _comment_above(lines, node.lineno)
            )
    return declared


def _comment_above(lines: list[str], lineno: int) -> str:
    """The comment lines directly above a parameter: its explanation."""
    out: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        out.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return " ".join(out)


def check_value(notebook: str, declared: Declared, value: Any) -> Any:
    """Return ``value`` if it fits the declared type (ints are accepted for floats), else raise."""
    accepted = _ACCEPTS.get(declared.type)
    if accepted is None:
        return value
    if value is None and declared.default is None:
        return value  # None means "take the default from the data" where the notebook allows it
    if declared.type == "str" and isinstance(value, datetime.date):
        # YAML reads 2026-03-31 as a date; a notebook declares dates as ISO strings, so take the natural spelling.
        value = value.isoformat()
    # bool is a subclass of int in Python; a flag is never a number here.
    wrong = not isinstance(value, accepted) or (isinstance(value, bool) and declared.type in {"int", "float"})
    if wrong:
        raise ParameterError(
            f"parameter '{notebook}.{declared.name}' must be {declared.type} "
            f"(default {declared.default!r}), got {type(value).__name__} {value!r}"
        )
    if declared.type == "list" and not value and declared.default:
        raise ParameterError(
            f"parameter '{notebook}.{declared.name}' must list at least one value (default {declared.default!r})"
        )
    return float(value) if declared.type == "float" else value


def _read_yaml(text: str, where: str):
    """YAML with the safe loader; a syntax error or a tag such as !!python/object is a parameter error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ParameterError(f"{where}: not valid YAML{at}: {problem}") from None


def parse_override(text: str) -> tuple[str | None, str, Any]:
    """Parse ``-p`` text: 'notebook.name=value' or 'name=value'; the value is read as YAML (numbers, lists...)."""
    if "=" not in text:
        raise ParameterError(f"-p {text!r}: expected name=value")
    name, raw = text.split("=", 1)
    value = _read_yaml(raw, f"-p {text!r}") if raw.strip() else ""
    notebook, _, param = name.strip().rpartition(".")
    if not param:
        raise ParameterError(f"-p {text!r}: expected name=value")
    return (notebook or None), param, value


def resolve_parameters(manifest: Manifest, overrides: list[tuple[str | None, str, Any]]) -> dict[str, dict[str, Any]]:
    """Report-level parameters, then each notebook's defaults from the manifest, then the overrides; every name and
    type checked against what the notebooks declare."""
    declared = {spec.name: declared_parameters(spec.path) for spec in manifest.notebooks}
    if manifest.shared and not any(name in params for params in declared.values() for name in manifest.shared):
        raise ManifestError(f"no notebook declares the report-level parameters {sorted(manifest.shared)}")
    resolved: dict[str, dict[str, Any]] = {}
    for spec in manifest.notebooks:
        resolved[spec.name] = {}
        shared = {name: value for name, value in manifest.shared.items() if name in declared[spec.name]}
        for name, value in {**shared, **spec.parameters}.items():
            resolved[spec.name][name] = _checked(spec.name, declared[spec.name], name, value)
    for notebook, name, value in overrides:
        targets = [notebook] if notebook else [n for n, params in declared.items() if name in params]
        if notebook and notebook not in declared:
            raise ParameterError(
                f"unknown notebook {notebook!r} in parameter '{notebook}.{name}'; notebooks: {', '.join(declared)}"
            )
        if not targets:
            raise ParameterError(f"no notebook declares a parameter named {name!r}")
        for target in targets:
            resolved[target][name] = _checked(target, declared[target], name, value)
    return resolved


def _checked(notebook: str, declared: dict[str, Declared], name: str, value: Any) -> Any:
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(f"notebook {notebook!r} declares no parameter {name!r}; it declares: {known}")
    return check_value(notebook, declared[name], value)


def load_parameter_file(path: Path) -> list[tuple[str | None, str, Any]]:
    """A YAML file of overrides: ``{notebook: {name: value}}`` (as the scenarios in ``scenarios/``); the entry
    ``report: {name: value}`` sets a report-level parameter (e.g. ``as_of``) for every notebook that declares it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such parameter file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read the parameter file ({exc})") from None
    raw = _read_yaml(text, str(path)) or {}
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: expected a mapping of notebook -> {{parameter: value}}")
    overrides: list[tuple[str | None, str, Any]] = []
    for notebook, params in raw.items():
        if notebook in {"description", "name"}:
            continue
        if not isinstance(params, dict):
            raise ParameterError(f"{path}: entry {notebook!r} must map parameter names to values")
        target = None if notebook == "report" else notebook
        overrides.extend((target, name, value) for name, value in params.items())
    return overrides
