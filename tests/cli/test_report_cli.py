"""``postcart report`` prints, per analysis, its population, k, studies used and left out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from postcart.cli import app

runner = CliRunner()


def test_report_prints_population_k_used_and_left_out(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--out", str(tmp_path)], terminal_width=400)
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    orr = results["analyses"]["rw_orr"]
    text = " ".join(result.output.split())
    assert f"{orr['title']} — k = {orr['k']}, pooled {orr['pooled_percent']:.1f}%" in text
    assert f"population: {' '.join(orr['population'].split())}" in text
    for study in orr["studies"]:
        assert f"used {study['label']}" in text
    for skipped in orr["skipped"]:
        assert f"left out {skipped['name']}: {' '.join(skipped['reason'].split())}" in text


def test_report_brief_prints_only_the_closing_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--brief"])
    assert result.exit_code == 0, result.output
    assert "population:" not in result.output
    assert "report written" in result.output
