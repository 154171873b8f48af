"""Remembering the choice-independent part of a chapter across the runs of one robustness grid.

The grid calls a chapter's ``run`` tens of times on the same table objects with different choices; the parts that do
not depend on those choices (a whole-factorial range, the backlog split a later chapter reuses) need computing once.
The cache keys on the *identity* of the DataFrames passed in — and keeps a reference to them, so an id cannot be
reused by another table while the entry lives — plus the other (hashable) arguments. Results must be treated as
read-only.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd


def same_tables(size: int = 8) -> Callable[[Callable], Callable]:
    """Decorator: cache a pure function's result for the same DataFrame objects and equal other arguments."""

    def decorate(fn: Callable) -> Callable:
        entries: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()

        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            frames = tuple(a for a in args if isinstance(a, pd.DataFrame))
            key = tuple(("frame", id(a)) if isinstance(a, pd.DataFrame) else ("value", a) for a in args)
            hit = entries.get(key)
            if hit is not None and all(x is y for x, y in zip(hit[0], frames, strict=True)):
                entries.move_to_end(key)
                return hit[1]
            value = fn(*args)
            entries[key] = (frames, value)
            if len(entries) > size:
                entries.popitem(last=False)
            return value

        wrapper.cache_clear = entries.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
