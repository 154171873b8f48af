"""The summary's first screen as HTML (template ``fragments/bottom_line.html.j2``, autoescaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aicompute.analysis import summary
from aicompute.analysis.records import Record, fmt, source_classes
from aicompute.analysis.verdicts import Verdict
from aicompute.present.display import fragment

QUESTION = (
    "Is today's AI compute boom circular — do the cloud giants' backlogs, the labs' funding and the application "
    "layer's revenue loop back on two customers, OpenAI and Anthropic?"
)
CAVEAT = (
    "most of the clouds' backlog has no named customer, and the labs' parts of it rest largely on press reports of "
    "deals rather than on company disclosures; a verdict here is only as firm as those reports."
)


def card(record: Record, link: str | None, kinds: Mapping[str, str]) -> dict[str, str | None]:
    """One key-number card: the value, its range, what it is, and the classes of the sources behind it."""
    ranged = record.low is not None and record.high is not None and record.low != record.high
    return {
        "value": fmt(record.value, record.unit),
        "range": f"{fmt(record.low, record.unit)}–{fmt(record.high, record.unit)}" if ranged else None,
        "label": record.label,
        "classes": ", ".join(source_classes(record, kinds)) or None,
        "link": link,
    }


def quality_sentence(book: Mapping[str, Record]) -> str:
    """The quality of the four clouds' backlog in one sentence, from the demand-quality chapter's records."""
    firm, needs, unconfirmed, hidden = (book[k] for k in summary.QUALITY_SENTENCE)
    return (
        f"Of the four clouds' {book['quality.backlog_total'].text()} backlog, {firm.text()} is binding and covered by "
        f"its payer's revenue, {needs.text()} is binding but owed by a lab that must raise money to pay it, "
        f"{unconfirmed.text()} rests on deals reported but not confirmed, and {hidden.text()} is owed by customers "
        f"no company names. About {book['quality.end_demand_share'].text()} of the two labs' revenue comes from end "
        "customers rather than from AI companies."
    )


def bottom_line_html(
    book: Mapping[str, Record],
    verdicts: Sequence[Verdict],
    fragile: Sequence[str],
    essay_url: str,
    anchors: Mapping[str, str],
    kinds: Mapping[str, str],
) -> str:
    """The bottom-line block: question, verdict tally, the three headline numbers, quality, biggest caveat."""
    return fragment("bottom_line.html.j2").render(
        question=QUESTION,
        essay_url=essay_url,
        tally=summary.tally_text(verdicts, fragile),
        cards=[card(book[key], anchors.get(key), kinds) for key in summary.HEADLINES],
        quality=quality_sentence(book),
        caveat=CAVEAT,
    )
