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
