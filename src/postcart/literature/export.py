"""A project's imported records written out as CSV, XLSX or RIS, with where each came from.

The CLI (``postcart lit export``) and the web app call this one function. Spreadsheet
formats are written so that no record text becomes a live formula: titles and journal names
come from outside (search exports, other people's files), and a title beginning with ``=`` is
made inert (:mod:`postcart.evidence.spreadsheet_safe`). An unknown format is refused rather
than quietly written as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import IO, Literal, get_args

from postcart.errors import PostcartError
from postcart.evidence.spreadsheet_safe import neutralise, text_cells_in_workbook
from postcart.literature import models as m
from postcart.literature import store
from postcart.literature.readers.ris_writer import write_ris

__all__ = ["COLUMNS", "FORMATS", "ExportFormat", "ExportFormatError", "export_records", "rows"]

ExportFormat = Literal["csv", "xlsx", "ris"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)

#: Column headers of the CSV and XLSX exports, in order.
COLUMNS = (
    "record_id",
    "title",
    "year",
    "doi",
    "pmid",
    "first_author",
    "journal",
    "source_file",
    "source_line",
    "duplicate_group",
)


class ExportFormatError(PostcartError):
    """An export format we do not write."""


def check_format(fmt: str) -> ExportFormat:
    """``fmt`` if it is one we write, else an error listing the ones we do."""
    if fmt not in FORMATS:
        raise ExportFormatError(
            f"--format {fmt!r}: not a format we write; use one of {', '.join(FORMATS)}"
        )
    return fmt  # type: ignore[return-value]


def rows(records: Sequence[m.LitRecord]) -> list[tuple[object, ...]]:
    """One tuple per record, in :data:`COLUMNS` order (None for an unknown value)."""
    return [
        (
            r.id,
            r.title,
            r.year,
            r.doi,
            r.pmid,
            r.first_author,
            r.journal,
            r.source_file,
            r.source_line,
            r.duplicate_group_id,
        )
        for r in records
    ]


def _csv(records: Sequence[m.LitRecord], target: IO[str]) -> None:
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(records):
        writer.writerow(["" if v is None else neutralise(v) for v in row])


def _xlsx(records: Sequence[m.LitRecord]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "records"
    sheet.append(COLUMNS)
    for row in rows(records):
        sheet.append(row)
    text_cells_in_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_records(records: Sequence[m.LitRecord], fmt: str) -> str | bytes:
    """``records`` in ``fmt``: text for CSV and RIS, bytes for XLSX."""
    chosen = check_format(fmt)
    if chosen == "xlsx":
        return _xlsx(records)
    out = io.StringIO()
    if chosen == "ris":
        write_ris((store.as_record(r) for r in records), out)
    else:
        _csv(records, out)
    return out.getvalue()
