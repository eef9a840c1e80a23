"""``postcart advise``: table by default, the JSON contract with --json, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcart.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
runner = CliRunner()


def test_advise_json_contract() -> None:
    result = runner.invoke(app, ["advise", str(EXAMPLES / "cd19_negative_early.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    advice = json.loads(result.stdout)
    assert {"options", "flags", "actions", "disclaimer"} <= set(advice)
    tiers = {option["option"]: option["tier"] for option in advice["options"]}
    # The example profile is CD19-negative: CD19-directed options must not be suggested.
    assert tiers["cart19_reinfusion"] == "not_suited"
    assert tiers["loncastuximab"] == "not_suited"
    assert (
        "not a substitute" in advice["disclaimer"] or "not a medical device" in advice["disclaimer"]
    )


def test_advise_table_shows_disclaimer() -> None:
    result = runner.invoke(app, ["advise", str(EXAMPLES / "pmbcl_late_localized.yaml")])
    assert result.exit_code == 0, result.output
    assert "Radiotherapy" in result.stdout
    assert "research" in result.stdout


def test_advise_bad_profile_names_field(tmp_path: Path) -> None:
    profile = tmp_path / "bad.yaml"
    profile.write_text("age: 300\n")
    result = runner.invoke(app, ["advise", str(profile)])
    assert result.exit_code == 2
    assert "age" in result.stderr


def test_advise_table_shows_order_cards_and_caveats(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("histology: DLBCL\ndisease_extent: localized\ncd20_status: positive\n")
    result = runner.invoke(app, ["advise", str(profile)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "order: evidence: approved agent with a prospective post-CAR T cohort" in out
    # The living review's pooled ORR for bispecifics is printed as the second ordering key.
    assert "pooled ORR after CAR T failure" in out
    # The review mislabels Ababneh's lesion-level local control as PFS: flag shown with it.
    assert "[disputed]" in out
    assert "not a per-patient rate" in out


def test_advise_json_orders_by_evidence_then_pooled_orr() -> None:
    result = runner.invoke(app, ["advise", str(EXAMPLES / "pmbcl_late_localized.yaml"), "--json"])
    advice = json.loads(result.stdout)
    consider = [o for o in advice["options"] if o["tier"] == "consider"]
    ranks = [o["evidence_rank"] for o in consider]
    assert ranks == sorted(ranks)
    pooled = {o["option"]: o["pooled_orr"] for o in advice["options"] if o["pooled_orr"]}
    assert set(pooled) == {
        "cd20_cd3_bispecific", "polatuzumab", "checkpoint_inhibitor", "cart19_reinfusion"
    }  # fmt: skip
    assert advice["ordering"].startswith("Within a tier")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"age": true}', "age"),
        ('{"days_to_progression": 1000000000000}', "days_to_progression"),
        ('{"days_to_progression": -3}', "days_to_progression"),
        ('{"age": 40, "age": 41}', "age"),
    ],
)
def test_advise_refuses_bad_json_profile_without_traceback(
    tmp_path: Path, text: str, field: str
) -> None:
    profile = tmp_path / "bad.json"
    profile.write_text(text)
    result = runner.invoke(app, ["advise", str(profile)])
    assert result.exit_code == 2
    assert field in result.stderr
    assert "Traceback" not in result.output
