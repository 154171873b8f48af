"""How notebooks put text and tables in the report: every data string is escaped, so markup in data shows as text."""

from __future__ import annotations

import datetime
import html
import numbers
import re
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from aicompute.analysis.records import Record, fmt

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def esc(text: object) -> str:
    """Escape a data string for Markdown prose: HTML entities and Markdown punctuation both neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def md(text: str) -> None:
    """Show prose. Numbers come from records (``Record.text()``); data strings must pass through :func:`esc`.

    Dollar signs are escaped: the report's Markdown renderer would otherwise read "$71bn ... $196bn" as LaTeX.
    """
    display(Markdown(text.replace("$", r"\$")))


# Plain-English headers for the column names the chapters use most; anything else is spelled out from snake_case.
COLUMN_LABELS: dict[str, str] = {
    "value_usd_bn": "Value ($bn)",
    "usd_bn": "Amount ($bn)",
    "share_pct": "Share (%)",
    "period_end": "Quarter end",
    "source_id": "Source",
    "sources": "Source",
    "as_of": "As of",
    "n_sources": "Number of sources",
    "n_estimates": "Number of estimates",
    "fiscal_label": "Fiscal quarter",
    "deal_id": "Deal",
    "gw": "Capacity (GW)",
    "capacity_gw": "Capacity (GW)",
}
# Column-name endings that carry a unit: the header says it, and each number is printed with it.
_UNIT_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("usd_bn", "$bn", "usd_bn"),
    ("pct", "%", "pct"),
    ("gw", "GW", "gw"),
    ("years", "years", "years"),
)
_WORDS = {"usd": "USD", "bn": "bn", "id": "ID", "api": "API", "gw": "GW", "rpo": "RPO", "ai": "AI", "vs": "vs"}
NOT_DISCLOSED = "not disclosed"
_MISSING_TEXT = {"", "<na>", "nan", "nat", "none", "null"}
LONG_TABLE_ROWS = 25
_SOURCE_COLUMNS = {"source_id", "sources", "source_ids", "source"}
# Columns holding categories spelt as identifiers (company_reported, cloud_capacity): shown as words.
_CATEGORY_COLUMNS = {"basis", "bases", "kind", "kinds", "status", "statuses", "measure", "type", "edge_type", "tier"}
_IDENTIFIER = re.compile(r"[a-z]+(_[a-z]+)+")


def category_text(text: str) -> str:
    """``company_reported, press_reported`` → ``company reported, press reported``; other text unchanged."""
    return _IDENTIFIER.sub(lambda m: m.group(0).replace("_", " "), text)


def column_unit(column: str) -> str | None:
    """The unit a column's name declares by its ending (``value_usd_bn`` → ``usd_bn``), or None."""
    name = str(column).lower()
    for suffix, _, unit in _UNIT_SUFFIXES:
        if name == suffix or name.endswith("_" + suffix):
            return unit
    return None


def column_label(column: str, labels: dict[str, str] | None = None) -> str:
    """A plain-English header with its unit: ``amount_low_usd_bn`` → "Amount low ($bn)"."""
    if labels and column in labels:
        return labels[column]
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    name = str(column)
    unit_text = ""
    for suffix, text, _ in _UNIT_SUFFIXES:
        if name.lower() == suffix or name.lower().endswith("_" + suffix):
            name, unit_text = name[: -len(suffix)].rstrip("_"), f" ({text})"
            break
    words = [_WORDS.get(word.lower(), word) for word in name.replace("-", "_").split("_") if word]
    if words and words[0] == "n" and len(words) > 1:
        words = ["Number", "of", *words[1:]]
    text = " ".join(words) or str(column)
    return text[:1].upper() + text[1:] + unit_text


def is_missing(value: object) -> bool:
    """None, NaN, NaT, pandas' NA, and the texts those turn into when a column was cast to strings."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in _MISSING_TEXT
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False


def _number_text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.2f}" if abs(value) >= 0.01 else f"{value:.3f}"


def cell_text(value: object, unit: str | None = None) -> str:
    """One table cell in words: 'not disclosed' for missing values, yes/no, YYYY-MM-DD, rounded numbers with units."""
    if is_missing(value):
        return NOT_DISCLOSED
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | datetime.datetime | datetime.date | np.datetime64):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, numbers.Number):
        text = _number_text(float(value))
        if unit == "usd_bn":
            return f"-${text.lstrip('-')}bn" if value < 0 else f"${text}bn"
        if unit == "pct":
            return f"{text}%"
        if unit == "gw":
            return f"{text} GW"
        return text
    if isinstance(value, list | tuple | set):
        return ", ".join(cell_text(v) for v in value) or NOT_DISCLOSED
    if isinstance(value, str) and value in {"True", "False"}:
        return "yes" if value == "True" else "no"
    return str(value)


def _known_sources() -> set[str]:
    from aicompute.analysis import data

    try:
        return set(data.load("sources")["source_id"])
    except Exception:  # noqa: BLE001 - a table outside a project (tests, forks) simply shows ids without links
        return set()


def source_links(text: str, known: set[str]) -> str:
    """Source ids (comma, semicolon or space separated) as links to their rows in the appendix's source list."""
    parts = re.split(r"([,;\s]+)", text)
    out = []
    for part in parts:
        if part in known:
            out.append(f'<a class="source-link" href="#source-{html.escape(part, quote=True)}">{html.escape(part)}</a>')
        else:
            out.append(html.escape(part))
    return "".join(out)


