"""The review's saved searches are exactly the phrases its Methods quote, under stable names."""

from __future__ import annotations

import pytest

from postcart.literature.saved_searches import (
    SavedSearchError,
    parse_saved_searches,
    saved_search,
    saved_searches,
)


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("car_t_real_world", "CAR T-cell therapy and real-world data"),
        ("car_t_b_cell_lymphoma", "CAR T-cell therapy and B-cell lymphoma"),
    ],
)
def test_saved_searches_quote_the_review(seed_review_text, name, phrase):
    search = saved_search(name)
    assert search.term == phrase
    assert search.title == phrase
    assert f"“{phrase}”" in seed_review_text  # the Methods quote it in curly quotes


def test_every_saved_search_has_a_distinct_name():
    names = [search.name for search in saved_searches()]
    assert names == ["car_t_real_world", "car_t_b_cell_lymphoma"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(SavedSearchError, match="car_t_real_world, car_t_b_cell_lymphoma"):
        saved_search("car_t_everything")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("searches: []", "non-empty 'searches'"),
        ("- just a list", "non-empty 'searches'"),
        ("searches:\n  - {name: a, title: t, term: '', source: s}", r"searches\[0\]"),
        (
            "searches:\n  - {name: a, title: t, term: x, source: s}\n"
            "  - {name: a, title: u, term: y, source: s}",
            "duplicate search names",
        ),
    ],
)
def test_malformed_files_are_refused(text, message):
    with pytest.raises(SavedSearchError, match=message):
        parse_saved_searches(text, "test.yaml")
