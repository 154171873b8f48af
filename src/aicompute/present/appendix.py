"""The appendix's building blocks: the data dictionary, the source list and the data files as offline downloads."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd

from aicompute import paths
from aicompute.manifest import declared_parameters, load_manifest


def dictionary_frames(descriptor: dict) -> list[tuple[dict, pd.DataFrame]]:
    """(resource, table of its fields) for every table in the data package."""
    out = []
    for resource in descriptor["resources"]:
        rows = []
        for field in resource["schema"]["fields"]:
            constraints = field.get("constraints", {})
            rules = []
            if constraints.get("required"):
                rules.append("required")
            if "enum" in constraints:
                rules.append("one of: " + ", ".join(constraints["enum"]))
            for key, word in (("minimum", "≥"), ("maximum", "≤")):
                if key in constraints:
                    rules.append(f"{word} {constraints[key]}")
            if "pattern" in constraints:
                rules.append(f"pattern {constraints['pattern']}")
            rows.append(
                {
                    "column": field["name"],
                    "type": field.get("type", "string"),
                    "unit": field.get("unit", ""),
                    "description": field.get("description", ""),
                    "rules": "; ".join(rules),
                }
            )
        out.append((resource, pd.DataFrame(rows)))
    return out


def sources_html(sources: pd.DataFrame) -> str:
    """The full source list as an HTML table with links; every string escaped, only http(s) links."""
    rows = []
    for r in sources.sort_values(["publisher", "source_id"]).itertuples():
        url = str(r.url)
        link = (
            f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{html.escape(str(r.title))}</a>'
            if url.startswith(("http://", "https://"))
            else html.escape(str(r.title))
        )
        published = "no date given" if pd.isna(r.published) else f"{r.published:%Y-%m-%d}"
        rows.append(
            f'<tr id="source-{html.escape(r.source_id, quote=True)}"><td><code>{html.escape(r.source_id)}</code></td>'
            f"<td>{html.escape(str(r.publisher))}</td>"
            f"<td>{link}</td><td>{published}</td><td>{r.accessed:%Y-%m-%d}</td>"
            f"<td>{html.escape(str(r.kind).replace('_', ' '))}</td><td>{'yes' if r.paywalled else 'no'}</td></tr>"
        )
    return (
        "<div class='table-scroll'><table class='aicompute-table sources'><thead><tr><th>Source</th><th>Publisher</th>"
        "<th>Title (link)</th><th>Published</th><th>Accessed</th><th>Kind</th><th>Paywalled</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def downloads_html(files: list[Path]) -> str:
    """Each data file embedded as a download link, so the report stays one file that works offline."""
    items = []
    for file in sorted(files):
        payload = base64.b64encode(file.read_bytes()).decode("ascii")
        mime = "application/json" if file.suffix == ".json" else "text/csv"
        items.append(
            f'<li><a download="{html.escape(file.name)}" href="data:{mime};base64,{payload}">'
            f"{html.escape(file.name)}</a> ({file.stat().st_size / 1024:,.1f} KiB)</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def parameter_text(value: object) -> str:
    """A parameter value as a reader would write it: None means the notebook takes it from the data."""
    if value is None:
        return "from the data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(parameter_text(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def explanation_text(comment: str) -> str:
    """A parameter's comment for readers: Python's None/True/False in words."""
    comment = re.sub(r"\bNone\b", "not set", comment)
    return re.sub(r"\b(True|False)\b", lambda m: "yes" if m.group(1) == "True" else "no", comment)


def parameter_frame(chapter_params: dict[str, dict] | None = None) -> pd.DataFrame:
    """Every parameter each chapter ran with, beside the default its notebook declares, and its explanation.

    ``chapter_params`` is ``{chapter: {name: value}}`` as the build hands it (resolved parameters: report-level,
    manifest, scenario and overrides); a parameter it does not name ran at its declared default. Without it, the
    manifest's values are shown. The appendix itself and the hand-over parameter ``chapter_params`` are left out."""
    manifest = load_manifest()
    rows = []
    for name in manifest.report_order:
        spec = manifest.get(name)
        if name == "appendix":
            continue
        given = spec.parameters if chapter_params is None else chapter_params.get(name, {})
        for declared in declared_parameters(spec.path).values():
            if declared.name == "chapter_params":
                continue
            used = given.get(declared.name, declared.default)
            rows.append(
                {
                    "chapter": name.capitalize(),
                    "parameter": declared.name,
                    "value used": parameter_text(used),
                    "default": parameter_text(declared.default),
                    "changed": used != declared.default,
                    "explanation": explanation_text(declared.help) or "no explanation in the notebook",
                }
            )
    return pd.DataFrame(rows, columns=["chapter", "parameter", "value used", "default", "changed", "explanation"])


def data_files() -> list[Path]:
    return sorted(p for p in paths.DATA.iterdir() if p.suffix in {".csv", ".json"})
