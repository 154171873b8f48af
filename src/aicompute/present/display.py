"""How notebooks put text and tables in the report: every data string is escaped, so markup in data shows as text."""

from __future__ import annotations

import html
import re
from pathlib import Path

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


def table(
    frame: pd.DataFrame, *, formats: dict[str, str] | None = None, caption: str | None = None, max_rows: int = 200
) -> None:
    """Show a DataFrame as an HTML table; values are escaped, missing numbers read 'unknown'."""
    frame = frame.head(max_rows).copy()
    for column, pattern in (formats or {}).items():
        frame[column] = frame[column].map(lambda v, p=pattern: "unknown" if pd.isna(v) else p.format(v))
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d").fillna("")
    body = frame.to_html(index=False, escape=True, na_rep="", border=0, classes="aicompute-table")
    head = f"<p><strong>{html.escape(caption)}</strong></p>" if caption else ""
    display(HTML(head + body))


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
    return _fragment("ledger.html.j2").render(rows=rows)


def _fragment(name: str):
    """A Jinja template from ``present/templates/fragments`` with autoescaping on."""
    import jinja2

    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "fragments")
    return jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=False).get_template(name)
