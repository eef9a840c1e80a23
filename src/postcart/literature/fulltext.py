"""Where the full text of a record can be read: DOI, PubMed, PubMed Central, the stored location.

A resolver settles a conflict better with the paper open beside both votes; reviewers' own
complaint about review tools is that the full text is somewhere else. This module gathers the
links we already hold for a record; it fetches nothing.

Links are built only from identifiers that match their pattern (a DOI, digits for a PMID,
``PMC`` and digits), and a stored location becomes a link only when it is an ``http(s)`` URL,
so an imported value such as ``javascript:…`` is shown as text and never made clickable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.literature import models as m
from postcart.literature.records import normalise_doi

_PMCID = re.compile(r"PMC\d{1,10}")
_PMC_IN_XML = re.compile(r"IdType=\"pmc(?:id)?\"\s*>\s*(PMC\d{1,10})\s*<", re.IGNORECASE)
_PMID = re.compile(r"\d{1,9}")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")


@dataclass(frozen=True, slots=True)
class FullText:
    """Links and the stored full-text location of one record (empty strings when unknown)."""

    doi: str
    doi_url: str
    pmid: str
    pubmed_url: str
    pmcid: str
    pmc_url: str
    #: The report's location as stored (a path, a URL, a shelf mark), shown as text.
    location: str
    #: The location again when it is an http(s) URL, so it can be a link; else "".
    location_url: str
    #: Whether the full text was obtained: True, False (sought, not found) or None (unknown).
    retrieved: bool | None


def pmcid_of(raw: list[list[str]] | tuple[tuple[str, str], ...]) -> str:
    """The PubMed Central id in a record's raw fields (MEDLINE ``PMC``, XML ``IdType="pmc"``)."""
    for tag, value in raw:
        if tag.strip().lower() in ("pmc", "pmcid"):
            found = _PMCID.fullmatch(value.strip().upper())
            if found:
                return found.group(0)
        elif tag == "xml":
            inside = _PMC_IN_XML.search(value)
            if inside:
                return inside.group(1).upper()
    return ""


def _http(location: str) -> str:
    parts = urlsplit(location.strip())
    return location.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def of(session: Session, record: m.LitRecord) -> FullText:
    """The full-text links of ``record`` (the caller has checked the reader may see it)."""
    # The stored DOI as it is when it is one (readers normalised it on import); normalising it
    # again would cut a DOI that ends in ")".
    stored = (record.doi or "").strip()
    doi = stored if _DOI.fullmatch(stored) else normalise_doi(stored) or ""
    pmid = record.pmid or ""
    pmid = pmid if _PMID.fullmatch(pmid) else ""
    pmcid = pmcid_of(record.raw or [])
    report = session.scalar(select(m.Report).where(m.Report.record_id == record.id))
    location = "" if report is None else report.location
    return FullText(
        doi=doi,
        doi_url=f"https://doi.org/{quote(doi, safe='/:;()._-')}" if doi else "",
        pmid=pmid,
        pubmed_url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
        pmcid=pmcid,
        pmc_url=f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/" if pmcid else "",
        location=location,
        location_url=_http(location),
        retrieved=None if report is None else report.retrieved,
    )


__all__ = ["FullText", "of", "pmcid_of"]
