"""PubMed MEDLINE text (``.nbib``, "PubMed format") to records.

Each line is a tag padded to four characters, ``- ``, then a value; six leading spaces continue
the previous value; a blank line ends a record. The DOI lives in ``AID``/``LID`` lines tagged
``[doi]`` (``LID`` can also hold a PII or an e-location, so the tag suffix decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from postcart.errors import RecordParseError
from postcart.literature.records import (
    Record,
    author_surname,
    clean,
    normalise_doi,
    normalise_pmid,
    parse_year,
    unique,
)

FORMAT = "medline"
_TAG_RE = re.compile(r"^([A-Z0-9]{2,4}) {0,2}- ?(.*)$")
_CONTINUATION = "      "

Fields = list[tuple[str, str]]


def _values(fields: Fields, tag: str) -> list[str]:
    return [value for key, value in fields if key == tag]


def _first(fields: Fields, *tags: str) -> str:
    for tag in tags:
        for value in _values(fields, tag):
            if value.strip():
                return clean(value)
    return ""


def _doi(fields: Fields) -> str | None:
    for tag in ("AID", "LID"):
        for value in _values(fields, tag):
            if value.rstrip().endswith("[doi]"):
                doi = normalise_doi(value.rsplit("[", 1)[0])
                if doi:
                    return doi
    return None


def _record(fields: Fields, line: int, path: str) -> Record:
    title = _first(fields, "TI", "BTI", "VTI")
    if not title:
        raise RecordParseError(path, line, "TI", "MEDLINE record has no title")
    authors = unique(_values(fields, "AU") or _values(fields, "FAU")) + unique(
        _values(fields, "CN")
    )
    types = _values(fields, "PT")
    return Record(
        title=title,
        abstract=_first(fields, "AB"),
        authors=authors,
        first_author=author_surname(authors[0]) if authors else "",
        year=parse_year(_first(fields, "DP", "DEP", "EDAT")),
        journal=_first(fields, "JT", "TA"),
        volume=_first(fields, "VI"),
        issue=_first(fields, "IP"),
        pages=_first(fields, "PG"),
        doi=_doi(fields),
        pmid=normalise_pmid(_first(fields, "PMID")),
        keywords=unique(_values(fields, "OT") + _values(fields, "MH")),
        record_type=clean(types[0]) if types else "",
        language=_first(fields, "LA"),
        source_file=path,
        source_line=line,
        source_format=FORMAT,
        raw=tuple(fields),
    )


def split_medline(lines: Iterable[str], path: str) -> Iterator[tuple[int, Fields]]:
    """Each record's start line and ordered ``(tag, value)`` pairs, continuation lines joined."""
    fields: Fields = []
    start = 0
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            if fields:
                yield start, fields
                fields = []
            continue
        if line.startswith(_CONTINUATION) and fields:
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {line.strip()}")
            continue
        match = _TAG_RE.match(line)
        if match is None:
            raise RecordParseError(path, number, "line", f"not a MEDLINE tag line: {line[:40]!r}")
        if not fields:
            start = number
        fields.append((match.group(1), match.group(2).strip()))
    if fields:
        yield start, fields


def read_medline(
    source: IO[str],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of a MEDLINE file; bad records raise, or go to ``on_error`` if given."""
    for line, fields in split_medline(source, path):
        try:
            yield _record(fields, line, path)
        except RecordParseError as exc:
            if on_error is None:
                raise
            on_error(exc)
