"""The report's CSV and XLSX: evidence text never becomes a live spreadsheet formula."""

from __future__ import annotations

import csv
import io

import openpyxl

from postcart.report.cells import Cell, Ref, RefBook, ReportTable
from postcart.report.exports import table_csv, workbook

FORMULA = "=cmd|' /C calc'!A0"


def _table_and_refs() -> tuple[ReportTable, RefBook]:
    refs = RefBook()
    refs.refs["r1"] = Ref(anchor="r1", label="Study", quote="@SUM(1)", locator="p. 1")
    table = ReportTable(
        name="t",
        title="T",
        columns=("study", "estimate"),
        rows=((Cell(FORMULA, "r1"), Cell("-0.25")), (Cell("plain"), Cell("+1.5"))),
    )
    return table, refs


def test_table_csv_neutralises_text_and_keeps_numbers() -> None:
    table, refs = _table_and_refs()
    rows = list(csv.reader(io.StringIO(table_csv(table, refs).decode("utf-8"))))
    cells = [c for row in rows for c in row]
    assert "'" + FORMULA in cells
    assert "-0.25" in cells
    assert "+1.5" in cells
    assert not any(c.startswith(("=", "@")) for c in cells)


def test_workbook_has_no_formula_cells() -> None:
    table, refs = _table_and_refs()
    book = openpyxl.load_workbook(io.BytesIO(workbook([table], refs)))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert any(c.value == FORMULA for c in cells)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
