"""Merge the executed notebooks into one self-contained, offline HTML page: ``report/index.html``."""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from aicompute import paths
from aicompute.analysis.records import merge as merge_records
from aicompute.build.cache import write_atomically
from aicompute.manifest import Manifest
from aicompute.present.output import MIMETYPE

TEMPLATES = paths.PACKAGE / "present" / "templates"
_HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell"}


# Strings every complete bundle contains (its last statement defines vegaEmbed); a cut-off bundle lacks them.
_BUNDLE_MARKERS = ("window.vegaEmbed=", "vegaLite")
_BUNDLE_MIN_BYTES = 500_000


def vega_bundle(notice: Callable[[str], None] = print) -> str:
    """vl-convert's offline Vega/Vega-Lite/vega-embed bundle, cached on disk (building it takes ~2 s).

    The cached copy is written atomically with its sha256 beside it and checked before use; a damaged copy is
    rebuilt (vl-convert can always regenerate it), so a page never ships with a bundle that cannot draw.
    """
    import vl_convert as vlc

    versions = f"{vlc.get_vega_version()}-{vlc.get_vega_embed_version()}-{vlc.get_vegalite_versions()[-1]}"
    cache = paths.user_cache() / f"vega-bundle-{versions}.js"
    bundle = _checked_bundle(cache)
    if bundle is None:
        if cache.exists():
            notice(f"cache: the Vega bundle {cache} was damaged; rebuilt.")
        bundle = vlc.javascript_bundle()
        if not _looks_complete(bundle):
            raise RuntimeError("vl-convert returned an incomplete Vega bundle")
        write_atomically(cache, bundle)
        write_atomically(_checksum_file(cache), hashlib.sha256(bundle.encode("utf-8")).hexdigest() + "\n")
    # The bundle is inlined in a <script>; a literal closing tag inside it would end the script early.
    return re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)


def _checksum_file(cache: Path) -> Path:
    return cache.with_name(cache.name + ".sha256")


def _looks_complete(bundle: str) -> bool:
    return len(bundle) >= _BUNDLE_MIN_BYTES and all(marker in bundle for marker in _BUNDLE_MARKERS)


def _checked_bundle(cache: Path) -> str | None:
    """The cached bundle if it matches the sha256 recorded when it was written, else None."""
    try:
        raw = cache.read_bytes()
        expected = _checksum_file(cache).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != expected:
        return None
    try:
        bundle = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return bundle if _looks_complete(bundle) else None


def parameters_cell(name: str, parameters: dict) -> dict:
    rows = (
        "".join(
            f"<tr><td><code>{html.escape(key)}</code></td><td><code>{html.escape(json.dumps(value))}</code></td></tr>"
            for key, value in sorted(parameters.items())
        )
        or "<tr><td colspan='2'>none</td></tr>"
    )
    source = (
        f'<details class="chapter-params" id="params-{html.escape(name)}"><summary>Parameters this chapter ran with'
        f"</summary><table><thead><tr><th>parameter</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
        "</details>"
    )
    return {"cell_type": "markdown", "id": f"{name}-params", "metadata": {}, "source": source}


def merged_notebook(manifest: Manifest, executed: dict[str, dict], parameters: dict[str, dict]) -> dict:
    """One notebook: the chapters in report order, parameter cells replaced by a table of the values used."""
    first = executed[manifest.report_order[0]]
    merged = {"cells": [], "metadata": copy.deepcopy(first["metadata"]), "nbformat": 4, "nbformat_minor": 5}
    for name in manifest.report_order:
        cells = [c for c in executed[name]["cells"] if not _HIDDEN_TAGS & set(c.get("metadata", {}).get("tags", []))]
        merged["cells"].append(
            {
                "cell_type": "markdown",
                "id": f"{name}-anchor",
                "metadata": {},
                "source": f'<div id="chapter-{html.escape(name)}"></div>',
            }
        )
        charts = 0
        for index, cell in enumerate(cells):
            cell = copy.deepcopy(cell)
            cell["id"] = f"{name}-{index}"
            for output in cell.get("outputs", []):
                if MIMETYPE in output.get("data", {}):
                    charts += 1
                    meta = output.setdefault("metadata", {}).setdefault(MIMETYPE, {}) or {}
                    output["metadata"][MIMETYPE] = {
                        **meta,
                        "anchor": f"chart-{name}--{meta.get('name') or f'chart-{charts}'}",
                    }
            merged["cells"].append(cell)
            if index == 0:
                merged["cells"].append(parameters_cell(name, parameters[name]))
    return merged


