"""Derived facts: timing buckets from raw days and the PC-PI component count, by hand."""

from __future__ import annotations

import pytest

from postcart.decision import advise
from postcart.decision.features import derive_facts
from postcart.decision.profile import PatientProfile


@pytest.mark.parametrize(
    ("days", "d30", "d31_90", "after90", "within_3m", "before_4m", "within_180"),
    [
        (30, True, False, False, True, True, True),
        (31, False, True, False, True, True, True),
        (90, False, True, False, True, True, True),
        # 3 months = 91.31 days, 4 months = 121.75 days (365.25 / 12 per month).
        (91, False, False, True, True, True, True),
        (92, False, False, True, False, True, True),
        (121, False, False, True, False, True, True),
        (122, False, False, True, False, False, True),
        (180, False, False, True, False, False, True),
        (181, False, False, True, False, False, False),
    ],
)
def test_timing_buckets(days, d30, d31_90, after90, within_3m, before_4m, within_180) -> None:
    facts = derive_facts(PatientProfile(days_to_progression=days))
    assert facts["failure_within_30_days"] is d30
    assert facts["failure_31_to_90_days"] is d31_90
    assert facts["failure_after_90_days"] is after90
    assert facts["failure_within_3_months"] is within_3m
    assert facts["failure_before_4_months"] is before_4m
    assert facts["failure_within_180_days"] is within_180


def test_unknown_days_gives_unknown_buckets() -> None:
    facts = derive_facts(PatientProfile())
    assert facts["failure_within_30_days"] is None
    assert facts["failure_before_4_months"] is None


def test_pcpi_count_and_flag_text(evidence, rulebook) -> None:
    # ECOG 1 (>0: yes), Hb 9.5 (<10: yes), LDH 1.5 x ULN (>=2: no), 3 extranodal (>1: yes),
    # progression on day 200 (<4 months: no) -> 3 of 5, all five known.
    profile = {
        "ecog": 1,
        "hemoglobin_g_dl": 9.5,
        "ldh_ratio_uln": 1.5,
        "extranodal_sites": 3,
        "days_to_progression": 200,
    }
    facts = derive_facts(PatientProfile(**profile))
    assert facts["pcpi_factors_present"] == 3
    assert facts["pcpi_complete"] is True
    flag = next(
        f
        for f in advise(profile, evidence=evidence, rulebook=rulebook).flags
        if f.rule == "F-PCPI-FACTORS"
    )
    assert flag.text.startswith("PC-PI: 3 of 5")
    assert "complete: True" in flag.text
