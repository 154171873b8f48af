"""The one tornado (analysis.sensitivity), shared by the absorption and pass-through models."""

from __future__ import annotations

import pytest

from aicompute.analysis import sensitivity


def area(p: dict) -> float:
    return p["width"] * p["height"]


def test_tornado_hand_worked_and_ordered_by_swing():
    frame = sensitivity.tornado(area, {"width": 2.0, "height": 3.0}, {"width": (1.0, 4.0), "height": (2.0, 4.0)})
    # width 1 -> 3, width 4 -> 12 (swing 9); height 2 -> 4, height 4 -> 8 (swing 4); base 6.
    assert list(frame["assumption"]) == ["width", "height"]
    assert frame.iloc[0][["at_low", "at_high", "swing", "base"]].tolist() == [3.0, 12.0, 9.0, 6.0]
    assert frame.iloc[1][["at_low", "at_high", "swing"]].tolist() == [4.0, 8.0, 4.0]


def test_tornado_rejects_inputs_the_model_lacks():
    with pytest.raises(ValueError, match="depth"):
        sensitivity.tornado(area, {"width": 2.0, "height": 3.0}, {"depth": (1.0, 2.0)})
