"""Key-number records: formatting, writing and reading."""

from __future__ import annotations

import json

import pytest

from aicompute.analysis.records import ChapterResult, RecordBook, fmt, load, merge, save


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (45.3, "pct", "45%"),
        (4.56, "pct", "4.6%"),
        (2090.15, "usd_bn", "$2.09tn"),
        (625.0, "usd_bn", "$625bn"),
        (1.4, "usd_bn", "$1.4bn"),
        (3.0, "ratio", "3.00×"),
        (5.75, "years", "5.8 years"),
        (15.2, "gw", "15.2 GW"),
        (2030.0, "year", "2030"),
        (None, "pct", "unknown"),
        (float("nan"), "usd_bn", "unknown"),
        ("not by 2035", "text", "not by 2035"),
    ],
)
def test_fmt(value, unit, text):
    assert fmt(value, unit) == text


def test_fmt_rejects_unknown_unit():
    with pytest.raises(ValueError, match="unknown unit"):
        fmt(1.0, "furlongs")


def test_record_writes_and_loads(tmp_path):
    book = RecordBook("demo")
    rec = book.record("share", 45.123456789, unit="pct", low=40, high=50, label="A share", sources=["b", "a", "a"])
    assert rec.key == "demo.share" and rec.sources == ["a", "b"] and rec.value == 45.1235
    assert rec.text() == "45% (range 40%–50%)"
    assert book["share"] is rec and book["demo.share"] is rec and "share" in book
    assert load(tmp_path) == {}, "recording alone writes nothing: run() stays pure"
    assert save(ChapterResult(book), tmp_path) == tmp_path / "demo.json"
    loaded = load(tmp_path)
    assert loaded["demo.share"] == rec
    merge(tmp_path, tmp_path / "all.json")
    assert json.loads((tmp_path / "all.json").read_text())["demo.share"]["value"] == 45.1235


def test_record_rejects_unknown_unit(tmp_path):
    with pytest.raises(ValueError, match="unit"):
        RecordBook("demo").record("x", 1, unit="percent", label="x")


def test_source_ids_split_joined_lists_and_drop_blanks():
    from aicompute.analysis.records import source_ids

    assert source_ids(["b, a", "a", None, "", "c"]) == ["a", "b", "c"]


def test_load_never_falls_back_to_the_published_records(tmp_path, monkeypatch):
    monkeypatch.setenv("AICOMPUTE_RECORDS", str(tmp_path / "empty"))
    assert load() == {}


def test_source_classes_strongest_first_and_unknown_ids_ignored():
    from aicompute.analysis.records import Record, source_classes

    record = Record("x.y", 1.0, "pct", "label", sources=["blog", "tenq", "wire", "gone"])
    kinds = {"blog": "commentary", "tenq": "company_filing", "wire": "press_report"}
    assert source_classes(record, kinds) == ["filing", "press", "commentary"]
