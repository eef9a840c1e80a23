"""search_all over a server whose counts depend on the date window, like PubMed's, and the
SearchRun it returns; plus request spacing under NCBI's rate limits, on a fake clock."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from postcart.literature.eutils import EutilsClient
from postcart.literature.eutils_answers import EutilsError
from postcart.literature.eutils_pacing import RateLimiter, RetryPolicy, parse_retry_after
from postcart.literature.eutils_runs import EARLIEST_DATE, SearchRun

from .eutils_server import FakeClock, ReplayServer, dated_corpus_answer, fake_clock, replay

__all__ = ["fake_clock", "replay"]  # fixtures used by name

RUN_DATE = date(2025, 6, 30)
FIRST_DAY = date(2015, 1, 1)
DAYS = 3653  # 2015-01-01 .. 2024-12-31


def _client(server: ReplayServer, clock: FakeClock, api_key: str | None = None) -> EutilsClient:
    return EutilsClient(
        email="team@example.org",
        base_url=server.base_url,
        api_key=api_key,
        clock=clock.monotonic,
        sleep=clock.sleep,
    )


def _corpus(size: int) -> dict[str, date]:
    """``size`` PMIDs spread evenly over 2015-2024."""
    return {str(30_000_000 + i): FIRST_DAY + timedelta(days=i * DAYS // size) for i in range(size)}


def _window(params: dict[str, str]) -> tuple[date, date]:
    low, high = (date(*map(int, params[key].split("/"))) for key in ("mindate", "maxdate"))
    return low, high


def _hits(corpus: dict[str, date], window: tuple[date, date]) -> int:
    return sum(window[0] <= day <= window[1] for day in corpus.values())


def test_a_small_search_is_one_request(replay, fake_clock):
    corpus = _corpus(300)
    replay.esearch_answer = dated_corpus_answer(corpus)
    with _client(replay, fake_clock) as client:
        run = client.search_all("CAR T-cell therapy and real-world data", run_date=RUN_DATE)
    assert run == SearchRun(
        query="CAR T-cell therapy and real-world data",
        mindate=None,
        maxdate=None,
        run_date=RUN_DATE,
        count=300,
        pmids=tuple(sorted(corpus, key=int)),
    )
    (seen,) = replay.requests
    assert seen.params["retmax"] == "10000"
    assert "mindate" not in seen.params


def test_over_10000_hits_are_split_by_date_until_each_part_fits(replay, fake_clock):
    corpus = _corpus(25_000)
    replay.esearch_answer = dated_corpus_answer(corpus)
    low, high = date(2015, 1, 1), date(2024, 12, 31)
    with _client(replay, fake_clock) as client:
        run = client.search_all("lymphoma", mindate=low, maxdate=high, run_date=RUN_DATE)
    assert run.count == 25_000
    assert run.pmids == tuple(sorted(corpus, key=int))
    # Windows that fit were kept; together they tile the range without overlap.
    windows = [_window(seen.params) for seen in replay.requests[1:]]
    kept = sorted(window for window in windows if _hits(corpus, window) <= 10_000)
    assert any(_hits(corpus, window) > 10_000 for window in windows)  # some were split again
    assert kept[0][0] == low
    assert kept[-1][1] == high
    for (_, end), (start, _) in itertools.pairwise(kept):
        assert start == end + timedelta(days=1)
    assert len(kept) >= 3


def test_an_undated_large_search_splits_from_the_earliest_date(replay, fake_clock):
    replay.esearch_answer = dated_corpus_answer(_corpus(12_000))
    with _client(replay, fake_clock) as client:
        run = client.search_all("lymphoma", run_date=RUN_DATE)
    assert (run.mindate, run.maxdate, len(run.pmids)) == (None, None, 12_000)
    windows = [_window(seen.params) for seen in replay.requests[1:]]
    assert min(low for low, _ in windows) == EARLIEST_DATE
    assert max(high for _, high in windows) == date(2026, 12, 31)


def test_one_day_with_over_10000_records_cannot_be_split(replay, fake_clock):
    busy = {str(20_000_000 + i): date(2020, 3, 1) for i in range(10_001)}
    replay.esearch_answer = dated_corpus_answer(busy)
    with (
        _client(replay, fake_clock) as client,
        pytest.raises(EutilsError, match=r"10001 records .* single pdat day 2020-03-01"),
    ):
        client.search_all(
            "x", mindate=date(2020, 1, 1), maxdate=date(2020, 12, 31), run_date=RUN_DATE
        )


def test_an_answer_listing_fewer_pmids_than_it_counts_is_refused(replay, fake_clock):
    # The recorded esearch1.xml counts 63 but lists 20: a full search must not keep 20.
    with _client(replay, fake_clock) as client, pytest.raises(EutilsError, match="listed only 20"):
        client.search_all("biopython", run_date=RUN_DATE)


def test_one_date_bound_implies_the_other(replay, fake_clock):
    replay.esearch_answer = dated_corpus_answer(_corpus(100))
    with _client(replay, fake_clock) as client:
        run = client.search_all("x", mindate=date(2024, 1, 1), datetype="edat", run_date=RUN_DATE)
    assert (run.mindate, run.maxdate, run.datetype) == (date(2024, 1, 1), RUN_DATE, "edat")
    assert replay.requests[0].params["maxdate"] == "2025/06/30"
    assert replay.requests[0].params["datetype"] == "edat"


def test_search_run_is_frozen_and_serialisable():
    run = SearchRun("q", date(2020, 1, 1), date(2020, 12, 31), RUN_DATE, 2, ("5", "40"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.count = 3  # type: ignore[misc]
    assert json.loads(json.dumps(run.to_dict())) == {
        "query": "q",
        "datetype": "pdat",
        "mindate": "2020-01-01",
        "maxdate": "2020-12-31",
        "run_date": "2025-06-30",
        "count": 2,
        "pmids": ["5", "40"],
    }


@pytest.mark.parametrize(("api_key", "spacing"), [(None, 1 / 3), ("key", 1 / 10)])
def test_requests_are_spaced_by_the_rate_limit(replay, fake_clock, api_key, spacing):
    with _client(replay, fake_clock, api_key=api_key) as client:
        for _ in range(5):
            client.esearch("biopython")
    times = [seen.at for seen in replay.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps == [pytest.approx(spacing)] * 4


def test_rate_limiter_does_not_wait_when_time_has_passed():
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock.monotonic, sleep=clock.sleep)
    limiter.wait()
    clock.now += 5.0
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == [pytest.approx(1 / 3)]


def test_retry_policy_doubles_caps_and_honours_retry_after():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, max_retry_after=60.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(1, "12") == 12.0
    assert policy.delay(1, "86400") == 60.0
    assert policy.delay(2, "soon") == 1.0


def test_retry_after_as_an_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
