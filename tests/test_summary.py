"""What the summary quotes: ratios from the very records they name, the tally, and the default-vs-latest comparison."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from aicompute import paths
from aicompute.analysis import summary
from aicompute.analysis.records import Record
from aicompute.analysis.verdicts import CANNOT_TELL, NOT_SUPPORTED, PARTLY, SUPPORTED, Verdict

FIXTURE = Path(__file__).parent / "fixtures" / "records_published.json"


def records(path: Path = FIXTURE) -> dict[str, Record]:
    return {key: Record(**item) for key, item in json.loads(path.read_text(encoding="utf-8")).items()}


@pytest.mark.parametrize("path", [FIXTURE, paths.REPORT / "records.json"], ids=["fixture", "published report"])
def test_every_quoted_ratio_is_recomputed_from_its_own_records(path):
    """A reader who recomputes a ratio in the summary from report/records.json gets the number printed."""
    assert summary.ratio_mismatches(records(path)) == []


def test_a_ratio_whose_parts_come_from_different_cases_fails():
    book = records()
    # The coverage quoted against the Monte Carlo median while its parts are central-case records: 22% of $262bn is
    # not 58.5 / 305.5 = 19%.
    mixed = summary.Ratio("absorption.labs_cover", "absorption.labs_revenue", "absorption.required_revenue_mc")
    assert summary.ratio_mismatches(book, [mixed]) != []
    # Hand-worked: 58.4667 / 262.431 × 100 = 22.279 (the published labs_cover).
    good = summary.QUOTED_RATIOS[0]
    assert good.recomputed(book) == pytest.approx(book["absorption.labs_cover"].value, rel=1e-4)


def verdict(claim: str, value: str) -> Verdict:
    return Verdict(claim, value, rule="")


def test_tally_in_ladder_order_and_its_text():
    verdicts = [verdict("C1", PARTLY), verdict("C2", SUPPORTED), verdict("C3", PARTLY), verdict("C4", CANNOT_TELL)]
    assert summary.tally(verdicts) == {SUPPORTED: 1, PARTLY: 2, CANNOT_TELL: 1}
    assert summary.tally_text(verdicts, ["C3"]) == (
        f"4 claims: 1 supported, 2 partly supported, 1 {CANNOT_TELL}. "
        "1 of them change under a single defensible choice (C3)."
    )


def test_changes_and_flips_between_two_runs():
    book = records()
    later = dict(book)
    share = book["backlog.combined_share"]
    later["backlog.combined_share"] = dataclasses.replace(share, value=share.value + 5)  # moved
    later["absorption.labs_cover"] = dataclasses.replace(book["absorption.labs_cover"])  # unchanged
    moved = summary.changes(book, later)
    assert [m.key for m in moved] == ["backlog.combined_share"]
    assert summary.flips([verdict("C3", SUPPORTED), verdict("C6", NOT_SUPPORTED)],
                         [verdict("C3", PARTLY), verdict("C6", NOT_SUPPORTED)]) == [("C3", SUPPORTED, PARTLY)]


def test_the_summary_quotes_the_numbers_it_names():
    """The executed summary prints each headline and quoted ratio as its record's text (no number typed by hand)."""
    executed = paths.REPORT / "notebooks" / "summary.ipynb"
    nb = json.loads(executed.read_text(encoding="utf-8"))
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False).replace("\\\\$", "$")
    book = records(paths.REPORT / "records.json")
    for key in [*summary.HEADLINES, *summary.QUALITY_SENTENCE, *(r.ratio for r in summary.QUOTED_RATIOS)]:
        assert book[key].text() in text, key
