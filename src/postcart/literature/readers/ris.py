"""RIS exports of every vendor dialect to records, with a tolerant parser of our own.

rispy drops whole files when they are MEDLINE in disguise and cannot report line numbers, and
real exports break the textbook grammar: Cochrane pads values (``TY  -  JOUR``), Ovid and
Cochrane put banners between records, EndNote omits the final ``ER``, CINAHL puts the DOI in
``L3`` and Cochrane the PMID in ``C3``. Text outside a record is ignored; a line that is not a
tag inside a record continues the previous value.
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
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    unique,
)

FORMAT = "ris"
TAG_RE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: +(.*)|\s*)$")
_DOI_URL_RE = re.compile(r"(?:doi\.org|/doi(?:/(?:full|abs|pdf))?)/(10\.\d{4,9}/\S+)", re.I)
_PMID_TEXT_RE = re.compile(r"(?:PUBMED|PMID)[:\s]*(\d{1,9})", re.IGNORECASE)
_PUBMED_URL_RE = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)")

Fields = list[tuple[str, str]]

TITLE_TAGS = ("TI", "T1", "CT", "BT", "ST")
YEAR_TAGS = ("PY", "Y1", "DA")
JOURNAL_TAGS = ("JF", "T2", "JO", "JA", "J2", "J1")


def _values(fields: Fields, tag: str) -> list[str]:
    return [value for key, value in fields if key == tag]


def _first(fields: Fields, tags: Iterable[str]) -> str:
    for tag in tags:
        for value in _values(fields, tag):
            if value.strip():
                return clean(value)
    return ""


def _doi(fields: Fields) -> str | None:
    """DO first; then DOI-shaped L3/M3/N1 values; then a DOI resolver or publisher URL."""
    for tag in ("DO", "L3", "M3", "N1"):
        for value in _values(fields, tag):
            stripped = value.strip()
            if tag == "DO" or stripped.startswith("10.") or "doi" in stripped.lower():
                doi = normalise_doi(stripped)
                if doi:
                    return doi
    for tag in ("UR", "L2", "L1", "L4"):
        for value in _values(fields, tag):
            if "cochranelibrary.com" in value:
                continue  # the CENTRAL record's own DOI, not the article's
            found = _DOI_URL_RE.search(value)
            if found:
                return normalise_doi(found.group(1))
    return None


def _pmid(fields: Fields) -> str | None:
    for tag in ("C3", "AN", "N1", "M2", "C7"):
        for value in _values(fields, tag):
            found = _PMID_TEXT_RE.search(value)
            if found:
                return normalise_pmid(found.group(1))
    for tag in ("UR", "L2"):
        for value in _values(fields, tag):
            found = _PUBMED_URL_RE.search(value)
            if found:
                return normalise_pmid(found.group(1))
    return None


def _record(fields: Fields, line: int, path: str) -> Record:
    title = _first(fields, TITLE_TAGS)
    if not title:
        raise RecordParseError(path, line, "TI", "RIS record has no title (TI/T1/CT/BT/ST)")
    authors = unique(_values(fields, "AU") + _values(fields, "A1"))
    start, end = _first(fields, ["SP"]), _first(fields, ["EP"])
    return Record(
        title=title,
        abstract=_first(fields, ("AB", "N2")),
        authors=authors,
        first_author=author_surname(authors[0]) if authors else "",
        year=next(
            (y for y in (parse_year(v) for t in YEAR_TAGS for v in _values(fields, t)) if y), None
        ),
        journal=_first(fields, JOURNAL_TAGS),
        volume=_first(fields, ["VL"]),
        issue=_first(fields, ["IS"]),
        pages=join_pages(start, end),
        doi=_doi(fields),
        pmid=_pmid(fields),
        keywords=unique(_values(fields, "KW")),
        record_type=_first(fields, ["TY"]),
        language=_first(fields, ["LA"]),
        source_file=path,
        source_line=line,
        source_format=FORMAT,
        raw=tuple(fields),
    )


def split_ris(lines: Iterable[str]) -> Iterator[tuple[int, Fields]]:
    """Each record's start line and ordered ``(tag, value)`` pairs.

    A record opens at ``TY`` (or at any tag seen outside a record) and closes at ``ER``, at the
    next ``TY`` (missing ``ER``) or at end of file.
    """
    fields: Fields = []
    start = 0
    inside = False
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.rstrip("\r\n").lstrip("\ufeff")
        match = TAG_RE.match(line.lstrip(" \t"))
        if match is None:
            if inside and line.strip() and fields:
                tag, value = fields[-1]
                fields[-1] = (tag, f"{value}\n{line.strip()}" if value else line.strip())
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "ER":
            if inside:
                yield start, fields
            fields, inside = [], False
            continue
        if tag == "TY" and inside:
            yield start, fields
            fields, inside = [], False
        if not inside:
            fields, start, inside = [], number, True
        fields.append((tag, value))
    if inside and fields:
        yield start, fields


def read_ris(
    source: IO[str],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of a RIS file; bad records raise, or go to ``on_error`` if given."""
    for line, fields in split_ris(source):
        try:
            yield _record(fields, line, path)
        except RecordParseError as exc:
            if on_error is None:
                raise
            on_error(exc)