_HEADING = re.compile(r'<h([12]) id="([^"]*)">(.*?)<a class="anchor-link" href="#[^"]*">', re.DOTALL)


def add_table_of_contents(page: str) -> str:
    """Give every h1/h2 a unique id (chapters repeat headings such as 'Caveats') and list them in the TOC."""
    used: dict[str, int] = {}
    entries: list[tuple[int, str, str]] = []

    def unique(match: re.Match) -> str:
        level, anchor, text = match.group(1), match.group(2), match.group(3)
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor]}"
        entries.append((int(level), anchor, re.sub(r"<[^>]+>", "", text).strip()))
        return f'<h{level} id="{anchor}">{text}<a class="anchor-link" href="#{anchor}">'

    page = _HEADING.sub(unique, page)
    toc = ["<strong>Contents</strong><ol>"]
    open_sub = False
    for level, anchor, text in entries:
        if level == 1:
            if open_sub:
                toc.append("</ol></li>")
                open_sub = False
            toc.append(f'<li><a href="#{anchor}">{text}</a>')
        else:
            if not open_sub:
                toc.append("<ol>")
                open_sub = True
            toc.append(f'<li><a href="#{anchor}">{text}</a></li>')
    if open_sub:
        toc.append("</ol>")
    toc.append("</li></ol>" if entries else "</ol>")
    return page.replace("<!--AICOMPUTE-TOC-->", "".join(toc), 1)


def render_html(merged: dict, *, title: str, subtitle: str, as_of: str, scenario: str, show_code: bool) -> str:
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    priority = HTMLExporter().default_config["NbConvertBase"]["display_data_priority"]
    config = Config({"NbConvertBase": {"display_data_priority": [MIMETYPE, *priority]}})
    exporter = HTMLExporter(
        config=config,
        template_name="aicompute",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "metadata": {"name": title},
        "aicompute": {
            "title": title,
            "subtitle": subtitle,
            "as_of": as_of,
            "scenario": scenario,
            "mimetype": MIMETYPE,
            "css": (TEMPLATES / "aicompute" / "report.css").read_text(encoding="utf-8"),
            "vega_bundle": vega_bundle(),
        },
    }
    # reads() normalises the JSON form (sources as lists of lines) into the node form nbconvert expects.
    node = nbformat.reads(json.dumps(merged), as_version=4)
    body, _ = exporter.from_notebook_node(node, resources=resources)
    return add_table_of_contents(body)


def render_report(
    manifest: Manifest, parameters: dict[str, dict], stage: Path, *, show_code: bool, scenario: str
) -> Path:
    from aicompute.analysis.data import as_of_date

    executed = {
        name: json.loads((stage / "executed" / f"{name}.ipynb").read_text(encoding="utf-8"))
        for name in manifest.report_order
    }
    page = render_html(
        merged_notebook(manifest, executed, parameters),
        title=manifest.title,
        subtitle=manifest.subtitle,
        as_of=as_of_date().strftime("%Y-%m-%d"),
        scenario=scenario,
        show_code=show_code,
    )
    report = stage / "report"
    (report / "notebooks").mkdir(parents=True, exist_ok=True)
    (report / "index.html").write_text(page, encoding="utf-8")
    for name in manifest.report_order:
        shutil.copyfile(stage / "executed" / f"{name}.ipynb", report / "notebooks" / f"{name}.ipynb")
    merge_records(stage / "records", report / "records.json")
    return report / "index.html"
