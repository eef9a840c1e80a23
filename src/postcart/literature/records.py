"""One bibliographic record, whatever file it came from, plus the field normalisers readers share.

Every reader turns its format into this one shape so that dedup, screening and export never need
to know whether a record came from RIS, MEDLINE, PubMed XML or a spreadsheet. ``raw`` keeps the
original tag/column values in file order, so nothing a vendor wrote is lost on export.
Missing text fields are ``""``; missing year, DOI and PMID are ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: Longest DOI we accept as one (the lit_record.doi column's width).
MAX_DOI_CHARS = 300
_DOI_RE = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_PMID_RE = re.compile(r"(?<!\d)(\d{1,9})(?!\d)")
_INITIALS_RE = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_PARTICLES = frozenset(
    {"van", "von", "den", "der", "de", "da", "di", "du", "le", "la", "del", "dos"}
)


@dataclass(frozen=True, slots=True)
class Record:
    """A reference as imported: normalised fields for matching, ``raw`` for lossless export."""

    title: str
    source_file: str
    source_line: int
    source_format: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    first_author: str = ""
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    keywords: tuple[str, ...] = ()
    record_type: str = ""
    language: str = ""
    raw: tuple[tuple[str, str], ...] = ()


def normalise_doi(text: str | None) -> str | None:
    """The DOI inside ``text``, lower-cased, without resolver prefix or trailing punctuation.

    Vendors wrap DOIs in URLs (``https://doi.org/``), append junk (Rayyan glues the next RIS tag
    onto the value) or add ``[doi]`` tags; matching needs the bare identifier only.
    """
    if not text:
        return None
    found = _DOI_RE.search(text)
    if found is None:
        return None
    doi = found.group(0).rstrip(".,;)]}").lower()
    # Real DOIs are well under 300 characters; a longer match is junk glued on (kept in raw).
    return doi if len(doi) <= MAX_DOI_CHARS else None


def parse_year(text: str | None) -> int | None:
    """The first plausible four-digit year in a free-text date (``2024///``, ``2002 Sep``...)."""
    if not text:
        return None
    found = _YEAR_RE.search(text)
    return int(found.group(1)) if found else None


def normalise_pmid(text: str | None) -> str | None:
    """The digits of a PubMed ID (``PUBMED 21314913`` -> ``21314913``); ``0`` means none."""
    if not text:
        return None
    found = _PMID_RE.search(text)
    if found is None or int(found.group(1)) == 0:
        return None
    return str(int(found.group(1)))


def author_surname(author: str) -> str:
    """Best guess at the family name in ``Curry Rogers, Kristina``, ``Griffin DK`` or ``Z Yang``."""
    author = author.strip().strip(";,").strip()
    if not author:
        return ""
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    if len(parts) == 1:
        return parts[0]
    # "Griffin DK", "Brownstein C D", "Yang Z." : trailing initials follow the surname.
    tail = len(parts)
    while tail > 1 and _INITIALS_RE.match(parts[tail - 1]):
        tail -= 1
    if tail < len(parts):
        return " ".join(parts[:tail])
    # "Alba Vicente", "van den Hoven": given names first, lower-case particles join the surname.
    first = len(parts) - 1
    while first > 0 and parts[first - 1] in _PARTICLES:
        first -= 1
    return " ".join(parts[first:])


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text once mis-decoded as Windows-1252 (``â€œ`` -> ``“``), common in exports.

    Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) survive such a
    mis-decoding as C1 control characters, so they are mapped straight back to their byte.
    """
    if "Ã" not in text and "â€" not in text:
        return text
    raw = bytearray()
    for char in text:
        try:
            raw += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return text
            raw.append(ord(char))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def fold_text(text: str) -> str:
    """Lower-case ASCII letters and digits separated by single spaces, for matching only."""
    decomposed = unicodedata.normalize("NFKD", repair_mojibake(text))
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


def clean(value: str | None) -> str:
    """Whitespace-collapsed text; ``None`` becomes ``""``."""
    if value is None:
        return ""
    return " ".join(value.split())


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty values, first occurrence kept, order preserved."""
    seen: dict[str, None] = {}
    for value in values:
        cleaned = clean(value)
        if cleaned and cleaned not in seen:
            seen[cleaned] = None
    return tuple(seen)


def join_pages(start: str, end: str) -> str:
    """``start-end`` when both exist, else whichever exists."""
    start, end = clean(start), clean(end)
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end
