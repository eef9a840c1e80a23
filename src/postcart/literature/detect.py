"""Which reader a literature file needs, decided from its content, never its file name.

PubMed's MEDLINE export is routinely saved as ``.ris`` or ``.txt``; a RIS parser then finds no
``TY`` tag and returns zero records without complaint. Looking at the bytes avoids that trap.
"""

from __future__ import annotations

import re
from enum import StrEnum

from postcart.errors import RecordParseError
from postcart.literature.readers._text import decode_head

#: How many leading bytes :func:`detect_format` needs to see.
HEAD_BYTES = 65536

_PROLOG_RE = re.compile(
    r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s[^\[>]*(?:\[.*?\]\s*)?>)", re.DOTALL | re.IGNORECASE
)
_ROOT_RE = re.compile(r"\s*<([A-Za-z_][\w:.\-]*)")
_MEDLINE_RE = re.compile(r"^PMID- ?\d", re.MULTILINE)
_RIS_RE = re.compile(r"^[ \t]*TY {1,2}- ", re.MULTILINE)
_TITLE_HEADER_RE = re.compile(r"title", re.IGNORECASE)
_DELIMITERS = (",", "\t", ";", "|")


class Format(StrEnum):
    """Formats :func:`postcart.literature.readers.read_records` understands."""

    PUBMED_XML = "pubmed_xml"
    PMC_XML = "pmc_xml"
    ESEARCH_XML = "esearch_xml"
    MEDLINE = "medline"
    RIS = "ris"
    DELIMITED = "delimited"
    XLSX = "xlsx"


_XML_ROOTS = {
    "PubmedArticleSet": Format.PUBMED_XML,
    "PubmedArticle": Format.PUBMED_XML,
    "PubmedBookArticle": Format.PUBMED_XML,
    "pmc-articleset": Format.PMC_XML,
    "article": Format.PMC_XML,
    "eSearchResult": Format.ESEARCH_XML,
}


def xml_root_name(text: str) -> str | None:
    """Name of the first element after the XML declaration, comments and DOCTYPE."""
    position = 0
    while True:
        prolog = _PROLOG_RE.match(text, position)
        if prolog is None or prolog.end() == position:
            break
        position = prolog.end()
    root = _ROOT_RE.match(text, position)
    return root.group(1) if root else None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text[:4096] if ch < " " and ch not in "\r\n\t\f")
    return "\x00" in text[:4096] or controls > 0.05 * max(1, len(text[:4096]))


def _first_match(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.search(text)
    return found.start() if found else len(text) + 1


def _looks_delimited(text: str) -> bool:
    """A header-like line naming a title column and split by a common delimiter."""
    for line in text.splitlines()[:25]:
        if _TITLE_HEADER_RE.search(line) and any(line.count(d) >= 1 for d in _DELIMITERS):
            return True
    return False


def detect_format(head: bytes, path: str) -> Format:
    """Format of a file from its first :data:`HEAD_BYTES` bytes; unknown -> RecordParseError."""
    if not head.strip():
        raise RecordParseError(path, None, "file", "file is empty")
    if head.startswith(b"PK\x03\x04"):
        return Format.XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RecordParseError(path, None, "file", "legacy .xls is not supported; save as .xlsx")
    text = decode_head(head)
    if _looks_binary(text):
        raise RecordParseError(path, None, "file", "binary content, not a bibliographic export")
    if text.lstrip().startswith("<"):
        root = xml_root_name(text.lstrip())
        if root in _XML_ROOTS:
            return _XML_ROOTS[root]
        raise RecordParseError(path, 1, "root", f"unsupported XML document element <{root}>")
    medline_at = _first_match(_MEDLINE_RE, text)
    ris_at = _first_match(_RIS_RE, text)
    if medline_at < ris_at:
        return Format.MEDLINE
    if ris_at <= len(text):
        return Format.RIS
    if _looks_delimited(text):
        return Format.DELIMITED
    raise RecordParseError(path, None, "file", "not RIS, MEDLINE, PubMed/PMC XML, CSV/TSV or XLSX")
