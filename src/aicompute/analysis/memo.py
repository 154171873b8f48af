"""Remembering the choice-independent parts of a chapter across the runs of one robustness grid.

The grid calls a chapter's ``run`` tens of times on the same table objects with different choices; the parts that do
not depend on a given choice (the backlog series, a split at one date, a lab's latest revenue) need computing once
per distinct set of arguments. The cache keys on the *identity* of the DataFrames passed in — and keeps a reference to
them, so an id cannot be reused by another table while the entry lives — plus the other arguments by value (lists,
tuples and dicts compared by content). A memoized function's result is shared by every caller: callers must treat it
as read-only (``assign``/``copy`` before changing a frame); tests compare memoized runs with fresh ones.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

_CACHES: list[OrderedDict] = []


def _key(value: Any) -> Any:
    """A hashable stand-in for one argument: a frame or series by identity, containers by content."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return ("frame", id(value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _key(v)) for k, v in value.items())))
    hash(value)  # anything else must be hashable (a TypeError names the culprit)
    return ("value", type(value).__name__, value)


def _frames(values: Any) -> tuple:
    """Every frame among the arguments, inside lists, tuples and dicts too (the entry keeps them alive)."""
    out: list = []
    for value in values:
        if isinstance(value, pd.DataFrame | pd.Series):
            out.append(value)
        elif isinstance(value, list | tuple):
            out += _frames(value)
        elif isinstance(value, Mapping):
            out += _frames(value.values())
    return tuple(out)


def same_tables(size: int = 64) -> Callable[[Callable], Callable]:
    """Decorator: cache a pure function's result for the same DataFrame objects and equal other arguments."""

    def decorate(fn: Callable) -> Callable:
        entries: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        _CACHES.append(entries)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = (*args, *kwargs.values())
            key = (_key(args), _key(kwargs))
            frames = _frames(values)
            hit = entries.get(key)
            if hit is not None and all(x is y for x, y in zip(hit[0], frames, strict=True)):
                entries.move_to_end(key)
                return hit[1]
            value = fn(*args, **kwargs)
            entries[key] = (frames, value)
            if len(entries) > size:
                entries.popitem(last=False)
            return value

        wrapper.cache_clear = entries.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate


def clear_all() -> None:
    """Forget every remembered result (tests compare a memoized run with a fresh one)."""
    for entries in _CACHES:
        entries.clear()
