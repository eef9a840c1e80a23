"""Input checks: every message names the row (1-based) and the column."""

from __future__ import annotations

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats._checks import (
    as_vector,
    check_counts,
    check_level,
    check_variances,
    same_length,
)


def test_as_vector_accepts_scalars_and_lists() -> None:
    assert as_vector(3, "yi").tolist() == [3.0]
    assert as_vector([1, 2], "yi").tolist() == [1.0, 2.0]


def test_as_vector_names_first_missing_row() -> None:
    with pytest.raises(InputError, match=r"row 3, column 'vi'"):
        as_vector([0.1, 0.2, float("nan"), float("inf")], "vi")


def test_as_vector_rejects_text_and_matrices() -> None:
    with pytest.raises(InputError, match="not numeric"):
        as_vector(["a"], "yi")
    with pytest.raises(InputError, match="1-D"):
        as_vector([[1.0, 2.0]], "yi")


def test_counts_message_matches_contract() -> None:
    with pytest.raises(InputError, match=r"^row 4, column 'xi': 27 events > ni = 20$"):
        check_counts(np.array([1.0, 1, 1, 27]), np.array([5.0, 5, 5, 20]))


def test_variances_must_be_positive() -> None:
    with pytest.raises(InputError, match=r"row 1, column 'vi'"):
        check_variances(np.array([0.0, 1.0]))


def test_same_length_needs_at_least_one_study() -> None:
    with pytest.raises(InputError, match="k = 0"):
        same_length([("yi", np.array([])), ("vi", np.array([]))])


@pytest.mark.parametrize(("level", "alpha"), [(95, 0.05), (90.0, 0.10), (0.99, 0.01)])
def test_level_reads_percent_or_fraction_like_metafor(level: float, alpha: float) -> None:
    assert check_level(level) == pytest.approx(alpha)


@pytest.mark.parametrize("level", [0, 0.3, 100, 150])
def test_level_out_of_range(level: float) -> None:
    with pytest.raises(InputError, match="level"):
        check_level(level)
