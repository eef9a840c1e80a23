"""Hostile or broken esearch answers: entities are never expanded, DTDs never fetched, and
malformed answers are refused with a message instead of being read as zero hits."""

from __future__ import annotations

import time

import pytest

from postcart.literature.eutils import EutilsClient
from postcart.literature.eutils_answers import EutilsError, parse_esearch

from .eutils_server import Fault, ReplayServer, fake_clock, replay

__all__ = ["fake_clock", "replay"]  # fixtures used by name

SECRET = "SECRET-7f3a-do-not-read"


def _client(server: ReplayServer) -> EutilsClient:
    return EutilsClient(email="team@example.org", base_url=server.base_url, sleep=lambda _s: None)


def test_external_entity_in_an_esearch_answer_is_not_expanded(replay, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    hostile = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE eSearchResult [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
        "<eSearchResult><Count>1</Count><RetMax>1</RetMax><RetStart>0</RetStart>"
        "<IdList><Id>1</Id></IdList><QueryTranslation>&xxe;</QueryTranslation>"
        "</eSearchResult>"
    ).encode()
    replay.fail_next("esearch", Fault(body=hostile))
    with _client(replay) as client, pytest.raises(EutilsError, match="entity") as caught:
        client.esearch("anything")
    assert SECRET not in str(caught.value)
    assert len(replay.requests) == 1  # refused, not retried


def test_entity_bomb_is_refused_quickly():
    levels = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    ]
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE eSearchResult [{"".join(levels)}]>'
        "<eSearchResult><Count>&a9;</Count></eSearchResult>"
    ).encode()
    started = time.perf_counter()
    with pytest.raises(EutilsError, match="entity"):
        parse_esearch(bomb, "test")
    assert time.perf_counter() - started < 1.0


def test_a_dtd_named_in_the_answer_is_never_fetched(replay):
    answer = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE eSearchResult SYSTEM "{replay.base_url}evil.dtd">\n'
        "<eSearchResult><Count>1</Count><RetMax>1</RetMax><RetStart>0</RetStart>"
        "<IdList><Id>42</Id></IdList></eSearchResult>"
    ).encode()
    replay.fail_next("esearch", Fault(body=answer))
    with _client(replay) as client:
        assert client.esearch("anything").pmids == ("42",)
    assert [seen.utility for seen in replay.requests] == ["esearch"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<eSearchResult><RetMax>0</RetMax><RetStart>0</RetStart></eSearchResult>", "<Count>"),
        (
            b"<eSearchResult><Count>1</Count><RetMax>1</RetMax><RetStart>0</RetStart>"
            b"<IdList><Id>12a</Id></IdList></eSearchResult>",
            "non-numeric",
        ),
        (b"<html><body>Service maintenance</body></html>", "expected <eSearchResult>"),
        (b"<ERROR>Empty term and query_key - nothing todo</ERROR>", "nothing todo"),
    ],
)
def test_unusable_answers_are_refused_with_a_reason(body, message):
    with pytest.raises(EutilsError, match=message):
        parse_esearch(body, "esearch 'x'")


def test_garbled_xml_is_retried_then_reported(replay):
    replay.fail_next("esearch", *[Fault(body=b"<eSearchResult><Count>3</Co")] * 4)
    with _client(replay) as client, pytest.raises(EutilsError, match="not well-formed"):
        client.esearch("anything")
    assert len(replay.requests) == 4
