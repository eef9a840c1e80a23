"""Spreadsheet exports: every row read whatever the stored used-range says, and hostile
workbooks (decompression bombs, giant cells, endless rows, broken sheet XML) refused clearly."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from postcart.errors import RecordParseError
from postcart.literature.readers import read_records, tabular

SHEET = "xl/worksheets/sheet1.xml"


def _workbook(path: Path, n: int) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Title", "Authors", "Published Year"])
    for i in range(n):
        sheet.append([f"Study {i} of relapse after CAR T", f"Doe J{i}", 2020 + i % 5])
    book.save(path)
    return path


def _rewrite(path: Path, member: str, change: object) -> None:
    """Rewrite one entry of the zip (``change`` maps its bytes to new bytes)."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            dst.writestr(info.filename, change(data) if info.filename == member else data)  # type: ignore[operator]


def test_a_stale_used_range_does_not_lose_rows(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "stale.xlsx", 50)
    # Another program's edit left the sheet claiming to hold A1:C2 only.
    stale = b'<dimension ref="A1:C2"'
    _rewrite(path, SHEET, lambda data: re.sub(rb'<dimension ref="[^"]*"', stale, data))
    titles = [r.title for r in read_records(path)]
    assert titles == [f"Study {i} of relapse after CAR T" for i in range(50)]


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "bomb.xlsx", 1)
    filler = b"<!--" + b"A" * 20_000_000 + b"-->"  # 20 MB that deflates to ~20 KB
    _rewrite(path, SHEET, lambda data: data.replace(b"<sheetData>", filler + b"<sheetData>", 1))
    assert path.stat().st_size < 200_000
    with pytest.raises(RecordParseError, match="decompression bomb") as caught:
        list(read_records(path))
    assert caught.value.field == "xl/worksheets/sheet1.xml"


def test_a_giant_cell_is_refused_with_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "giant.csv"
    giant = "x" * (tabular.MAX_CELL_CHARS + 1)
    path.write_text(f"Title,Abstract\nFine title,short\nSecond,{giant}\n", encoding="utf-8")
    with pytest.raises(RecordParseError, match="cell of 100,001 characters") as caught:
        list(read_records(path))
    assert (caught.value.line, caught.value.field) == (3, "Abstract")


def test_rows_beyond_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 10)
    path = _workbook(tmp_path / "long.xlsx", 20)
    with pytest.raises(RecordParseError, match="more than 10 rows") as caught:
        list(read_records(path))
    assert caught.value.line == 11


def test_malformed_sheet_xml_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "broken.xlsx", 3)
    _rewrite(path, SHEET, lambda data: data[: len(data) // 2])
    with pytest.raises(RecordParseError, match="unreadable"):
        list(read_records(path))


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(RecordParseError):
        list(read_records(path))
