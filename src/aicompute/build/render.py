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


# The page ships Vega itself and vega-tooltip's handler, nothing more: every chart is compiled from Vega-Lite to Vega
# at build time, so the browser needs no Vega-Lite compiler (a third of the old bundle) and no vega-embed.
# vl-convert bundles an ES6 snippet against the modules it vendors, which it names by their jsDelivr addresses.
VEGA_TOOLTIP_VERSION = "1.0.0"  # the vega-tooltip vl-convert 1.9 vendors (vega-embed 7.0.2's dependency)


def bundle_snippet(vega_version: str) -> str:
    """The snippet vl-convert bundles: Vega's namespace and the tooltip handler, published on ``window``.

    (vl-convert's own entry module already binds the names ``vega`` and ``vegaEmbed``: ours must differ.)"""
    cdn = "https://cdn.jsdelivr.net/npm"
    return (
        f'import * as vegaModule from "{cdn}/vega@{vega_version}/+esm";\n'
        f'import {{ Handler as TooltipHandler }} from "{cdn}/vega-tooltip@{VEGA_TOOLTIP_VERSION}/+esm";\n'
        "window.vega = vegaModule;\n"
        "window.vegaTooltip = { Handler: TooltipHandler };\n"
    )


# Strings every complete bundle contains (its last statements publish Vega and the tooltip); a cut-off one lacks them.
_BUNDLE_MARKERS = ("window.vega=", "window.vegaTooltip=", "vg-tooltip-element")
_BUNDLE_MIN_BYTES = 400_000


def vega_bundle(notice: Callable[[str], None] = print) -> str:
    """vl-convert's offline bundle of Vega and vega-tooltip, cached on disk (building it takes ~3 s).

    The cached copy is written atomically with its sha256 beside it and checked before use; a damaged copy is
    rebuilt (vl-convert can always regenerate it), so a page never ships with a bundle that cannot draw.
    """
    import vl_convert as vlc

    snippet = bundle_snippet(vlc.get_vega_version())
    # The snippet names the versions; its hash keys the cache, so a changed snippet rebuilds the bundle.
    key = hashlib.sha256(snippet.encode("utf-8")).hexdigest()[:12]
    cache = paths.user_cache() / f"vega-bundle-{vlc.get_vega_version()}-{key}.js"
    bundle = _checked_bundle(cache)
    if bundle is None:
        if cache.exists():
            notice(f"cache: the Vega bundle {cache} was damaged; rebuilt.")
        bundle = vlc.javascript_bundle(snippet)
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


def chart_title(spec: dict) -> tuple[str, list[str]]:
    """The chart's title and subtitle lines: the top-level title, else the first one found in its layers/concats."""
    title = spec.get("title")
    if isinstance(title, str):
        return title, []
    if isinstance(title, dict) and title.get("text"):
        text = title["text"]
        subtitle = title.get("subtitle") or []
        return (" ".join(text) if isinstance(text, list) else str(text)), (
            [subtitle] if isinstance(subtitle, str) else [str(line) for line in subtitle]
        )
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for child in spec.get(key) or []:
            if isinstance(child, dict):
                found = chart_title(child)
                if found[0]:
                    return found
    return "", []


def chart_caption(subtitle: list[str]) -> str:
    """The visible caption under a chart: the subtitle's source/date line ("Source: … · as of …").

    The subtitle's last line carries it by convention; if a line names its sources mid-sentence, the caption starts
    at "Source"; with no such line, the last line."""
    for line in reversed(subtitle):
        at = line.find("Source")
        if at >= 0:
            return line[at:].strip()
    return subtitle[-1].strip() if subtitle else ""


def chart_label(spec: dict, name: str) -> str:
    """The accessible description of a chart: its title and subtitle (or its description, or its name)."""
    title, subtitle = chart_title(spec)
    text = " ".join(part.strip() for part in [title, *subtitle] if part and part.strip())
    return text or str(spec.get("description") or "") or f"Chart: {name.replace('-', ' ')}"


def chapter_heading(cells: list[dict], fallback: str) -> str:
    """The chapter's title as its notebook writes it: the first level-1 Markdown heading in its cells' sources."""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            if line.startswith("# "):
                return re.sub(r"[*_`]", "", line[2:]).strip()
    return fallback


def navigation(manifest: Manifest, executed: dict[str, dict]) -> list[dict[str, str]]:
    """One entry per chapter, in report order: its anchor and its heading (from the notebook, not the page)."""
    return [
        {"href": f"#chapter-{name}", "text": chapter_heading(executed[name]["cells"], manifest.get(name).title)}
        for name in manifest.report_order
    ]


def _is_bottom_line(cell: dict) -> bool:
    """A cell that shows the summary's bottom line (``<div class="bottom-line">``), in its source or its output."""
    texts = [cell["source"] if isinstance(cell.get("source"), str) else "".join(cell.get("source", []))]
    for output in cell.get("outputs", []):
        html_text = output.get("data", {}).get("text/html", "")
        texts.append(html_text if isinstance(html_text, str) else "".join(html_text))
    marker = re.compile(r"""class=["'][^"']*\bbottom-line\b""")
    return any(marker.search(text) for text in texts[1:]) or (
        cell.get("cell_type") == "markdown" and bool(marker.search(texts[0]))
    )


