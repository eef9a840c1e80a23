"""Write the outcome table as CSV, JSON (a list of objects) or XLSX."""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path

import pandas as pd

from postcart.evidence.records import Evidence
from postcart.evidence.spreadsheet_safe import neutralise_frame, text_cells_in_workbook


class ExportFormat(StrEnum):
    """File formats the outcome table can be written in."""

    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def _json_text(frame: pd.DataFrame) -> str:
    # Through pandas' own JSON so NA, NaN and numpy integers all become plain JSON values.
    rows = json.loads(frame.to_json(orient="records", force_ascii=False))
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def export_text(evidence: Evidence, fmt: ExportFormat) -> str:
    """The outcome table as CSV or JSON text."""
    frame = evidence.to_frame()
    if fmt == ExportFormat.csv:
        buffer = io.StringIO()
        # Spreadsheets open CSV: text that starts like a formula is made inert.
        neutralise_frame(frame).to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue()
    if fmt == ExportFormat.json:
        return _json_text(frame)
    raise ValueError(f"format {fmt}: binary, write it to a file with export_file")


def export_file(evidence: Evidence, fmt: ExportFormat, path: Path) -> Path:
    """Write the outcome table to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == ExportFormat.xlsx:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            evidence.to_frame().to_excel(writer, index=False, sheet_name="outcomes")
            text_cells_in_workbook(writer.book)
    else:
        path.write_text(export_text(evidence, fmt), encoding="utf-8")
    return path
