"""One-at-a-time sensitivity (the tornado), shared by every chapter that has a model with named inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd


def tornado(
    model: Callable[[dict[str, float]], float],
    base: Mapping[str, float],
    ranges: Mapping[str, tuple[float, float]],
) -> pd.DataFrame:
    """The model's result with each input at the low and the high end of its range, the others at ``base``.

    ``model`` takes a dict of inputs (``base`` with one input changed) and returns one number. Rows come biggest
    swing first, with columns assumption, low_value, high_value, at_low, at_high, base (the result at ``base``) and
    swing (|at_high - at_low|).
    """
    unknown = [name for name in ranges if name not in base]
    if unknown:
        raise ValueError(f"tornado ranges name inputs the model does not have: {unknown}")
    centre = float(model(dict(base)))
    rows = []
    for name, (low, high) in ranges.items():
        at_low, at_high = (float(model({**base, name: value})) for value in (low, high))
        rows.append(
            {
                "assumption": name,
                "low_value": low,
                "high_value": high,
                "at_low": at_low,
                "at_high": at_high,
                "base": centre,
                "swing": abs(at_high - at_low),
            }
        )
    columns = ["assumption", "low_value", "high_value", "at_low", "at_high", "base", "swing"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
