"""``postcart km``: digitised curve files in, reconstructed patients and pooled survival out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from postcart.cli import app
from postcart.stats.survival import kaplan_meier
from postcart.stats.survival.simulate import Trial, digitise, risk_table, simulate_arm

runner = CliRunner()


def _write_arm(folder: Path, name: str, trial: Trial, rng: np.random.Generator) -> None:
    t, s = digitise(kaplan_meier(trial.time, trial.event), rng)
    rows = "\n".join(f"{a:.4f},{100 * b:.3f}" for a, b in zip(t, s, strict=True))
    (folder / f"{name}.csv").write_text("time,survival\n" + rows + "\n", encoding="utf-8")
    rt, nr = risk_table(trial)
    keep = rt <= float(t.max())
    risk = "\n".join(f"{a:g},{b}" for a, b in zip(rt[keep], nr[keep], strict=True))
    (folder / f"{name}_risk.csv").write_text("time,at_risk\n" + risk + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def arms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Trial]]:
    folder = tmp_path_factory.mktemp("km")
    rng = np.random.default_rng(7)
    trials = [simulate_arm(rng, n, median=m) for n, m in ((90, 5.0), (130, 7.0), (70, 4.0))]
    for i, trial in enumerate(trials):
        _write_arm(folder, f"arm{i}", trial, rng)
    return folder, trials


def test_reconstruct_json_has_n_events_ipd(arms: tuple[Path, list[Trial]]) -> None:
    folder, trials = arms
    truth = trials[0]
    result = runner.invoke(
        app,
        [
            "km", "reconstruct", str(folder / "arm0.csv"),
            "--at-risk", str(folder / "arm0_risk.csv"),
            "--events", str(int(truth.event.sum())), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == truth.time.size
    assert out["events"] == int(truth.event.sum())
    assert len(out["ipd"]) == out["n"]
    assert sum(p["event"] for p in out["ipd"]) == out["events"]
    assert "survival read as percent (starts above 1.5)" in out["cleaning"]
    # the printed median is the KM median of the printed patients
    km = kaplan_meier([p["time"] for p in out["ipd"]], [p["event"] for p in out["ipd"]])
    assert out["median"]["estimate"] == km.median().estimate
    true_km = kaplan_meier(truth.time, truth.event)
    assert abs(out["landmarks"][0]["surv"] - true_km.at(6.0).surv) < 0.03


def test_reconstruct_text_is_what_the_json_says(arms: tuple[Path, list[Trial]]) -> None:
    folder, _ = arms
    args = ["km", "reconstruct", str(folder / "arm1.csv"), "--n0", "130"]
    text = runner.invoke(app, args)
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert text.exit_code == 0, text.output
    assert f"130 patients, {data['events']} events reconstructed (n0)" in text.stdout
    s6 = data["landmarks"][0]["surv"]
    assert f"S(6) = {s6:.3f}" in text.stdout
    assert "cleaning: survival read as percent" in text.stdout


def test_pool_from_a_list_file(arms: tuple[Path, list[Trial]]) -> None:
    folder, _ = arms
    listing = "study,curve,at_risk\n" + "".join(
        f"arm {i},arm{i}.csv,arm{i}_risk.csv\n" for i in range(3)
    )
    (folder / "studies.csv").write_text(listing, encoding="utf-8")
    result = runner.invoke(app, ["km", "pool", str(folder / "studies.csv"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["k"] == 3
    six = out["landmarks"][0]
    assert six["time"] == 6.0
    assert six["k"] == 3
    per_study = [s["surv"] for s in six["studies"]]
    assert min(per_study) <= six["estimate"] <= max(per_study)
    text = runner.invoke(app, ["km", "pool", str(folder / "studies.csv")])
    assert f"S(6) = {six['estimate']:.3f}" in text.stdout


def test_hr_between_two_arms(arms: tuple[Path, list[Trial]]) -> None:
    folder, _ = arms
    result = runner.invoke(
        app,
        [
            "km", "hr", str(folder / "arm1.csv"), str(folder / "arm2.csv"),
            "--reference-at-risk", str(folder / "arm1_risk.csv"),
            "--other-at-risk", str(folder / "arm2_risk.csv"), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cox = json.loads(result.stdout)["cox"]
    assert cox["status"] == "ok"
    assert cox["hr"] > 1.0  # arm 2 (median 4) dies faster than arm 1 (median 7)


@pytest.mark.parametrize(
    ("curve", "extra", "message"),
    [
        ("time,survival\n0,1\n1,0.9\n2,1.7\n", ["--n0", "10"], "c.csv:4: survival"),
        ("time,survival\n0,1\n1,0.9\n", [], "n0: without a risk table"),
        ("x\n", ["--n0", "5"], "c.csv:1: header"),
    ],
)
def test_bad_files_exit_2_with_file_line_field(
    tmp_path: Path, curve: str, extra: list[str], message: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(curve, encoding="utf-8")
    result = runner.invoke(app, ["km", "reconstruct", str(path), *extra])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
