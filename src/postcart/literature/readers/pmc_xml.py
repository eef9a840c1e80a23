"""PMC efetch answers (``pmc-articleset`` of JATS ``<article>``) to records.

PMC returns full-text JATS rather than PubMed citations; only the front matter matters here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from lxml import etree

from postcart.errors import RecordParseError
from postcart.literature._xml import iter_elements, line_of, text_of
from postcart.literature.records import (
    Record,
    author_surname,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    unique,
)

FORMAT = "pmc_xml"


def _authors(meta: etree._Element) -> tuple[str, ...]:
    names: list[str] = []
    for contrib in meta.iterfind(".//contrib-group/contrib[@contrib-type='author']"):
        collab = text_of(contrib.find(".//collab"))
        surname = text_of(contrib.find(".//surname"))
        given = text_of(contrib.find(".//given-names"))
        if surname:
            names.append(f"{surname}, {given}" if given else surname)
        elif collab:
            names.append(collab)
    return unique(names)


def _year(meta: etree._Element) -> int | None:
    for kind in ("collection", "ppub", "epub", "pub"):
        year = parse_year(text_of(meta.find(f"pub-date[@pub-type='{kind}']/year")))
        if year is not None:
            return year
    return parse_year(text_of(meta.find("pub-date/year")))


def _record(article: etree._Element, path: str) -> Record:
    line = line_of(article)
    meta = article.find("front/article-meta")
    if meta is None:
        raise RecordParseError(path, line, "article-meta", "article has no front matter")
    title = text_of(meta.find("title-group/article-title"))
    if not title:
        raise RecordParseError(path, line, "article-title", "article has no title")
    authors = _authors(meta)
    return Record(
        title=title,
        abstract=text_of(meta.find("abstract")),
        authors=authors,
        first_author=author_surname(authors[0]) if authors else "",
        year=_year(meta),
        journal=text_of(article.find("front/journal-meta/journal-title-group/journal-title")),
        volume=text_of(meta.find("volume")),
        issue=text_of(meta.find("issue")),
        pages=join_pages(text_of(meta.find("fpage")), text_of(meta.find("lpage")))
        or text_of(meta.find("elocation-id")),
        doi=normalise_doi(text_of(meta.find("article-id[@pub-id-type='doi']"))),
        pmid=normalise_pmid(text_of(meta.find("article-id[@pub-id-type='pmid']"))),
        keywords=unique(text_of(k) for k in meta.iterfind(".//kwd-group/kwd")),
        record_type=article.get("article-type", ""),
        language=article.get("{http://www.w3.org/XML/1998/namespace}lang", ""),
        source_file=path,
        source_line=line,
        source_format=FORMAT,
        raw=(("xml", etree.tostring(article, encoding="unicode")),),
    )


def read_pmc_xml(
    source: IO[bytes],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of a PMC efetch answer; bad articles raise, or go to ``on_error`` if given."""
    for article in iter_elements(source, path, ("article",)):
        try:
            yield _record(article, path)
        except RecordParseError as exc:
            if on_error is None:
                raise
            on_error(exc)
