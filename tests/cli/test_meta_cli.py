"""``postcart meta``: CSV in, one engine call, text or the JSON contract out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcart.cli import app
from postcart.stats import escalc, rma
from postcart.stats.results import CONTRACT_KEYS

runner = CliRunner()
PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "studies.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def pritz_csv(tmp_path: Path) -> Path:
    lines = ["study,events,n"] + [
        f"s{i},{x},{n}" for i, (x, n) in enumerate(zip(PRITZ_XI, PRITZ_NI, strict=True), 1)
    ]
    return write_csv(tmp_path, "\n".join(lines) + "\n")


def test_json_output_is_the_contract(pritz_csv: Path) -> None:
    result = runner.invoke(
        app, ["meta", str(pritz_csv), "--measure", "PLO", "--test", "knha", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert tuple(out)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    sizes = escalc("PLO", xi=PRITZ_XI, ni=PRITZ_NI)
    expected = rma(sizes.yi, sizes.vi, measure="PLO", test="knha")
    assert out["estimate"] == expected.estimate
    assert out["back"]["ci_low"] == pytest.approx(0.648129, abs=1e-6)  # metafor, anchors §5.2


def test_text_output_is_a_summary(pritz_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(pritz_csv)])
    assert result.exit_code == 0
    assert "median proportion" in result.stdout


def test_preset_sets_method_and_test(pritz_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(pritz_csv), "--preset", "cochrane-2025", "--json"])
    out = json.loads(result.stdout)
    assert (out["method"], out["test"]) == ("REML", "knha")
    assert out["settings"]["preset"] == "cochrane-2025"


@pytest.mark.parametrize(
    ("measure", "default"), [("PLO", 0.5), ("PR", 0.5), ("PAS", 0.0), ("PFT", 0.0)]
)
def test_add_defaults_to_metafors_default_for_the_measure(
    tmp_path: Path, measure: str, default: float
) -> None:
    path = write_csv(tmp_path, "events,n\n0,12\n3,10\n7,7\n5,20\n")
    xi, ni = [0, 3, 7, 5], [12, 10, 7, 20]
    for extra, add in (([], default), (["--add", "0.25"], 0.25)):
        result = runner.invoke(app, ["meta", str(path), "--measure", measure, "--json", *extra])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["settings"]["continuity_correction"] == f"add={add} to=only0"
        sizes = escalc(measure, xi=xi, ni=ni, add=add)
        assert out["estimate"] == rma(sizes.yi, sizes.vi, measure=measure, ni=sizes.ni).estimate


def test_generic_effects(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "yi,vi\n0,1\n2,1\n")
    out = json.loads(runner.invoke(app, ["meta", str(path), "--method", "DL", "--json"]).stdout)
    assert out["measure"] == "GEN"
    assert out["tau2"] == pytest.approx(1.0)  # hand calculation: (Q − 1)/tr(P) = (2 − 1)/1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("events,n\n3,10\n27,20\n", "row 2 (line 3), column 'events': 27 events > ni = 20"),
        ("events,n\n3,10\nabc,20\n", "row 2 (line 3), column 'events': 'abc' is not a number"),
        ("events,n\n3,10\n4,\n", "row 2 (line 3), column 'n'"),
        ("x,y\n1,2\n", "needs columns events,n"),
        ("events,n\n", "no data rows"),
    ],
)
def test_bad_csv_names_row_and_column_and_exits_2(tmp_path: Path, text: str, message: str) -> None:
    result = runner.invoke(app, ["meta", str(write_csv(tmp_path, text))])
    assert result.exit_code == 2
    assert message in result.stderr


def test_unknown_preset_exits_2(pritz_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(pritz_csv), "--preset", "nope"])
    assert result.exit_code == 2
    assert "cochrane-2025" in result.stderr


def test_subgroup_column_pools_per_subgroup(tmp_path: Path) -> None:
    text = "events,n,subgroup\n3,10,a\n5,12,a\n9,20,b\n2,15,b\n"
    result = runner.invoke(app, ["meta", str(write_csv(tmp_path, text)), "--json"])
    assert result.exit_code == 0, result.output
    assert "a" in result.stdout
    assert "b" in result.stdout


def test_extra_numeric_column_is_a_moderator(tmp_path: Path) -> None:
    text = "yi,vi,year\n0.1,0.01,2019\n0.3,0.02,2020\n0.2,0.015,2021\n0.5,0.03,2022\n"
    result = runner.invoke(app, ["meta", str(write_csv(tmp_path, text)), "--json"])
    assert result.exit_code == 0, result.output
    assert "year" in result.stdout


def test_glmm_method_calls_the_glmm(tmp_path: Path, pritz_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(pritz_csv), "--method", "GLMM", "--json"])
    assert result.exit_code == 0, result.output
    # metafor rma.glmm on dat.pritz1997 (anchors §5.2): pooled logit 1.376604
    assert json.loads(result.stdout)["estimate"] == pytest.approx(1.376604, abs=1e-4)
