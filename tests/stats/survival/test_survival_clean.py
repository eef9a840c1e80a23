"""Cleaning digitised points: each fix reported, anything bigger than noise refused."""

from __future__ import annotations

import pytest

from postcart.errors import InputError
from postcart.stats.survival import clean_curve, isotonic_nonincreasing


def test_clean_curve_passes_untouched() -> None:
    c = clean_curve([0, 1, 1, 2], [1, 1, 0.8, 0.8])
    assert c.time.tolist() == [0, 1, 1, 2]
    assert c.steps == ("survival read as a proportion",)


def test_percent_is_detected_and_reported() -> None:
    c = clean_curve([0, 1, 2], [100, 80, 50])
    assert c.unit == "percent"
    assert c.surv.tolist() == [1.0, 0.8, 0.5]
    assert "percent" in c.steps[0]


def test_noise_is_fixed_and_each_fix_reported() -> None:
    c = clean_curve([-0.01, 1.0, 0.99, 2.0, 3.0], [1.004, 0.80, 0.81, 0.71, 0.72])
    text = " | ".join(c.steps)
    assert "slightly below 0" in text
    assert "above 1" in text
    assert "sorted by time" in text
    assert "isotonic correction" in text
    assert all(b <= a for a, b in zip(c.surv[:-1], c.surv[1:], strict=True))
    assert c.time[0] == 0.0
    assert c.surv[0] == 1.0


def test_origin_added_and_reported() -> None:
    c = clean_curve([0.5, 1.0], [0.9, 0.8])
    assert c.time.tolist() == [0.0, 0.5, 1.0]
    assert "origin (0, 1) added" in c.steps


@pytest.mark.parametrize(
    ("time", "surv", "message"),
    [
        ([0, 1, 2], [1, 0.5, 1.2], "row 3, column 'survival': 1.2 is above 1"),
        ([0, -1, 2], [1, 0.5, 0.4], "row 2, column 'time'"),
        ([0, 1, 10], [1, 0.3, 0.6], "rises by 0.3"),
        ([0, 1], [0.8, 0.7], "starts at 0.8"),
        ([0, float("nan")], [1, 0.5], "row 2, column 'time': missing"),
        ([], [], "no points"),
        ([0, 1], [1], "has 1 values"),
        ([0, 1, 2], [100, 80, 120], "row 3, column 'survival': 120 is above 1"),
    ],
)
def test_defects_beyond_noise_are_errors(time, surv, message) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clean_curve(time, surv)


def test_isotonic_is_the_pooled_mean_of_violators() -> None:
    import numpy as np

    out = isotonic_nonincreasing(np.array([1.0, 0.8, 0.9, 0.5]))
    assert out.tolist() == pytest.approx([1.0, 0.85, 0.85, 0.5])
