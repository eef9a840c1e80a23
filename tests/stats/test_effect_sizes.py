"""escalc on hand-calculated values (the metafor comparison lives in tests/oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats import escalc
from postcart.stats.effect_sizes import default_add
from postcart.stats.transforms import harmonic_mean, ipft, ipft_hm

#: Published values are rounded to 4 decimals (Miller 1978).
PUBLISHED_ABS_TOL = 5e-5


def test_plo_is_log_odds_with_binomial_variance() -> None:
    sizes = escalc("PLO", xi=[3], ni=[10])
    assert sizes.yi[0] == pytest.approx(math.log(3 / 7), rel=1e-12)
    assert sizes.vi[0] == pytest.approx(1 / 3 + 1 / 7, rel=1e-12)


def test_only0_correction_adds_half_to_zero_and_full_studies_only() -> None:
    sizes = escalc("PLO", xi=[0, 3, 10], ni=[10, 10, 10])
    assert sizes.yi[0] == pytest.approx(math.log(0.5 / 10.5), rel=1e-12)
    assert sizes.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5, rel=1e-12)
    assert sizes.yi[1] == pytest.approx(math.log(3 / 7), rel=1e-12)
    assert sizes.yi[2] == pytest.approx(math.log(10.5 / 0.5), rel=1e-12)
    assert sizes.corrected is not None
    assert sizes.corrected.tolist() == [True, False, True]


def test_if0all_corrects_every_study_when_one_needs_it() -> None:
    sizes = escalc("PR", xi=[0, 3], ni=[10, 10], to="if0all")
    assert sizes.yi.tolist() == pytest.approx([0.5 / 11, 3.5 / 11], rel=1e-12)


@pytest.mark.parametrize(
    ("measure", "add"), [("PR", 0.5), ("PLO", 0.5), ("PAS", 0.0), ("PFT", 0.0)]
)
def test_omitted_add_is_metafors_default_for_the_measure(measure: str, add: float) -> None:
    # metafor's escalc: add <- 0 for PAS/PFT when add is missing from the call, else 1/2.
    xi, ni = [0, 3, 10], [10, 10, 10]
    omitted = escalc(measure, xi=xi, ni=ni)
    explicit = escalc(measure, xi=xi, ni=ni, add=add)
    assert default_add(measure) == add
    assert omitted.add == add
    assert omitted.yi.tolist() == explicit.yi.tolist()
    assert omitted.vi.tolist() == explicit.vi.tolist()
    assert omitted.corrected is not None
    assert omitted.corrected.tolist() == [add > 0, False, add > 0]


def test_pas_and_pft_default_leaves_zero_and_all_events_uncorrected() -> None:
    pas = escalc("PAS", xi=[0, 10], ni=[10, 10], to="all")
    assert pas.yi.tolist() == pytest.approx([0.0, math.pi / 2], abs=1e-15)
    assert pas.vi.tolist() == pytest.approx([1 / 40, 1 / 40], rel=1e-15)
    pft = escalc("PFT", xi=[0], ni=[1])
    assert pft.yi[0] == pytest.approx(0.5 * math.asin(math.sqrt(0.5)), rel=1e-15)
    assert pft.vi[0] == pytest.approx(1 / 6, rel=1e-15)


def test_explicit_add_corrects_pas_and_pft_too() -> None:
    pas = escalc("PAS", xi=[0, 4], ni=[10, 16], add=0.5)
    assert pas.yi[0] == pytest.approx(math.asin(math.sqrt(0.5 / 11)), rel=1e-15)
    assert pas.vi.tolist() == pytest.approx([1 / 44, 1 / 64], rel=1e-15)
    assert pas.add == 0.5


def test_pas_and_pr_formulas() -> None:
    pas = escalc("PAS", xi=[4], ni=[16])
    assert pas.yi[0] == pytest.approx(math.asin(0.5), rel=1e-12)
    assert pas.vi[0] == pytest.approx(1 / 64, rel=1e-12)
    pr = escalc("PR", xi=[4], ni=[16])
    assert pr.vi[0] == pytest.approx(0.25 * 0.75 / 16, rel=1e-12)


def test_pft_reproduces_miller_1978() -> None:
    sizes = escalc("PFT", xi=[3, 6, 10, 1], ni=[11, 17, 21, 6], add=0)
    assert (2 * sizes.yi).tolist() == pytest.approx(
        [1.1391, 1.2888, 1.5253, 0.9515], abs=PUBLISHED_ABS_TOL
    )
    assert (4 * sizes.vi).tolist() == pytest.approx(
        [0.0870, 0.0571, 0.0465, 0.1538], abs=PUBLISHED_ABS_TOL
    )


def test_pft_inverse_at_own_n_recovers_proportions() -> None:
    xi, ni = np.array([0, 4, 9, 16, 20]), np.array([10, 10, 15, 20, 20])
    sizes = escalc("PFT", xi=xi, ni=ni, add=0)
    back = [float(ipft(np.array([y]), float(n))[0]) for y, n in zip(sizes.yi, ni, strict=True)]
    assert back == pytest.approx([0, 0.4, 0.6, 0.8, 1.0], abs=1e-12)


def test_harmonic_mean_back_transform_uses_single_n() -> None:
    ni = np.array([10.0, 40.0])
    assert harmonic_mean(ni) == pytest.approx(16.0)
    assert ipft_hm(np.array([0.0]), ni)[0] == 0.0


def test_gen_passes_yi_vi_through() -> None:
    sizes = escalc("GEN", yi=[0.1, 0.2], vi=[0.01, 0.02])
    assert sizes.yi.tolist() == [0.1, 0.2]
    assert sizes.ni is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xi": [1, 27], "ni": [5, 20]}, r"row 2, column 'xi': 27 events > ni = 20"),
        ({"xi": [1, -1], "ni": [5, 20]}, r"row 2, column 'xi': negative"),
        ({"xi": [1, 2], "ni": [5, 0]}, r"row 2, column 'ni'"),
        ({"xi": [1, float("nan")], "ni": [5, 5]}, r"row 2, column 'xi'"),
        ({"xi": [1, 2], "ni": [5]}, r"differ in length"),
        ({"xi": [], "ni": []}, r"k = 0"),
        ({"xi": [1.5], "ni": [5]}, r"not a whole number"),
        ({"xi": [0], "ni": [5], "add": 0}, r"row 1, column 'xi'.*undefined"),
    ],
)
def test_bad_counts_name_row_and_column(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        escalc("PLO", **kwargs)  # type: ignore[arg-type]


def test_unknown_measure_lists_choices() -> None:
    with pytest.raises(InputError, match="PLO"):
        escalc("OR", xi=[1], ni=[2])
