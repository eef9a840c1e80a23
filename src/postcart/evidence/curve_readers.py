"""Read digitised Kaplan–Meier points and numbers-at-risk tables from CSV files.

Two curve formats are accepted, recognised from the content rather than the file name:

* **plain CSV** with a header ``time,survival`` (survival as a proportion or a percent);
* **WebPlotDigitizer exports**: bare ``x,y`` rows (one dataset, no header), a header row
  ``X,Y``, or the all-datasets layout whose first row names each dataset above its
  ``X,Y`` column pair (pick one with ``dataset=``). Comma, semicolon and tab separators
  are recognised.

A risk table has a header ``time,at_risk``. Every problem is a :class:`CurveFileError`
naming the file, the line and the column, never a traceback.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from postcart.errors import PostcartError, Problem

CURVE_HEADERS = ("time", "survival")
RISK_HEADERS = ("time", "at_risk")


class CurveFileError(PostcartError, ValueError):
    """A curve or risk-table file cannot be used; ``problem`` says file, line and field."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass(frozen=True)
class RawCurve:
    """Digitised points as read, with the file line of each point (for messages)."""

    path: str
    time: tuple[float, ...]
    surv: tuple[float, ...]
    lines: tuple[int, ...]
    format: str
    dataset: str | None = None


@dataclass(frozen=True)
class RawRiskTable:
    """A numbers-at-risk table as read, with the file line of each row."""

    path: str
    time: tuple[float, ...]
    at_risk: tuple[int, ...]
    lines: tuple[int, ...]


def _fail(path: str, line: int | None, field: str, message: str) -> CurveFileError:
    return CurveFileError(Problem(path, line, field, message))


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-empty rows with their 1-based line numbers; the separator is sniffed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(str(path), None, "file", f"cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise _fail(str(path), None, "file", "not UTF-8 text (is it a CSV?)") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    rows: list[tuple[int, list[str]]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in row]
        if any(cells):
            rows.append((number, cells))
    if not rows:
        raise _fail(str(path), None, "file", "no data rows")
    return rows


def _number(path: str, line: int, field: str, text: str) -> float:
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 else float(text)
    except ValueError:
        raise _fail(path, line, field, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise _fail(path, line, field, f"{text!r} is not a finite number")
    return value


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def read_curve(path: str | Path, *, dataset: str | None = None) -> RawCurve:
    """Digitised ``(time, survival)`` points from a plain or WebPlotDigitizer CSV."""
    p = Path(path)
    rows = _rows(p)
    where = str(p)
    header = [c.lower() for c in rows[0][1]]
    if header[:2] == list(CURVE_HEADERS):
        return _columns(where, rows[1:], 0, "plain CSV (time,survival)", None)
    if all(_is_number(c) for c in rows[0][1][:2]):
        return _columns(where, rows, 0, "WebPlotDigitizer (x,y rows)", None)
    if header[:2] == ["x", "y"]:
        return _columns(where, rows[1:], 0, "WebPlotDigitizer (X,Y header)", None)
    if len(rows) > 1 and [c.lower() for c in rows[1][1][:2]] == ["x", "y"]:
        names = list(rows[0][1][::2])
        chosen = _pick_dataset(where, rows[0][0], names, dataset)
        col = 2 * names.index(chosen)
        return _columns(where, rows[2:], col, "WebPlotDigitizer (all datasets)", chosen)
    raise _fail(
        where,
        rows[0][0],
        "header",
        f"expected 'time,survival' or a WebPlotDigitizer export, found {','.join(rows[0][1])!r}",
    )


def _pick_dataset(path: str, line: int, names: list[str], wanted: str | None) -> str:
    present = [n for n in names if n]
    if wanted is not None:
        if wanted not in present:
            raise _fail(path, line, "dataset", f"no dataset {wanted!r}; the file has {present}")
        return wanted
    if len(present) != 1:
        raise _fail(path, line, "dataset", f"several datasets {present}: name the one to use")
    return present[0]


def _columns(
    path: str, rows: list[tuple[int, list[str]]], col: int, fmt: str, dataset: str | None
) -> RawCurve:
    times: list[float] = []
    survs: list[float] = []
    lines: list[int] = []
    for line, cells in rows:
        pair = cells[col : col + 2]
        if not any(pair):
            continue  # a shorter dataset in an all-datasets export
        if len(pair) < 2 or not pair[1]:
            raise _fail(path, line, "survival", "missing")
        times.append(_number(path, line, "time", pair[0]))
        survs.append(_number(path, line, "survival", pair[1]))
        lines.append(line)
    if len(times) < 2:
        raise _fail(path, None, "time", f"the curve has {len(times)} point(s); at least 2 needed")
    return RawCurve(path, tuple(times), tuple(survs), tuple(lines), fmt, dataset)


def read_risk_table(path: str | Path) -> RawRiskTable:
    """A numbers-at-risk table with header ``time,at_risk`` (whole numbers, >= 0)."""
    p = Path(path)
    where = str(p)
    rows = _rows(p)
    header = [c.lower() for c in rows[0][1]]
    if header[:2] != list(RISK_HEADERS):
        raise _fail(where, rows[0][0], "header", f"expected 'time,at_risk', found {header}")
    times: list[float] = []
    counts: list[int] = []
    lines: list[int] = []
    for line, cells in rows[1:]:
        if len(cells) < 2:
            raise _fail(where, line, "at_risk", "missing")
        t = _number(where, line, "time", cells[0])
        n = _number(where, line, "at_risk", cells[1])
        if n < 0 or n != round(n):
            raise _fail(where, line, "at_risk", f"{cells[1]!r} is not a whole number >= 0")
        times.append(t)
        counts.append(round(n))
        lines.append(line)
    if not times:
        raise _fail(where, None, "time", "the risk table has no rows")
    return RawRiskTable(where, tuple(times), tuple(counts), tuple(lines))