def merged_notebook(manifest: Manifest, executed: dict[str, dict]) -> dict:
    """One notebook: the chapters in report order, each behind an anchor; the bottom line first; every chart output
    given its anchor, accessible label and caption."""
    first = executed[manifest.report_order[0]]
    merged = {"cells": [], "metadata": copy.deepcopy(first["metadata"]), "nbformat": 4, "nbformat_minor": 5}
    bottom_line: list[dict] = []
    for name in manifest.report_order:
        cells = [c for c in executed[name]["cells"] if not _HIDDEN_TAGS & set(c.get("metadata", {}).get("tags", []))]
        merged["cells"].append(
            {
                "cell_type": "markdown",
                "id": f"{name}-anchor",
                "metadata": {},
                "source": f'<div id="chapter-{html.escape(name)}" class="chapter-anchor"></div>',
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
                    chart = meta.get("name") or f"chart-{charts}"
                    spec = output["data"][MIMETYPE]
                    output["metadata"][MIMETYPE] = {
                        **meta,
                        "anchor": f"chart-{name}--{chart}",
                        "label": chart_label(spec, chart),
                        "caption": chart_caption(chart_title(spec)[1]),
                    }
            # The answer comes first: the summary's bottom line sits right under the page header.
            if not bottom_line and _is_bottom_line(cell):
                bottom_line.append(cell)
                continue
            merged["cells"].append(cell)
    merged["cells"][:0] = bottom_line
    return merged


def compiled_for_the_page(merged: dict) -> dict:
    """The merged notebook with every chart's Vega-Lite spec compiled to Vega (in its metadata, beside the spec) and
    the values its reset control restores: the page draws with Vega alone. The executed chapters keep Vega-Lite."""
    import vl_convert as vlc

    from aicompute.present.interactive import central_values
    from aicompute.present.output import VEGA_LITE_VERSION

    page = copy.deepcopy(merged)
    for cell in page["cells"]:
        for output in cell.get("outputs", []):
            spec = output.get("data", {}).get(MIMETYPE)
            if spec is None:
                continue
            meta = output.setdefault("metadata", {}).setdefault(MIMETYPE, {})
            meta["vega"] = vlc.vegalite_to_vega(spec, vl_version=VEGA_LITE_VERSION)
            central = central_values(spec)
            if central:
                meta["central"] = central
    return page


_HEADING_ID = re.compile(r'<h([1-6]) id="([^"]*)">(.*?)<a class="anchor-link" href="#[^"]*">', re.DOTALL)


def unique_heading_ids(page: str) -> str:
    """Give every heading a unique id (chapters repeat headings such as 'Caveats'): duplicate ids are invalid HTML
    and would send a link to the first chapter's heading."""
    used: dict[str, int] = {}

    def unique(match: re.Match) -> str:
        level, anchor, text = match.group(1), match.group(2), match.group(3)
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor]}"
        return f'<h{level} id="{anchor}">{text}<a class="anchor-link" href="#{anchor}">'

    return _HEADING_ID.sub(unique, page)


def analysis_date(manifest: Manifest, parameters: dict[str, dict]) -> str:
    """The report-level ``as_of`` the chapters ran with (several values joined if a chapter was given its own)."""
    dates = sorted({str(p["as_of"]) for p in parameters.values() if "as_of" in p})
    if not dates:
        return str(manifest.shared.get("as_of", "not set"))
    return " / ".join(dates)


def render_html(
    merged: dict,
    *,
    title: str,
    subtitle: str,
    as_of: str,
    newest_source: str,
    scenario: str,
    show_code: bool,
    chapters: list[dict[str, str]] | None = None,
) -> str:
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
            "newest_source": newest_source,
            "scenario": scenario,
            "chapters": chapters or [],
            "mimetype": MIMETYPE,
            "css": (TEMPLATES / "aicompute" / "report.css").read_text(encoding="utf-8"),
            "vega_bundle": vega_bundle(),
        },
    }
    # reads() normalises the JSON form (sources as lists of lines) into the node form nbconvert expects.
    node = nbformat.reads(json.dumps(compiled_for_the_page(merged)), as_version=4)
    body, _ = exporter.from_notebook_node(node, resources=resources)
    return unique_heading_ids(body)


def render_report(
    manifest: Manifest, parameters: dict[str, dict], stage: Path, *, show_code: bool, scenario: str
) -> Path:
    from aicompute.analysis.data import as_of_date

    executed = {
        name: json.loads((stage / "executed" / f"{name}.ipynb").read_text(encoding="utf-8"))
        for name in manifest.report_order
    }
    page = render_html(
        merged_notebook(manifest, executed),
        title=manifest.title,
        subtitle=manifest.subtitle,
        as_of=analysis_date(manifest, parameters),
        newest_source=as_of_date().strftime("%Y-%m-%d"),
        chapters=navigation(manifest, executed),
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
