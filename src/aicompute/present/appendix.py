"""The appendix's building blocks: the data dictionary, the source list and the data files as offline downloads."""

from __future__ import annotations

import base64
import html
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
        published = "" if pd.isna(r.published) else f"{r.published:%Y-%m-%d}"
        rows.append(
            f"<tr><td><code>{html.escape(r.source_id)}</code></td><td>{html.escape(str(r.publisher))}</td>"
            f"<td>{link}</td><td>{published}</td><td>{r.accessed:%Y-%m-%d}</td>"
            f"<td>{html.escape(str(r.kind))}</td><td>{'yes' if r.paywalled else 'no'}</td></tr>"
        )
    return (
        "<table class='aicompute-table'><thead><tr><th>id</th><th>publisher</th><th>title (link)</th>"
        "<th>published</th><th>accessed</th><th>kind</th><th>paywalled</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
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


def parameter_frame() -> pd.DataFrame:
    """Every notebook parameter: its default in the manifest, its type and its explanation."""
    manifest = load_manifest()
    rows = []
    for spec in manifest.notebooks:
        for declared in declared_parameters(spec.path).values():
            value = spec.parameters.get(declared.name, declared.default)
            rows.append(
                {
                    "chapter": spec.name,
                    "parameter": declared.name,
                    "type": declared.type,
                    "default": "from the data" if value is None else repr(value),
                    "explanation": declared.help,
                }
            )
    return pd.DataFrame(rows)


def data_files() -> list[Path]:
    return sorted(p for p in paths.DATA.iterdir() if p.suffix in {".csv", ".json"})
