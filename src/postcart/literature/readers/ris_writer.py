"""Records back to RIS, so a deduplicated or screened set can go to EndNote or Zotero.

Records imported from RIS are written from ``raw`` (every vendor tag survives); others are
written from the normalised fields. Values are kept to one line each, since a line break
inside a value is where RIS readers disagree most.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from postcart.literature.records import Record

_ORDER_FIRST = ("TY",)


def _line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(value.split())}\n"


def _from_fields(record: Record) -> list[str]:
    lines = [_line("TY", record.record_type or "JOUR"), _line("TI", record.title)]
    lines += [_line("AU", author) for author in record.authors]
    if record.year is not None:
        lines.append(_line("PY", str(record.year)))
    optional = (
        ("JO", record.journal),
        ("VL", record.volume),
        ("IS", record.issue),
        ("DO", record.doi or ""),
        ("AN", f"PMID:{record.pmid}" if record.pmid else ""),
        ("AB", record.abstract),
        ("LA", record.language),
    )
    lines += [_line(tag, value) for tag, value in optional if value.strip()]
    start, _, end = record.pages.partition("-")
    if start.strip() and end.strip():
        lines += [_line("SP", start), _line("EP", end)]
    elif record.pages.strip():
        lines.append(_line("SP", record.pages))
    lines += [_line("KW", keyword) for keyword in record.keywords]
    return lines


def _from_raw(record: Record) -> list[str]:
    fields = sorted(record.raw, key=lambda item: item[0] not in _ORDER_FIRST)
    return [_line(tag, value) for tag, value in fields]


def write_ris(records: Iterable[Record], target: IO[str]) -> int:
    """Write ``records`` as RIS to ``target``; returns how many were written."""
    count = 0
    for record in records:
        lines = _from_raw(record) if record.source_format == "ris" and record.raw else None
        target.writelines(lines or _from_fields(record))
        target.write("ER  - \n\n")
        count += 1
    return count
