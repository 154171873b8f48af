"""``python -m aicompute diff`` on fake chapters and a hand-made published records file."""

from __future__ import annotations

import json
from dataclasses import asdict
from types import SimpleNamespace

import pytest

from aicompute.analysis.records import ChapterResult, RecordBook, moved
from aicompute.analysis.verdicts import PARTLY, SUPPORTED
from aicompute.build.diff import EXIT_MOVED, EXIT_SAME, run_diff
from aicompute.cli import main as cli_main


def fake_run(tables, params):
    book = RecordBook("backlog")
    book.record("combined_share", params["share"], unit="pct", label="share", low=params["share"] - 5)
    book.record("labs_amount", 900.0, unit="usd_bn", label="labs' amount")
    book.record("ex_lab_growth", 60.0, unit="pct", label="ex-lab growth")
    book.record("microsoft_ex_openai_growth_2025q4", 17.0, unit="pct", label="Microsoft ex-OpenAI")
    for provider in ("microsoft", "amazon", "alphabet"):  # C1: mean 40 >= 33 -> partly supported
        book.record(f"labs_share.{provider}", 40.0, unit="pct", label=provider)
    book.record("top_customer_share.nvidia", 21.0, unit="pct", label="Nvidia")  # C10: both high -> partly
    book.record("top_customer_share.coreweave", 67.0, unit="pct", label="CoreWeave")
    return ChapterResult(book)


MODULES = {"backlog": SimpleNamespace(run=fake_run, TABLES=(), CHOICES={}), "circular": SimpleNamespace()}
PARAMS = {"backlog": {"share": 50.0}}


def publish(tmp_path, share=50.0, verdict=SUPPORTED, extra=None):
    records = {k: asdict(v) for k, v in fake_run({}, {"share": share}).records.items()}
    for claim, value in (("C1", PARTLY), ("C3", verdict), ("C10", PARTLY)):
        key = f"summary.verdict.{claim}"
        records[key] = {"key": key, "value": value, "unit": "text", "label": claim}
    records["circular.colossus1_gw"] = {"key": "circular.colossus1_gw", "value": 0.3, "unit": "gw", "label": "x"}
    records.update(extra or {})
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def diff(path, lines, **kwargs):
    return run_diff(path, modules=MODULES, params=PARAMS, tables={}, out=lines.append, **kwargs)


def test_nothing_moved_exits_0_and_skips_chapters_without_run(tmp_path):
    lines: list[str] = []
    assert diff(publish(tmp_path), lines) == EXIT_SAME
    assert any("skipped chapter 'circular'" in line for line in lines)
    assert lines[-1].startswith("Nothing moved beyond 0.5%: 9 records of 1 chapters")


def test_a_move_within_tolerance_is_not_reported(tmp_path):
    lines: list[str] = []
    # 50.2 against 50: 0.4% of 50.2, inside 0.5%; its low 45.2 against 45: 0.44%
    assert diff(publish(tmp_path, share=50.2), lines) == EXIT_SAME


def test_moved_values_and_flipped_verdicts_are_listed(tmp_path):
    lines: list[str] = []
    path = publish(tmp_path, share=40.0, verdict=PARTLY)  # published 40 (low 35) -> partly; now 50 (low 45)
    assert diff(path, lines) == EXIT_MOVED
    text = "\n".join(lines)
    assert "backlog.combined_share  value" in text and "+25.0%" in text  # (50 - 40) / 40
    assert "backlog.combined_share  low" in text  # 35 -> 45
    assert "summary.verdict.C3" in text and "partly supported" in text and "supported" in text
    assert lines[-1] == "3 change(s) beyond 0.5% (1 verdict flip(s))."


def test_missing_and_new_records(tmp_path):
    lines: list[str] = []
    gone = {"backlog.old_key": {"key": "backlog.old_key", "value": 1.0, "unit": "pct", "label": "old"}}
    path = publish(tmp_path, extra=gone)
    published = json.loads(path.read_text(encoding="utf-8"))
    del published["backlog.labs_amount"]  # recomputed but never published: new
    path.write_text(json.dumps(published), encoding="utf-8")
    assert diff(path, lines) == EXIT_MOVED
    rows = "\n".join(lines).splitlines()
    assert any(row.startswith("backlog.old_key") and "missing" in row for row in rows)
    assert any(row.startswith("backlog.labs_amount") and " new " in row and "$900bn" in row for row in rows)


def test_relative_tolerance():
    assert not moved(100.0, 100.5) and moved(100.0, 100.6)
    assert moved(None, 1.0) and moved("2030", "not by 2035") and not moved(0.0, 0.0)


def test_bad_input_exits_2(tmp_path, capsys):
    assert cli_main(["diff", "--records", str(tmp_path / "absent.json")]) == 2
    assert "no published records" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert cli_main(["diff", "--records", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_no_chapter_to_recompute_is_bad_input(tmp_path):
    with pytest.raises(ValueError, match="nothing to recompute"):
        run_diff(publish(tmp_path), modules={"circular": SimpleNamespace()}, params={}, tables={}, out=print)
