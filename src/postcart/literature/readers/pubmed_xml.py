"""PubMed efetch XML (``PubmedArticleSet``) to records, streamed article by article.

Structured abstracts keep their section labels ("OBJECTIVE: ...") because screeners read them;
titles may carry inline markup (``<i>TERT</i>``), so text is flattened rather than taken from
``.text``.
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
    normalise_doi,
    normalise_pmid,
    parse_year,
    unique,
)

FORMAT = "pubmed_xml"
_ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


def _authors(citation: etree._Element) -> tuple[str, ...]:
    names: list[str] = []
    for author in citation.iterfind(".//AuthorList/Author"):
        collective = text_of(author.find("CollectiveName"))
        if collective:
            names.append(collective)
            continue
        last = text_of(author.find("LastName"))
        initials = text_of(author.find("Initials")) or text_of(author.find("ForeName"))
        if last:
            names.append(f"{last} {initials}".strip())
    return unique(names)


def _abstract(citation: etree._Element) -> str:
    parts: list[str] = []
    for section in citation.iterfind(".//Abstract/AbstractText"):
        label = section.get("Label")
        body = text_of(section)
        parts.append(f"{label}: {body}" if label else body)
    return " ".join(part for part in parts if part)


def _year(citation: etree._Element) -> int | None:
    for path in (".//PubDate/Year", ".//PubDate/MedlineDate", ".//ArticleDate/Year"):
        year = parse_year(text_of(citation.find(path)))
        if year is not None:
            return year
    return None


def _doi(article: etree._Element) -> str | None:
    for path in (".//ELocationID[@EIdType='doi']", ".//ArticleIdList/ArticleId[@IdType='doi']"):
        doi = normalise_doi(text_of(article.find(path)))
        if doi:
            return doi
    return None


def _record(article: etree._Element, path: str) -> Record:
    line = line_of(article)
    citation = article.find("MedlineCitation")
    if citation is None:
        citation = article.find("BookDocument")
    if citation is None:
        raise RecordParseError(path, line, "MedlineCitation", "article has no citation element")
    pmid = normalise_pmid(text_of(citation.find("PMID")))
    title = text_of(citation.find(".//ArticleTitle")) or text_of(citation.find(".//BookTitle"))
    if not title:
        title = text_of(citation.find(".//VernacularTitle"))
    if not title:
        raise RecordParseError(path, line, "ArticleTitle", f"PMID {pmid}: article has no title")
    authors = _authors(citation)
    journal = text_of(citation.find(".//Journal/Title")) or text_of(
        citation.find(".//MedlineJournalInfo/MedlineTA")
    )
    keywords = unique(
        [text_of(k) for k in citation.iterfind(".//KeywordList/Keyword")]
        + [text_of(d) for d in citation.iterfind(".//MeshHeading/DescriptorName")]
    )
    types = [text_of(t) for t in citation.iterfind(".//PublicationTypeList/PublicationType")]
    xml_text = etree.tostring(article, encoding="unicode")
    return Record(
        title=title,
        abstract=_abstract(citation),
        authors=authors,
        first_author=author_surname(authors[0]) if authors else "",
        year=_year(citation),
        journal=journal,
        volume=text_of(citation.find(".//JournalIssue/Volume")),
        issue=text_of(citation.find(".//JournalIssue/Issue")),
        pages=text_of(citation.find(".//Pagination/MedlinePgn")),
        doi=_doi(article),
        pmid=pmid,
        keywords=keywords,
        record_type=types[0] if types else "",
        language=text_of(citation.find(".//Language")),
        source_file=path,
        source_line=line,
        source_format=FORMAT,
        raw=(("xml", xml_text),),
    )


def read_pubmed_xml(
    source: IO[bytes],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of a PubmedArticleSet; bad articles raise, or go to ``on_error`` if given."""
    for article in iter_elements(source, path, _ARTICLE_TAGS):
        try:
            yield _record(article, path)
        except RecordParseError as exc:
            if on_error is None:
                raise
            on_error(exc)
