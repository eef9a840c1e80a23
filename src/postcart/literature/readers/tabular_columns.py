"""Which spreadsheet column holds which record field, across vendors' CSV/TSV/XLSX exports.

Every vendor names columns differently ("Title", "Article Title", "Title Primary", ...); the
first synonym present wins, so the more specific names come first (Embase's "Source" is a full
citation, its "Source title" is the journal).
"""

from __future__ import annotations

import re

#: Field -> header names (lower-cased, whitespace-collapsed), most specific first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "title primary", "primary title", "document title", "ti"),
    "abstract": ("abstract", "abstract note", "ab", "notes abstract"),
    "authors": (
        "authors",
        "author",
        "author/s",
        "author(s)",
        "author names",
        "authors, primary",
        "authorships.author.display_name",
        "authorships.raw_author_name",
        "first_authors",
        "au",
    ),
    "year": (
        "year",
        "publication year",
        "published year",
        "pub year",
        "publication_year",
        "py",
        "date published",
        "publication date",
        "date of publication",
        "date",
    ),
    "journal": (
        "journal",
        "source title",
        "journal title",
        "publication title",
        "journal/book",
        "periodical full",
        "primary_location.source.display_name",
        "publication",
        "source",
        "so",
    ),
    "volume": ("volume", "biblio.volume", "vl"),
    "issue": ("issue", "issue number", "number", "biblio.issue", "is"),
    "pages": ("pages", "page", "pg"),
    "start_page": ("start page", "first page", "biblio.first_page", "other pages", "sp"),
    "end_page": ("end page", "last page", "biblio.last_page", "ep"),
    "doi": ("doi", "ids.doi", "di", "do"),
    "pmid": ("pmid", "pubmed id", "pubmed_id", "medline pmid", "ids.pmid", "pm"),
    "keywords": ("keywords", "author keywords", "keywords.display_name", "manual tags", "kw"),
    "record_type": (
        "publication type",
        "item type",
        "document type",
        "doctype",
        "reference type",
        "type",
    ),
    "language": ("language", "article language", "la"),
}

_EXCEL_FORMULA_RE = re.compile(r'^="(.*)"$', re.DOTALL)
_AND_RE = re.compile(r"\s+and\s+")
_MISSING = {"", "nan", "none", "null", "n/a", "na"}


def normalise_header(name: str) -> str:
    """Header as matched against :data:`SYNONYMS`."""
    return " ".join(name.replace("\ufeff", "").strip().strip('"').lower().split())


def map_columns(header: list[str]) -> dict[str, int]:
    """Field -> column index for every field whose synonym appears in ``header``."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(normalise_header(name), index)
    mapping: dict[str, int] = {}
    for field, names in SYNONYMS.items():
        for name in names:
            if name in positions:
                mapping[field] = positions[name]
                break
    return mapping


def cell_text(value: object) -> str:
    """A cell as text: Excel ``="..."`` wrappers removed, ``2024.0`` -> ``2024``, nan -> ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    wrapped = _EXCEL_FORMULA_RE.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    return "" if text.lower() in _MISSING else text


def split_authors(text: str) -> list[str]:
    """Author list in any vendor convention (``|``, ``;``, `` and ``, ``Yang Z., Xu J.``)."""
    text = text.strip()
    if not text:
        return []
    if "|" in text:
        parts = text.split("|")
    elif ";" in text:
        parts = text.split(";")
    elif _AND_RE.search(text):
        parts = _AND_RE.split(text)
    elif "," in text:
        pieces = [piece.strip() for piece in text.split(",") if piece.strip()]
        # "Yang Z., Jiang B." -> each piece is a whole name; "Curry Rogers, Kristina" -> one name.
        parts = pieces if len(pieces) > 1 and all(" " in p for p in pieces) else [text]
    else:
        parts = [text]
    names = [re.sub(r",\s*null$", "", part.strip().strip(",")).strip() for part in parts]
    return [name for name in names if name]


def split_keywords(text: str) -> list[str]:
    """Keyword list separated by ``;``, ``|`` or, failing those, commas."""
    for separator in (";", "|", ","):
        if separator in text:
            return [part.strip() for part in text.split(separator) if part.strip()]
    return [text.strip()] if text.strip() else []
