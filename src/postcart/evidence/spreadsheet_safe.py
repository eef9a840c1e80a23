"""Cells that a spreadsheet will show as text, never run as a formula (CSV/formula injection).

Evidence text comes from papers, search exports and web forms; a title or quote beginning with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some spreadsheets skip before
parsing) is read as a formula when our CSV is opened in Excel or LibreOffice, and a formula can
call ``HYPERLINK`` or DDE. Following the OWASP guidance on CSV injection, such text cells get a
leading apostrophe, which spreadsheets display as plain text.

A cell that is a plain number ("-0.12", "+3", "-5%") is not a formula and stays as it is, so a
negative estimate in a report table still reads as a number. Non-text values (ints, floats,
None) pass through. For XLSX the cell *type* is what matters: :func:`text_cells_in_workbook`
stores every string as a string, so nothing written by us becomes a live formula.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import pandas as pd

__all__ = ["TRIGGERS", "neutralise", "neutralise_frame", "text_cells_in_workbook"]

#: First characters that make a spreadsheet parse a cell as a formula (OWASP list).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")

T = TypeVar("T")


def neutralise(cell: T) -> T | str:
    """``cell`` made inert for a spreadsheet: text starting with a trigger gets a leading ``'``."""
    if not isinstance(cell, str) or not cell.startswith(TRIGGERS):
        return cell
    if _PLAIN_NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and text header) neutralised."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column].dtype):  # text: object or str dtype
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def text_cells_in_workbook(book: Any) -> int:
    """Store every formula-typed cell of an openpyxl ``book`` as text; return how many changed.

    openpyxl turns any string that begins with ``=`` into a formula cell; we never write
    formulas, so each such cell is evidence text and is stored as a string instead.
    """
    changed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    changed += 1
    return changed
