"""Impossible or contradictory profiles are refused with the offending field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.decision import advise, parse_profile, read_profile
from postcart.errors import ProfileError


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"days_to_progression": -5}, "days_to_progression"),
        ({"age": 300}, "age"),
        ({"ecog": 7}, "ecog"),
        ({"cd19_status": "purple"}, "cd19_status"),
        ({"ldh_ratio_uln": 0.8, "ldh_elevated": True}, "ldh_elevated"),
        ({"current_response": "CR", "lines_since_cart": 0}, "current_response"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_profile_names_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(data)
    assert caught.value.field == field


def test_unknown_product_names_field(evidence, rulebook) -> None:
    with pytest.raises(ProfileError, match="cart_product"):
        advise({"cart_product": "imaginary-cel"}, evidence=evidence, rulebook=rulebook)


def test_unknown_prior_therapy_names_field(evidence, rulebook) -> None:
    with pytest.raises(ProfileError, match="prior_therapies"):
        advise({"prior_therapies": ["leeches"]}, evidence=evidence, rulebook=rulebook)


def test_missing_inputs_reported_with_blocked_rules(evidence, rulebook) -> None:
    advice = advise({}, evidence=evidence, rulebook=rulebook)
    assert "M-ICI-EARLY-RELAPSE" in advice.missing["failure_within_180_days"]
    assert "G-ALLO-NOT-ELIGIBLE" in advice.missing["transplant_eligible"]


def test_read_profile_yaml(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("histology: DLBCL\ndays_to_progression: 40\ncd19_status: negative\n")
    profile = read_profile(path)
    assert profile.days_to_progression == 40
    assert profile.cd19_status == "negative"
