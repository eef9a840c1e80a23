"""Reading what NCBI E-utilities answered, and deciding whether the answer can be trusted.

An answer comes from the network, so it is parsed as hostile: no DTD loading, no network,
no entity expansion, and an answer that still carries entity references is refused rather than
half-read. NCBI reports many failures inside an HTTP 200 (an ``<ERROR>`` element), and a
dropped connection can leave a body cut short; both must become errors, never silent
zero-hit searches or short record sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from postcart.errors import PostcartError

#: Bytes of an efetch body inspected for its document element and for an ``<ERROR>``.
_HEAD_BYTES = 4096


class EutilsError(PostcartError):
    """An E-utilities request failed or its answer is unusable; the message says which and why."""


class RetryableAnswerError(EutilsError):
    """The answer looks cut short or garbled; asking again may well succeed."""


@dataclass(frozen=True, slots=True)
class EsearchResult:
    """One esearch answer: the total hit count and the slice of PMIDs it carried."""

    count: int
    retmax: int
    retstart: int
    pmids: tuple[str, ...]
    query_translation: str


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse(body: bytes, where: str) -> etree._Element:
    try:
        root = etree.fromstring(body, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise RetryableAnswerError(f"{where}: answer is not well-formed XML ({exc.msg})") from exc
    if any(True for _ in root.iter(etree.Entity)):
        raise EutilsError(
            f"{where}: answer uses XML entity references; refused (possible XXE or entity bomb)"
        )
    return root


def _int_of(root: etree._Element, tag: str, where: str) -> int:
    text = root.findtext(tag)
    if text is None or not text.strip().isdigit():
        raise EutilsError(f"{where}: esearch answer has no usable <{tag}> (got {text!r})")
    return int(text)


def parse_esearch(body: bytes, where: str) -> EsearchResult:
    """Parse an esearch XML answer; ``where`` names the request in error messages."""
    root = _parse(body, where)
    error = root.findtext("ERROR") if root.tag != "ERROR" else root.text
    if error is not None:
        raise EutilsError(f"{where}: NCBI reported an error: {error.strip()}")
    if root.tag != "eSearchResult":
        raise EutilsError(f"{where}: expected <eSearchResult>, got <{root.tag}>")
    pmids = tuple((el.text or "").strip() for el in root.iterfind("IdList/Id"))
    if not all(pmid.isdigit() for pmid in pmids):
        raise EutilsError(f"{where}: esearch answer has a non-numeric <Id>")
    return EsearchResult(
        count=_int_of(root, "Count", where),
        retmax=_int_of(root, "RetMax", where),
        retstart=_int_of(root, "RetStart", where),
        pmids=pmids,
        query_translation=" ".join((root.findtext("QueryTranslation") or "").split()),
    )


def check_efetch(body: bytes, where: str) -> None:
    """Refuse an efetch answer that reports an error or does not end its PubmedArticleSet.

    The body is not parsed here (it may be large and the readers stream it later); a complete
    answer must open a ``PubmedArticleSet`` and close it as its last element.
    """
    head = body[:_HEAD_BYTES]
    if b"<PubmedArticleSet" not in head:
        if b"<ERROR>" in head:
            start = head.index(b"<ERROR>") + len(b"<ERROR>")
            end = head.find(b"</ERROR>", start)
            message = head[start : end if end >= 0 else None].decode("utf-8", "replace")
            raise EutilsError(f"{where}: NCBI reported an error: {message.strip()}")
        if not body.strip():
            raise RetryableAnswerError(f"{where}: empty efetch answer")
        raise EutilsError(f"{where}: efetch answer is not a PubmedArticleSet")
    if not body.rstrip().endswith((b"</PubmedArticleSet>", b"<PubmedArticleSet/>")):
        raise RetryableAnswerError(f"{where}: efetch answer was cut short (no closing tag)")
