"""A small, polite client for NCBI E-utilities (esearch and efetch on PubMed).

It does what NCBI asks of every client: names itself (``tool``, ``email``, optional
``api_key``) on each request, keeps to 3 requests/s (10/s with a key), backs off on 429 and
5xx, and posts long ID lists instead of building URLs that proxies cut. Failures end in one
:class:`EutilsError` that says what was asked, how often, and what went wrong last; the API key
never appears in a message. The HTTP transport, base URL, clock and sleep are injectable so
the whole client runs against a local replay server in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlencode

import httpx

from postcart.literature.eutils_answers import (
    EsearchResult,
    EutilsError,
    RetryableAnswerError,
    check_efetch,
    parse_esearch,
)
from postcart.literature.eutils_pacing import (
    REQUESTS_PER_SECOND_WITH_KEY,
    REQUESTS_PER_SECOND_WITHOUT_KEY,
    Clock,
    RateLimiter,
    RetryPolicy,
    Sleep,
)
from postcart.literature.eutils_runs import ESEARCH_MAX_IDS, DateType, SearchRun, search_all

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
#: Longest GET URL sent; longer requests (typically > ~150 PMIDs) go as a form POST.
MAX_GET_URL_CHARS = 2000
#: PMIDs per efetch request by default (NCBI's advice for id lists).
EFETCH_BATCH_SIZE = 200
#: Most PMIDs one efetch request may carry.
EFETCH_MAX_BATCH = 10_000
#: Statuses that mean "try again later" rather than "your request is wrong".
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


def _pubmed_date(day: date) -> str:
    return day.strftime("%Y/%m/%d")


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


class EutilsClient:
    """esearch/efetch against PubMed, rate-limited and retried; use as a context manager."""

    def __init__(
        self,
        *,
        email: str,
        tool: str = "postcart",
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if "@" not in email:
            raise ValueError(f"NCBI asks for a contact e-mail address, got {email!r}")
        self._identity = {"tool": tool, "email": email}
        if api_key:
            self._identity["api_key"] = api_key
        self._base_url = base_url.rstrip("/") + "/"
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        per_second = REQUESTS_PER_SECOND_WITH_KEY if api_key else REQUESTS_PER_SECOND_WITHOUT_KEY
        self.limiter = RateLimiter(per_second, clock=clock, sleep=sleep)
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    # -- the one place requests are sent -------------------------------------------------

    def _send(self, utility: str, params: dict[str, str]) -> httpx.Response:
        url = f"{self._base_url}{utility}.fcgi"
        fields = {**params, **self._identity}
        if len(url) + 1 + len(urlencode(fields)) <= MAX_GET_URL_CHARS:
            return self._http.get(url, params=fields)
        return self._http.post(url, data=fields)

    def _request(
        self, utility: str, params: dict[str, str], where: str, read: Callable[[bytes, str], T]
    ) -> T:
        """Send, retrying transient failures; ``read`` turns the body into the result."""
        last_problem = "no attempt made"
        tries = self._retry.max_tries
        for attempt in range(1, tries + 1):
            self.limiter.wait()
            retry_after: str | None = None
            try:
                response = self._send(utility, params)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status in RETRYABLE_STATUSES:
                    last_problem = f"HTTP {status} {response.reason_phrase}"
                    retry_after = response.headers.get("Retry-After")
                elif status != 200:
                    raise EutilsError(
                        f"{where}: HTTP {status} {response.reason_phrase} (not retried): "
                        f"{_snippet(response.text)}"
                    )
                else:
                    try:
                        return read(response.content, where)
                    except RetryableAnswerError as exc:
                        last_problem = str(exc)
            if attempt < tries:
                self._sleep(self._retry.delay(attempt, retry_after))
        raise EutilsError(f"{where}: gave up after {tries} tries; last problem: {last_problem}")

    # -- the utilities ---------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        mindate: date | None = None,
        maxdate: date | None = None,
        datetype: DateType = "pdat",
        retmax: int = ESEARCH_MAX_IDS,
        retstart: int = 0,
    ) -> EsearchResult:
        """Count the PubMed records matching ``term`` and return up to ``retmax`` PMIDs."""
        if not term.strip():
            raise ValueError("esearch needs a non-empty term")
        if not 0 <= retmax <= ESEARCH_MAX_IDS:
            raise ValueError(f"retmax must be within 0..{ESEARCH_MAX_IDS}, got {retmax}")
        if retstart < 0:
            raise ValueError(f"retstart must not be negative, got {retstart}")
        if (mindate is None) != (maxdate is None):
            raise ValueError("esearch needs both mindate and maxdate, or neither")
        params = {
            "db": "pubmed",
            "term": term,
            "retmax": str(retmax),
            "retstart": str(retstart),
            "retmode": "xml",
        }
        where = f"esearch {term!r}"
        if mindate is not None and maxdate is not None:
            if mindate > maxdate:
                raise ValueError(f"mindate {mindate} is after maxdate {maxdate}")
            params |= {
                "datetype": datetype,
                "mindate": _pubmed_date(mindate),
                "maxdate": _pubmed_date(maxdate),
            }
            where += f" ({datetype} {mindate.isoformat()}..{maxdate.isoformat()})"
        return self._request("esearch", params, where, parse_esearch)

    def efetch(
        self, pmids: Iterable[str | int], *, batch_size: int = EFETCH_BATCH_SIZE
    ) -> Iterator[bytes]:
        """Yield PubMed XML (one ``PubmedArticleSet`` per request) for ``pmids``, in batches.

        Repeated PMIDs are fetched once. Each yielded body has been checked to be complete;
        parsing it is the readers' job.
        """
        if not 1 <= batch_size <= EFETCH_MAX_BATCH:
            raise ValueError(f"batch_size must be within 1..{EFETCH_MAX_BATCH}, got {batch_size}")
        wanted = list(dict.fromkeys(str(pmid).strip() for pmid in pmids))
        bad = [pmid for pmid in wanted if not pmid.isdigit()]
        if bad:
            raise ValueError(f"PMIDs must be digits only; got {bad[:5]}")
        return self._efetch_batches(wanted, batch_size)

    def _efetch_batches(self, wanted: list[str], batch_size: int) -> Iterator[bytes]:
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            params = {"db": "pubmed", "id": ",".join(batch), "retmode": "xml"}
            where = f"efetch of {len(batch)} PMIDs starting at {batch[0]}"
            yield self._request("efetch", params, where, _checked_efetch)

    def search_all(
        self,
        term: str,
        *,
        run_date: date,
        mindate: date | None = None,
        maxdate: date | None = None,
        datetype: DateType = "pdat",
    ) -> SearchRun:
        """Every PMID for ``term`` (split by date past 10,000 hits), as a :class:`SearchRun`."""
        return search_all(
            self, term, run_date=run_date, mindate=mindate, maxdate=maxdate, datetype=datetype
        )


def _checked_efetch(body: bytes, where: str) -> bytes:
    check_efetch(body, where)
    return body
