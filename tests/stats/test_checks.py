"""Input checks: every message names the row (1-based) and the column."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats import rma, rma_batch
from postcart.stats._checks import (
    as_vector,
    check_counts,
    check_level,
    check_variances,
    same_length,
)
from postcart.stats.batch_result import without_false_ok


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


def test_booleans_are_refused_with_their_row() -> None:
    with pytest.raises(InputError, match=r"row 2, column 'vi': True is a boolean"):
        as_vector([0.1, True, 0.3], "vi")
    with pytest.raises(InputError, match="column 'yi': a boolean array"):
        as_vector(np.array([True, False]), "yi")


def test_variances_beyond_double_precision_are_refused() -> None:
    with pytest.raises(InputError, match=r"row 2, column .vi.: sampling variance 1e-300 is"):
        check_variances(np.array([0.1, 1e-300]))
    with pytest.raises(InputError, match=r"rows 1 and 2, column 'vi': .* factor ≥ 1e\+16"):
        check_variances(np.array([1e3, 1e-13]))
    check_variances(np.array([1e3, 1e-12]))  # a ratio of 1e15 is still pooled


def test_effects_beyond_any_scale_are_refused() -> None:
    with pytest.raises(InputError, match=r"row 1, column 'yi': effect size 1e\+60"):
        rma([1e60, 0.0], [0.1, 0.1])


def test_group_sizes_beyond_any_study_are_refused() -> None:
    with pytest.raises(InputError, match=r"row 2, column 'ni': group size 1e\+16 is beyond"):
        check_counts(np.array([1.0, 3.0]), np.array([10.0, 1e16]))


def test_batch_names_analysis_and_study() -> None:
    with pytest.raises(InputError, match=r"analysis 2, study 1, column .vi.: unusable value"):
        rma_batch([[0.1, 0.2], [0.1, 0.2]], [[0.1, 0.1], [1e-300, 0.1]])
    with pytest.raises(InputError, match=r"analysis 1, row 2, column 'yi': False is a boolean"):
        rma_batch([[0.1, False]], [[0.1, 0.1]])


def test_a_batch_row_without_a_finite_estimate_is_not_ok() -> None:
    fits = rma_batch([[0.1, 0.3], [0.2, 0.4]], [[0.1, 0.2], [0.1, 0.2]], method="DL")
    assert fits.status == ("ok", "ok")
    broken = replace(fits, estimate=np.array([0.2, np.nan]))
    checked = without_false_ok(broken)
    assert checked.status == ("ok", "failed")
    assert "no finite estimate" in checked.reason[1]
