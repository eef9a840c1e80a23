"""A whole PubMed search, however large, and the record kept of it.

PubMed's esearch hands out at most the first 10,000 PMIDs of a result. A larger search is
therefore cut into publication-date windows, halving a window until each holds at most 10,000
records, and the PMIDs of all windows are united. What is kept is the query, its dates, the
count and the PMIDs; never the WebEnv, which expires within hours and so proves nothing later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from postcart.literature.eutils_answers import EsearchResult, EutilsError

#: Most PMIDs esearch returns for one query (its ``retmax`` ceiling for PubMed).
ESEARCH_MAX_IDS = 10_000
#: Start of the date range when a large search gives no ``mindate`` (before PubMed's oldest).
EARLIEST_DATE = date(1700, 1, 1)

DateType = Literal["pdat", "edat", "mdat"]


class Esearcher(Protocol):
    """Anything that can run one esearch (the client, in practice)."""

    def esearch(
        self,
        term: str,
        *,
        mindate: date | None = None,
        maxdate: date | None = None,
        datetype: DateType = "pdat",
        retmax: int = ESEARCH_MAX_IDS,
        retstart: int = 0,
    ) -> EsearchResult: ...


@dataclass(frozen=True, slots=True)
class SearchRun:
    """What one search returned on ``run_date``: enough to re-run it and to diff two runs."""

    query: str
    mindate: date | None
    maxdate: date | None
    run_date: date
    count: int
    pmids: tuple[str, ...]
    datetype: DateType = "pdat"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (dates as ISO strings), for storage by the caller."""
        return {
            "query": self.query,
            "datetype": self.datetype,
            "mindate": self.mindate.isoformat() if self.mindate else None,
            "maxdate": self.maxdate.isoformat() if self.maxdate else None,
            "run_date": self.run_date.isoformat(),
            "count": self.count,
            "pmids": list(self.pmids),
        }


def _halves(low: date, high: date) -> tuple[tuple[date, date], tuple[date, date]]:
    middle = low + timedelta(days=(high - low).days // 2)
    return (low, middle), (middle + timedelta(days=1), high)


def _too_many(term: str, datetype: DateType, day: date, count: int) -> EutilsError:
    return EutilsError(
        f"{count} records for {term!r} on the single {datetype} day {day.isoformat()}: "
        f"more than the {ESEARCH_MAX_IDS} esearch can return; narrow the query"
    )


def _all_listed(result: EsearchResult, term: str) -> set[str]:
    """The answer's PMIDs, refusing an answer that lists fewer than it counted."""
    if len(result.pmids) < result.count:
        raise EutilsError(
            f"esearch {term!r} counted {result.count} records but listed only "
            f"{len(result.pmids)} PMIDs; the answer is incomplete"
        )
    return set(result.pmids)


def _collect_windows(
    client: Esearcher, term: str, datetype: DateType, windows: list[tuple[date, date]]
) -> set[str]:
    """PMIDs of ``term`` within ``windows``, halving any window that holds too many records."""
    found: set[str] = set()
    pending = list(windows)
    while pending:
        low, high = pending.pop()
        result = client.esearch(
            term, mindate=low, maxdate=high, datetype=datetype, retmax=ESEARCH_MAX_IDS
        )
        if result.count <= ESEARCH_MAX_IDS:
            found.update(_all_listed(result, term))
        elif low == high:
            raise _too_many(term, datetype, low, result.count)
        else:
            pending.extend(_halves(low, high))
    return found


def search_all(
    client: Esearcher,
    term: str,
    *,
    run_date: date,
    mindate: date | None = None,
    maxdate: date | None = None,
    datetype: DateType = "pdat",
) -> SearchRun:
    """Run ``term`` and return every PMID, splitting by date when there are over 10,000.

    Giving one date bound implies the other (``EARLIEST_DATE`` or ``run_date``); the run
    records the bounds actually searched.
    """
    if mindate is not None or maxdate is not None:
        mindate = mindate or EARLIEST_DATE
        maxdate = maxdate or run_date
        if mindate > maxdate:
            raise ValueError(f"mindate {mindate} is after maxdate {maxdate}")
    first = client.esearch(
        term, mindate=mindate, maxdate=maxdate, datetype=datetype, retmax=ESEARCH_MAX_IDS
    )
    if first.count <= ESEARCH_MAX_IDS:
        pmids = _all_listed(first, term)
    else:
        # Undated: issues are often dated ahead, so the split range runs past run_date.
        low = mindate or EARLIEST_DATE
        high = maxdate or date(run_date.year + 1, 12, 31)
        if low == high:
            raise _too_many(term, datetype, low, first.count)
        pmids = _collect_windows(client, term, datetype, list(_halves(low, high)))
    return SearchRun(
        query=term,
        mindate=mindate,
        maxdate=maxdate,
        run_date=run_date,
        count=first.count,
        pmids=tuple(sorted(pmids, key=int)),
        datetype=datetype,
    )
