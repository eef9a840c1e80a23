"""Tables as CSV and one XLSX workbook, written so that the same data give the same bytes."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd

from postcart.evidence.spreadsheet_safe import neutralise_frame, text_cells_in_workbook
from postcart.report.cells import RefBook, ReportTable

#: Zip entries get this fixed timestamp instead of the wall clock.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def table_csv(table: ReportTable, refs: RefBook) -> bytes:
    """The table's values with a source column per value column, UTF-8, LF line ends.

    Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay.
    """
    frame = neutralise_frame(table.to_frame(refs))
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _stable_zip(data: bytes) -> bytes:
    """Rewrite a zip (xlsx) with fixed entry times and document dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<3>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def workbook(tables: list[ReportTable], refs: RefBook) -> bytes:
    """Every table on its own sheet (sheet name = table name), plus the provenance notes."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for table in tables:
            table.to_frame(refs).to_excel(writer, sheet_name=table.name[:31], index=False)
        notes = pd.DataFrame(
            [(r.anchor, r.label, r.locator or "", r.quote or "", r.url or "", r.citation or "")
             for r in refs.ordered()],
            columns=["anchor", "label", "locator", "quote", "url", "citation"],
        )  # fmt: skip
        notes.to_excel(writer, sheet_name="provenance", index=False)
        text_cells_in_workbook(writer.book)  # evidence text is never a live formula
    return _stable_zip(buffer.getvalue())
