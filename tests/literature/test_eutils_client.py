"""EutilsClient against a local server replaying real NCBI answers: what it sends, what it
returns, and how it copes with 429, 5xx, cut-short bodies and timeouts.

Expected counts and PMIDs are read from the recorded files with regular expressions here,
never with the code under test.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from postcart.literature.eutils import EutilsClient
from postcart.literature.eutils_answers import EutilsError
from postcart.literature.eutils_pacing import RetryPolicy

from .eutils_server import (
    BIOPYTHON,
    PUBMED_FILES,
    FakeClock,
    Fault,
    ReplayServer,
    article_pmids,
    fake_clock,
    iter_ids,
    replay,
)

__all__ = ["fake_clock", "replay"]  # fixtures used by name

EMAIL = "review-team@example.org"
SECRET_KEY = "k3y-that-must-not-leak"


def _client(
    server: ReplayServer,
    clock: FakeClock,
    *,
    tool: str = "postcart",
    api_key: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> EutilsClient:
    return EutilsClient(
        email=EMAIL,
        tool=tool,
        api_key=api_key,
        base_url=server.base_url,
        retry=retry,
        timeout=timeout,
        clock=clock.monotonic,
        sleep=clock.sleep,
    )


def _recorded(shared_dir: Path, name: str) -> tuple[int, list[str], str]:
    text = (shared_dir / BIOPYTHON / name).read_text(encoding="utf-8")
    count = re.search(r"<eSearchResult><Count>(\d+)</Count>", text)
    translation = re.search(r"<QueryTranslation>(.*)</QueryTranslation>", text)
    assert count is not None
    assert translation is not None
    return int(count.group(1)), re.findall(r"<Id>(\d+)</Id>", text), translation.group(1)


@pytest.mark.parametrize("name", ["esearch1.xml", "esearch2.xml"])
def test_esearch_returns_the_recorded_count_and_pmids(replay, fake_clock, shared_dir, name):
    replay.esearch_answer = lambda _params: (shared_dir / BIOPYTHON / name).read_bytes()
    count, pmids, translation = _recorded(shared_dir, name)
    with _client(replay, fake_clock) as client:
        result = client.esearch("biopython", retmax=100)
    assert result.count == count
    assert list(result.pmids) == pmids
    assert result.query_translation == " ".join(translation.split())
    assert len(pmids) in (20, 100)  # the files really hold these many IDs


def test_esearch_sends_term_dates_and_identity(replay, fake_clock):
    with _client(replay, fake_clock, tool="postcart-test") as client:
        client.esearch(
            "CAR T-cell therapy and B-cell lymphoma",
            mindate=date(2020, 1, 5),
            maxdate=date(2023, 12, 31),
            datetype="edat",
            retmax=500,
        )
    (seen,) = replay.requests
    assert seen.method == "GET"
    assert seen.utility == "esearch"
    assert seen.params == {
        "db": "pubmed",
        "term": "CAR T-cell therapy and B-cell lymphoma",
        "retmax": "500",
        "retstart": "0",
        "retmode": "xml",
        "datetype": "edat",
        "mindate": "2020/01/05",
        "maxdate": "2023/12/31",
        "tool": "postcart-test",
        "email": EMAIL,
    }


def test_api_key_is_sent_on_every_request(replay, fake_clock):
    with _client(replay, fake_clock, api_key=SECRET_KEY) as client:
        client.esearch("lymphoma")
        list(client.efetch(["1", "2"]))
    assert [seen.params.get("api_key") for seen in replay.requests] == [SECRET_KEY] * 2
    assert all(seen.params["email"] == EMAIL for seen in replay.requests)


@pytest.mark.parametrize("name", PUBMED_FILES)
def test_efetch_replays_each_recorded_file_byte_for_byte(replay, fake_clock, shared_dir, name):
    raw = (shared_dir / BIOPYTHON / name).read_bytes()
    pmids = re.findall(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", raw)
    with _client(replay, fake_clock) as client:
        bodies = list(client.efetch([p.decode() for p in pmids]))
    assert bodies == [raw]
    assert replay.seen("efetch")[0].params["id"] == ",".join(p.decode() for p in pmids)
    assert replay.seen("efetch")[0].params["retmode"] == "xml"


def test_efetch_batches_and_keeps_every_recorded_article(replay, fake_clock, shared_dir):
    wanted: list[str] = []
    for name in PUBMED_FILES:
        raw = (shared_dir / BIOPYTHON / name).read_bytes()
        wanted += re.findall(r"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", raw.decode())
    assert len(wanted) == 6
    with _client(replay, fake_clock) as client:
        bodies = list(client.efetch([*wanted, wanted[0]], batch_size=4))
    assert len(bodies) == 2
    assert [pmid for body in bodies for pmid in article_pmids(body)] == wanted
    assert list(iter_ids(replay.seen("efetch"))) == wanted  # the repeat was dropped


def test_long_id_lists_are_posted_in_batches_of_at_most_200(replay, fake_clock):
    pmids = [str(30_000_000 + i) for i in range(450)]
    with _client(replay, fake_clock) as client:
        bodies = list(client.efetch(pmids))
    seen = replay.seen("efetch")
    assert [request.method for request in seen] == ["POST", "POST", "GET"]
    assert [len(request.params["id"].split(",")) for request in seen] == [200, 200, 50]
    assert list(iter_ids(seen)) == pmids
    for request in seen[:2]:
        assert request.query_string == ""  # nothing in the URL: all fields are in the body
        assert b"email=review-team%40example.org" in request.body
        assert b"tool=postcart" in request.body
    assert [len(article_pmids(body)) for body in bodies] == [200, 200, 50]


def test_one_big_batch_goes_as_a_single_post(replay, fake_clock):
    pmids = [str(10_000_000 + i) for i in range(450)]
    with _client(replay, fake_clock) as client:
        list(client.efetch(pmids, batch_size=1000))
    (seen,) = replay.seen("efetch")
    assert seen.method == "POST"
    assert seen.params["id"] == ",".join(pmids)


def test_bad_pmids_are_refused_before_any_request(replay, fake_clock):
    with _client(replay, fake_clock) as client, pytest.raises(ValueError, match="digits"):
        client.efetch(["123", "12;rm"])
    assert replay.requests == []


def test_429_waits_as_told_by_retry_after_then_succeeds(replay, fake_clock, shared_dir):
    replay.fail_next("esearch", Fault(429, {"Retry-After": "7"}))
    count, pmids, _ = _recorded(shared_dir, "esearch1.xml")
    with _client(replay, fake_clock) as client:
        result = client.esearch("biopython")
    assert (result.count, list(result.pmids)) == (count, pmids)
    assert len(replay.seen("esearch")) == 2
    assert 7.0 in fake_clock.sleeps
    assert replay.requests[1].at - replay.requests[0].at >= 7.0


def test_5xx_backs_off_exponentially_then_succeeds(replay, fake_clock):
    replay.fail_next("esearch", Fault(500), Fault(502), Fault(503))
    policy = RetryPolicy(max_tries=4, base_delay=1.0)
    with _client(replay, fake_clock, retry=policy) as client:
        assert client.esearch("biopython").count == 63
    assert fake_clock.sleeps[-3:] == [pytest.approx(1.0), pytest.approx(2.0), 4.0]


def test_persistent_503_ends_in_a_clear_error_without_the_key(replay, fake_clock):
    replay.fail_next("esearch", *[Fault(503)] * 5)
    with (
        _client(replay, fake_clock, api_key=SECRET_KEY, retry=RetryPolicy(max_tries=3)) as client,
        pytest.raises(EutilsError) as caught,
    ):
        client.esearch("CAR T-cell therapy and real-world data")
    message = str(caught.value)
    assert "esearch 'CAR T-cell therapy and real-world data'" in message
    assert "gave up after 3 tries" in message
    assert "HTTP 503" in message
    assert SECRET_KEY not in message
    assert len(replay.seen("esearch")) == 3


def test_client_errors_are_not_retried(replay, fake_clock):
    replay.fail_next("esearch", Fault(400, body=b'{"error":"Invalid query syntax"}'))
    with _client(replay, fake_clock) as client, pytest.raises(EutilsError, match="Invalid query"):
        client.esearch("((")
    assert len(replay.requests) == 1


def test_body_cut_short_against_content_length_is_retried(replay, fake_clock, shared_dir):
    replay.fail_next("efetch", Fault(truncate_to=300))
    raw = (shared_dir / BIOPYTHON / "pubmed4.xml").read_bytes()
    with _client(replay, fake_clock) as client:
        assert list(client.efetch(article_pmids(raw))) == [raw]
    assert len(replay.seen("efetch")) == 2


def test_body_cut_short_without_length_is_caught_by_its_content(replay, fake_clock):
    cut = Fault(truncate_to=500, honest_length=False)
    replay.fail_next("efetch", cut, cut)
    replay.fail_next("esearch", cut)
    with _client(replay, fake_clock, retry=RetryPolicy(max_tries=2)) as client:
        assert client.esearch("biopython").count == 63
        with pytest.raises(EutilsError, match="cut short"):
            list(client.efetch(["9997"]))
    assert len(replay.seen("esearch")) == 2
    assert len(replay.seen("efetch")) == 2


def test_timeout_is_retried(replay, fake_clock):
    replay.fail_next("esearch", Fault(delay=2.0))
    with _client(replay, fake_clock, timeout=0.2) as client:
        assert client.esearch("biopython").count == 63
    assert len(replay.seen("esearch")) == 2


def test_timeouts_to_the_end_say_so(replay, fake_clock):
    replay.fail_next("esearch", Fault(delay=2.0), Fault(delay=2.0))
    with (
        _client(replay, fake_clock, timeout=0.2, retry=RetryPolicy(max_tries=2)) as client,
        pytest.raises(EutilsError, match="gave up after 2 tries; last problem: timed out"),
    ):
        client.esearch("biopython")


def test_error_element_in_esearch_is_an_error_not_zero_hits(replay, fake_clock):
    replay.fail_next(
        "esearch",
        Fault(body=b"<eSearchResult><ERROR>Invalid query syntax near ((</ERROR></eSearchResult>"),
    )
    with (
        _client(replay, fake_clock) as client,
        pytest.raises(EutilsError, match="NCBI reported an error: Invalid query syntax near"),
    ):
        client.esearch("((")
    assert len(replay.requests) == 1


def test_error_element_in_efetch_is_an_error(replay, fake_clock):
    replay.fail_next(
        "efetch", Fault(body=b"<eFetchResult><ERROR>ID list is empty!</ERROR></eFetchResult>")
    )
    with (
        _client(replay, fake_clock) as client,
        pytest.raises(EutilsError, match="ID list is empty"),
    ):
        list(client.efetch(["1"]))


def test_esearch_refuses_impossible_arguments(replay, fake_clock):
    with _client(replay, fake_clock) as client:
        with pytest.raises(ValueError, match="retmax"):
            client.esearch("x", retmax=10_001)
        with pytest.raises(ValueError, match="both mindate and maxdate"):
            client.esearch("x", mindate=date(2020, 1, 1))
        with pytest.raises(ValueError, match="after maxdate"):
            client.esearch("x", mindate=date(2021, 1, 1), maxdate=date(2020, 1, 1))
    assert replay.requests == []


def test_client_needs_a_contact_address():
    with pytest.raises(ValueError, match="e-mail"):
        EutilsClient(email="")