def table_html(
    frame: pd.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    caption: str | None = None,
    open: bool = False,  # noqa: A002 - mirrors the HTML attribute it sets
    max_rows: int = 200,
    known_sources: set[str] | None = None,
) -> str:
    """The HTML :func:`table` shows (see there); separate so it can be tested without a notebook."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table() shows a pandas DataFrame, not {type(frame).__name__}")
    title = caption or "Table"
    if frame.empty:
        what = caption[:1].lower() + caption[1:] if caption else "this table"
        return f'<p class="table-empty">No rows for {html.escape(what)}.</p>'
    total = len(frame)
    frame = frame.head(max_rows)
    formats = formats or {}
    known = _known_sources() if known_sources is None else known_sources
    head = "".join(f"<th scope='col'>{html.escape(column_label(c, labels))}</th>" for c in frame.columns)
    numeric = {
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column in formats and not is_missing(value):
                text = html.escape(formats[column].format(value))
            elif column in _SOURCE_COLUMNS and not is_missing(value):
                text = source_links(cell_text(value), known)
            elif column in _CATEGORY_COLUMNS:
                text = html.escape(category_text(cell_text(value, column_unit(column))))
            else:
                text = html.escape(cell_text(value, column_unit(column)))
            css = ' class="num"' if column in numeric else ""
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    shown = f"{total} rows" if total == len(frame) else f"first {len(frame)} of {total} rows"
    if total == 1:
        shown = "1 row"
    long = total > LONG_TABLE_ROWS
    body = (
        f'<div class="table-scroll{" table-long" if long else ""}" tabindex="0">'
        f'<table class="aicompute-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )
    opened = " open" if open and not long else ""
    return (
        f'<details class="table-block"{opened}><summary><span class="table-caption">{html.escape(title)}</span> '
        f'<span class="table-rows">· {shown}</span></summary>{body}</details>'
    )


def table(
    frame: pd.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    caption: str | None = None,
    labels: dict[str, str] | None = None,
    open: bool = False,  # noqa: A002 - mirrors the HTML attribute it sets
    max_rows: int = 200,
) -> None:
    """Show a DataFrame as a readable table, collapsed in a ``<details>`` whose one-line summary is the caption and
    the row count (``open=True`` shows it open unless it is longer than 25 rows; long tables scroll in their box).

    Headers in plain English with units (:data:`COLUMN_LABELS`, name endings such as ``_usd_bn``/``_pct``, or
    ``labels``); missing values read "not disclosed", flags yes/no, dates YYYY-MM-DD, numbers rounded with units
    (``formats`` gives a column its own pattern); source ids link to the appendix's source list; every value is
    escaped. An empty frame shows a sentence ("No rows for …") instead of an empty table.
    """
    display(HTML(table_html(frame, formats=formats, labels=labels, caption=caption, open=open, max_rows=max_rows)))


def caveat(text: str) -> None:
    """A boxed caveat (text is Markdown written by us, not data)."""
    display(HTML(f'<div class="caveat">{_markdown_inline(text)}</div>'))


def _markdown_inline(text: str) -> str:
    # Our caveats use only **bold**; everything else is escaped.
    escaped = html.escape(text, quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


def cards(records: list[Record], links: dict[str, str] | None = None) -> None:
    """Key-number cards: value, range, label and a link to the chart the number comes from."""
    items = []
    for record in records:
        rng = ""
        if record.low is not None and record.high is not None and record.low != record.high:
            rng = (
                f'<div class="card-range">range {html.escape(fmt(record.low, record.unit))} – '
                f"{html.escape(fmt(record.high, record.unit))}</div>"
            )
        link = (links or {}).get(record.key)
        anchor = f'<a href="#{html.escape(link)}">see chapter</a>' if link else ""
        items.append(
            f'<div class="card"><div class="card-value">{html.escape(fmt(record.value, record.unit))}</div>{rng}'
            f'<div class="card-label">{html.escape(record.label)}</div>{anchor}</div>'
        )
    display(HTML(f'<div class="card-grid">{"".join(items)}</div>'))


def ledger_html(
    verdicts: list,
    claims: pd.DataFrame,
    records: dict[str, Record],
    chapter_links: dict[str, str],
    robustness: dict | None = None,
) -> str:
    """The claims ledger as HTML (template ``fragments/ledger.html.j2``, autoescaped): claim, verdict and, for
    'cannot tell', its reason; robustness across the grid of choices (``{claim: ClaimRobustness}``, from
    :mod:`aicompute.analysis.robustness`); evidence and counter-evidence from records ("none found" when a rule has
    none); the rule's text; the chapter."""

    def quoted(keys: list[str]) -> list[dict[str, str]]:
        return [{"label": records[k].label, "text": records[k].text()} for k in keys if k in records]

    text = claims.set_index("claim_id")["claim"]
    rows = [
        {
            "claim_id": v.claim_id,
            "claim": str(text.get(v.claim_id, "")),
            "verdict": v.verdict,
            "badge": v.verdict.replace(" ", "-"),
            "reason": v.reason,
            "robustness": robustness[v.claim_id].summary() if robustness and v.claim_id in robustness else "not tested",
            "evidence": quoted(v.evidence),
            "counter": quoted(v.counter),
            "rule": v.rule,
            "chapter": v.chapter,
            "link": chapter_links.get(v.chapter),
        }
        for v in verdicts
    ]
    return fragment("ledger.html.j2").render(rows=rows)


def fragment(name: str):
    """A Jinja template from ``present/templates/fragments`` with autoescaping on."""
    import jinja2

    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "fragments")
    return jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=False).get_template(name)
