"""``postcart meta --pi-type`` and ``--cumul-by``: thin options over the core, and a file
that is not UTF-8 ends with exit 2 and a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from postcart.cli import app
from postcart.stats import escalc, rma

runner = CliRunner()


def test_pi_type_riley_in_the_json(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("events,n\n3,10\n9,20\n14,25\n2,15\n", encoding="utf-8")
    result = runner.invoke(app, ["meta", str(path), "--pi-type", "riley", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    sizes = escalc("PLO", xi=[3, 9, 14, 2], ni=[10, 20, 25, 15])
    expected = rma(sizes.yi, sizes.vi, measure="PLO", pi_type="riley")
    assert (out["pi_low"], out["pi_high"]) == (expected.pi_low, expected.pi_high)
    assert "Riley" in out["settings"]["pi_formula"]


def test_cumul_by_prints_one_line_per_added_study(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("study,events,n,year\nA,3,10,2021\nB,9,20,2019\nC,14,25,2020\n",
                    encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["meta", str(path), "--cumul-by", "year", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["study"] == ["B", "C", "A"]
    assert out["k"] == [1, 2, 3]
    text = runner.invoke(app, ["meta", str(path), "--cumul-by", "year"]).stdout
    assert [line.split()[0] for line in text.splitlines()[1:]] == ["B", "C", "A"]


def test_not_utf8_exits_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("study,events,n\nZürich,3,10\n".encode("latin-1"))
    result = runner.invoke(app, ["meta", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
