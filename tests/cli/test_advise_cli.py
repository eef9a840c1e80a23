"""``postcart advise``: table by default, the JSON contract with --json, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

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
