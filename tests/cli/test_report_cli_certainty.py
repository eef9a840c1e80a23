"""``postcart report --compare`` prints certainty changes; a broken version index exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from postcart.cli import app

runner = CliRunner()


def test_compare_prints_certainty_changes(tmp_path: Path) -> None:
    # A hand-written older results file: only the real-world ORR's certainty, rated "High".
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"certainty": {"rw_orr": {"label": "High"}}}), encoding="utf-8")
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--out", str(out), "--compare", str(old), "--brief"],
                           terminal_width=400)  # fmt: skip
    assert result.exit_code == 0, result.output
    now = json.loads((out / "results.json").read_text(encoding="utf-8"))["certainty"]["rw_orr"]
    text = " ".join(result.output.split())
    assert f"Certainty: {now['title']}: High → {now['label']}" in text
    html = (out / "index.html").read_text(encoding="utf-8")
    assert f"Certainty: {now['title']}: High → {now['label']}" in html


def test_a_broken_version_index_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    index = tmp_path / "versions" / "index.json"
    index.parent.mkdir(parents=True)
    index.write_text("not json", encoding="utf-8")
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--brief"], terminal_width=400)
    assert result.exit_code == 1
    assert "report not written" in result.output
    assert "not a versions index" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
