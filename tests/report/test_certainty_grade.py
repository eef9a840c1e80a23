"""One test per GRADE rule, each with a hand-worked example written out in the test.

Every expected rating below is worked out by hand from the cut-offs in ``grade_rules.yaml``
(loaded, not copied, so a changed cut-off that breaks an example shows up here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.errors import EvidenceValidationError
from postcart.evidence.risk_of_bias import Concern
from postcart.report.certainty.grade import (
    DomainRating,
    apply_override,
    combine,
    crossed,
    measure_of,
    optimal_information_size,
    rate_imprecision,
    rate_inconsistency,
    rate_indirectness,
    rate_publication_bias,
    rate_risk_of_bias,
)
from postcart.report.certainty.rules import Override, load_overrides, load_rules

RULES = load_rules()


def test_rule_file_declares_the_cut_offs_the_examples_assume() -> None:
    assert RULES.risk_of_bias.serious_high_weight_percent == 50
    assert (RULES.inconsistency.i2_percent, RULES.inconsistency.very_serious_i2_percent) == (50, 75)
    assert RULES.inconsistency.pi_to_ci_width_ratio == 2
    assert (RULES.imprecision.serious_ci_width_pp, RULES.imprecision.very_serious_ci_width_pp) == (
        20,
        40,
    )
    assert RULES.imprecision.ois_half_width_pp == 10
    assert RULES.indirectness.serious_indirect_weight_percent == 50
    assert (RULES.publication_bias.min_k, RULES.publication_bias.alpha) == (10, 0.10)
    assert RULES.outcomes["orr"].thresholds == [30, 50]
    assert (RULES.start.prognostic, RULES.start.comparative_single_arm) == ("high", "low")


# ------------------------------------------------------------------------------ risk of bias


def test_risk_of_bias_high_weight_share_rates_down() -> None:
    # Weights 30 + 50 of 100 from high-concern studies: 80% ≥ 50% → serious.
    r = rate_risk_of_bias([30, 20, 50], [Concern.high, Concern.low, Concern.high],
                          ["a", "b", "c"], RULES.risk_of_bias)  # fmt: skip
    assert (r.rating, r.downgrade) == ("serious", 1)
    assert "80% of the weight" in r.reason


def test_risk_of_bias_exactly_at_the_cut_off_rates_down() -> None:
    # 50 of 100: the rule says "at least", so 50% is serious.
    r = rate_risk_of_bias([50, 50], [Concern.high, Concern.some], ["a", "b"], RULES.risk_of_bias)
    assert r.rating == "serious"


def test_risk_of_bias_below_the_cut_off_is_not_serious() -> None:
    # 40 of 100 from the high-concern study: 40% < 50%.
    r = rate_risk_of_bias([40, 60], [Concern.high, Concern.low], ["a", "b"], RULES.risk_of_bias)
    assert (r.rating, r.downgrade) == ("not_serious", 0)
    assert "40% of the weight" in r.reason


def test_risk_of_bias_unrated_studies_make_it_not_assessed_and_an_upper_bound() -> None:
    # Study b (weight 60 of 100) is not fully rated → not assessed, nothing subtracted, but the
    # certainty becomes an upper bound. Two rows of one study count as one study.
    r = rate_risk_of_bias([40, 30, 30], [Concern.low, None, None], ["a", "b", "b"],
                          RULES.risk_of_bias)  # fmt: skip
    assert (r.rating, r.downgrade) == ("not_assessed", 0)
    assert "1 of 2 studies (60% of the weight)" in r.reason
    assert combine("high", [r]) == ("high", True)


def test_risk_of_bias_high_share_wins_over_unrated() -> None:
    # 50% high whatever the unrated half turns out to be → serious already.
    r = rate_risk_of_bias([50, 50], [Concern.high, None], ["a", "b"], RULES.risk_of_bias)
    assert r.rating == "serious"


# ----------------------------------------------------------------------------- inconsistency


def test_inconsistency_low_i2_is_not_serious() -> None:
    r = rate_inconsistency(40.0, (40, 60), (10, 90), [30, 50], RULES.inconsistency)
    assert r.rating == "not_serious"


def test_inconsistency_pi_inside_one_threshold_band_is_not_serious() -> None:
    # I² 80% but the PI 55–90% lies above both 30 and 50: same conclusion everywhere.
    r = rate_inconsistency(80.0, (60, 80), (55, 90), [30, 50], RULES.inconsistency)
    assert r.rating == "not_serious"


def test_inconsistency_pi_across_one_threshold_is_serious() -> None:
    # PI 48.8–87.4% crosses 50% (not 30%): serious.
    r = rate_inconsistency(89.2, (62.3, 80.0), (48.8, 87.4), [30, 50], RULES.inconsistency)
    assert (r.rating, r.downgrade) == ("serious", 1)
    assert "crosses 50%" in r.reason


def test_inconsistency_pi_across_two_thresholds_at_very_high_i2_is_very_serious() -> None:
    # PI 20–60% crosses 30 and 50; I² 80 ≥ 75 → very serious; at I² 60 only serious.
    r = rate_inconsistency(80.0, (35, 45), (20, 60), [30, 50], RULES.inconsistency)
    assert (r.rating, r.downgrade) == ("very_serious", 2)
    r = rate_inconsistency(60.0, (35, 45), (20, 60), [30, 50], RULES.inconsistency)
    assert r.rating == "serious"


def test_inconsistency_without_thresholds_compares_pi_with_ci() -> None:
    # CI 40–60 (width 20), PI 20–80 (width 60): ratio 3 > 2 → serious.
    r = rate_inconsistency(70.0, (40, 60), (20, 80), [], RULES.inconsistency)
    assert r.rating == "serious"
    assert "3.0 times" in r.reason
    # PI 35–65 (width 30): ratio 1.5 ≤ 2 → not serious.
    r = rate_inconsistency(70.0, (40, 60), (35, 65), [], RULES.inconsistency)
    assert r.rating == "not_serious"


# ------------------------------------------------------------------------------ imprecision


def test_optimal_information_size_by_hand() -> None:
    # n = 1.96² p(1−p) / d²: p = 0.5, d = 0.10 → 3.8415 × 0.25 / 0.01 = 96.04 → 97.
    assert optimal_information_size(0.5, 10) == 97
    # p = 0.72 → 3.8415 × 0.2016 / 0.01 = 77.44 → 78.
    assert optimal_information_size(0.72, 10) == 78


def test_imprecision_ci_within_one_band_with_enough_participants_is_not_serious() -> None:
    r = rate_imprecision(72.0, (62.3, 80.0), 2579, [30, 50], RULES.imprecision)
    assert r.rating == "not_serious"
    assert "optimal information size of 78" in r.reason


def test_imprecision_ci_across_one_threshold_is_serious() -> None:
    r = rate_imprecision(47.9, (33.7, 62.4), 213, [30, 50], RULES.imprecision)
    assert r.rating == "serious"
    assert "crosses 50%" in r.reason


def test_imprecision_ci_across_two_thresholds_is_very_serious() -> None:
    r = rate_imprecision(41.5, (2.0, 96.1), 53, [30, 50], RULES.imprecision)
    assert (r.rating, r.downgrade) == ("very_serious", 2)


def test_imprecision_too_few_participants_rates_down_even_inside_a_band() -> None:
    # CI 55–65 crosses nothing, but OIS at p = 0.60 is 3.8415 × 0.24 / 0.01 = 92.2 → 93 > 50.
    r = rate_imprecision(60.0, (55.0, 65.0), 50, [30, 50], RULES.imprecision)
    assert r.rating == "serious"
    assert "50 participants are fewer than the optimal information size of 93" in r.reason


def test_imprecision_without_thresholds_uses_the_ci_width() -> None:
    # 53.9–89.5: 35.6 points > 20 → serious; 0.5–45.9: 45.4 > 40 → very serious;
    # 45–60: 15 ≤ 20 and 500 ≥ OIS → not serious.
    assert rate_imprecision(76.0, (53.9, 89.5), 2000, [], RULES.imprecision).rating == "serious"
    assert rate_imprecision(6.1, (0.5, 45.9), 2000, [], RULES.imprecision).rating == (
        "very_serious"
    )
    assert rate_imprecision(52.0, (45.0, 60.0), 500, [], RULES.imprecision).rating == (
        "not_serious"
    )


# ----------------------------------------------------------------------------- indirectness


def test_indirectness_mostly_off_target_cohorts_is_serious() -> None:
    # 82 of 100 from a mixed B-cell malignancy cohort → 82% ≥ 50% → serious.
    r = rate_indirectness([82, 18], [False, True], ["CART2: mixed"], RULES.indirectness)
    assert (r.rating, r.downgrade) == ("serious", 1)
    assert "82% of the weight" in r.reason


def test_indirectness_minor_off_target_share_is_named_but_not_serious() -> None:
    r = rate_indirectness([30, 70], [False, True], ["x: MCL"], RULES.indirectness)
    assert r.rating == "not_serious"
    assert "30% of the weight" in r.reason
    assert "x: MCL" in r.reason


# ------------------------------------------------------------------------- publication bias


def test_publication_bias_is_not_assessable_below_ten_studies() -> None:
    r = rate_publication_bias([0.1] * 9, [0.01] * 9, RULES.publication_bias)
    assert (r.rating, r.downgrade) == ("not_assessable", 0)
    assert combine("high", [r]) == ("high", False)


def test_publication_bias_symmetric_funnel_is_not_serious() -> None:
    # yi = ±sei in pairs of equal sei: the funnel is mirror-symmetric, the Egger slope is 0
    # exactly and its p-value is 1.
    sei = [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5]
    yi = [s if i % 2 == 0 else -s for i, s in enumerate(sei)]
    r = rate_publication_bias(yi, [s * s for s in sei], RULES.publication_bias)
    assert r.rating == "not_serious"
    assert "p = 1.000" in r.reason


def test_publication_bias_asymmetric_funnel_is_serious() -> None:
    # yi = 3·sei (± 0.01): small studies show larger effects, a steep Egger slope.
    sei = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
    yi = [3 * s + (0.01 if i % 2 else -0.01) for i, s in enumerate(sei)]
    r = rate_publication_bias(yi, [s * s for s in sei], RULES.publication_bias)
    assert (r.rating, r.downgrade) == ("serious", 1)


# ----------------------------------------------------------------- combining and overriding


def test_combine_subtracts_downgrades_and_floors_at_very_low() -> None:
    s = DomainRating("imprecision", "serious", "", "imp-1")
    vs = DomainRating("inconsistency", "very_serious", "", "inc-1")
    assert combine("high", [s]) == ("moderate", False)
    assert combine("high", [s, vs]) == ("very_low", False)
    assert combine("low", [s, vs]) == ("very_low", False)  # never below very low
    assert combine("low", []) == ("low", False)


def test_override_replaces_the_rating_and_keeps_the_rule_on_record() -> None:
    rule = DomainRating("indirectness", "not_serious", "every cohort is LBCL.", "ind-1")
    o = Override("rw_orr", "indirectness", "serious", "A. Analyst", "2026-12-01",
                 "registry mixes histologies", "overrides.yaml", 3)  # fmt: skip
    r = apply_override(rule, o)
    assert (r.rating, r.overridden_from, r.downgrade) == ("serious", "not_serious", 1)
    assert "A. Analyst" in r.words()
    assert "registry mixes histologies" in r.words()
    assert apply_override(rule, None) is rule


def test_overrides_of_unknown_analyses_are_refused_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "overrides.yaml"
    f.write_text(
        "overrides:\n  - analysis: rw_nothing\n    domain: imprecision\n    rating: serious\n"
        "    analyst: A\n    date: '2026-12-01'\n    reason: because\n",
        encoding="utf-8",
    )
    with pytest.raises(EvidenceValidationError) as err:
        load_overrides(f, analyses={"rw_orr"})
    assert f"{f}:2: overrides[0].analysis: no analysis 'rw_nothing'" in str(err.value)


def test_rule_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    text = Path(__file__).resolve().parents[2].joinpath(
        "src/postcart/report/certainty/grade_rules.yaml").read_text(encoding="utf-8")  # fmt: skip
    bad = tmp_path / "rules.yaml"
    bad.write_text(text.replace("thresholds: [30, 50]", "thresholds: [50, 30]"), encoding="utf-8")
    with pytest.raises(EvidenceValidationError) as err:
        load_rules(bad)
    assert "rules.yaml:" in str(err.value)
    assert "outcomes.orr" in str(err.value)


def test_measure_of_takes_the_longest_declared_suffix() -> None:
    assert measure_of("rw_orr", ["orr", "cr"]) == "orr"
    assert measure_of("salvage_polatuzumab_cr", ["orr", "cr"]) == "cr"
    assert measure_of("rw_crs_any", ["orr", "cr"]) is None


def test_an_interval_crosses_only_the_thresholds_strictly_inside_it() -> None:
    # 30 and 50 both lie above 10–20; only 30 lies inside 25–40; an end on a threshold is not
    # a crossing.
    assert crossed(10, 20, [30, 50]) == []
    assert crossed(25, 40, [30, 50]) == [30]
    assert crossed(30, 50, [30, 50]) == []
    r = rate_imprecision(15.0, (10.0, 20.0), 1000, [30, 50], RULES.imprecision)
    assert r.rating == "not_serious"
