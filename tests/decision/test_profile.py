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
        # Issue #16: strict kinds and plausible ranges, each naming the field.
        ({"days_to_progression": 10**12}, "days_to_progression"),
        ({"age": True}, "age"),
        ({"ecog": False}, "ecog"),
        ({"ldh_ratio_uln": True}, "ldh_ratio_uln"),
        ({"ldh_ratio_uln": float("nan")}, "ldh_ratio_uln"),
        ({"rebiopsied": 1}, "rebiopsied"),
        ({"transplant_eligible": "maybe"}, "transplant_eligible"),
        ({"histology": 5}, "histology"),
        ({"prior_therapies": "polatuzumab"}, "prior_therapies"),
        ({"organ_function": "fine"}, "organ_function"),
        ({"age": 70.5}, "age"),
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


def test_boundary_values_are_accepted() -> None:
    profile = parse_profile({"days_to_progression": 7305, "age": 120, "ecog": 4})
    assert profile.days_to_progression == 7305
    assert parse_profile({"days_to_progression": 0}).days_to_progression == 0


def test_duplicate_json_key_refused_with_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"histology": "DLBCL",\n "age": 45,\n "age": 85}\n')
    with pytest.raises(ProfileError) as caught:
        read_profile(path)
    assert caught.value.field == "age"
    assert "line 3" in str(caught.value)


def test_duplicate_yaml_key_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("ecog: 1\necog: 3\n")
    with pytest.raises(ProfileError, match="ecog"):
        read_profile(path)
