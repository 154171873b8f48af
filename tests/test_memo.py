"""The grid's cache: the same table objects and arguments give the remembered result; anything else recomputes."""

from __future__ import annotations

import pandas as pd

from aicompute.analysis.memo import same_tables

calls: list[tuple] = []


@same_tables(size=2)
def total(frame: pd.DataFrame, column: str) -> float:
    calls.append((id(frame), column))
    return float(frame[column].sum())


def test_same_objects_hit_equal_copies_and_other_arguments_recompute():
    calls.clear()
    a = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    assert total(a, "x") == 3.0 and total(a, "x") == 3.0
    assert len(calls) == 1  # the second call was remembered
    assert total(a, "y") == 7.0 and len(calls) == 2  # another argument: computed
    b = a.copy()  # equal content, another object: computed (the key is identity, never content)
    assert total(b, "x") == 3.0 and len(calls) == 3
    total(a, "y"), total(b, "x"), total(a, "x")  # size 2: the oldest entry was dropped
    assert len(calls) == 4


kw_calls: list[tuple] = []


@same_tables()
def scaled(frame: pd.DataFrame, columns: list[str], *, factors: dict[str, float]) -> float:
    kw_calls.append(tuple(columns))
    return float(sum(frame[c].sum() * factors[c] for c in columns))


def test_lists_and_dicts_are_keys_by_content_and_keywords_count():
    kw_calls.clear()
    a = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    assert scaled(a, ["x", "y"], factors={"x": 1.0, "y": 10.0}) == 73.0
    assert scaled(a, ["x", "y"], factors={"y": 10.0, "x": 1.0}) == 73.0  # equal dict, other order: remembered
    assert len(kw_calls) == 1
    assert scaled(a, ["x", "y"], factors={"x": 2.0, "y": 10.0}) == 76.0  # another value inside the dict: computed
    assert scaled(a, ["y", "x"], factors={"x": 1.0, "y": 10.0}) == 73.0  # list order is part of the key
    assert len(kw_calls) == 3


def test_an_unhashable_argument_is_refused_by_name():
    import pytest

    with pytest.raises(TypeError, match="set"):
        total(pd.DataFrame({"x": [1.0]}), {"x"})


def test_a_frame_inside_a_dict_is_kept_alive_so_its_id_cannot_be_reused():
    from aicompute.analysis.memo import _frames

    inner = pd.DataFrame({"x": [1.0]})
    assert _frames(({"rows": inner, "n": 1}, [inner], "text")) == (inner, inner)


def test_frames_read_from_a_result_are_the_readers_own_and_later_frames_are_built_once():
    from aicompute.analysis.records import ChapterResult, Later, RecordBook

    shared = pd.DataFrame({"x": [1.0]})
    built: list[int] = []
    result = ChapterResult(
        RecordBook("demo"),
        {"shared": shared, "later": Later(lambda: built.append(1) or pd.DataFrame({"y": [2.0]})), "n": 3},
    )
    assert built == []  # nothing read yet: a grid run never builds it
    mine = result.frames["shared"]
    mine["added"] = 0.0
    assert list(shared.columns) == ["x"]  # the remembered frame is untouched
    assert result.frames["later"]["y"].tolist() == [2.0] and result.frames["later"] is not result.frames["later"]
    assert built == [1] and result.frames["n"] == 3 and dict(result.frames)["shared"] is not shared
    assert {**result.frames}["shared"] is not shared


def test_every_chapter_gives_the_same_records_from_remembered_parts_as_from_a_fresh_start():
    """The grid's memo must change no number: each chapter runs its centre, then its last specification twice (a
    caller changing a remembered frame would show in the second run), then once more with every remembered result
    forgotten; all must agree record by record."""
    from aicompute.analysis import report
    from aicompute.analysis.memo import clear_all
    from aicompute.analysis.robustness import factorial

    runners = report.runners(notice=lambda _: None)
    centre = report.complete_parameters({}, tuple(runners))
    tables = report.tables_for(runners)
    for name, runner in runners.items():
        own = {t: tables[t] for t in runner.tables}
        specs, _ = factorial(runner.choices, centre[name])
        settings = report.GRID_SETTINGS.get(name, {})
        first, last = ({**centre[name], **settings, **spec} for spec in (specs[0], specs[-1]))
        runner.run(own, first)
        warm = runner.run(own, last).records
        again = runner.run(own, last).records
        clear_all()
        fresh = runner.run(own, last).records
        assert warm == fresh and again == fresh, name
        assert len(warm) > 10, name
