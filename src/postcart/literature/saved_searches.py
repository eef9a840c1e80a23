"""The review's saved PubMed searches, read from ``searches/review_searches.yaml``.

Saved with a stable name each so that every living update re-runs exactly the query the review
published, and so that search runs stored by name can be compared across updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

from postcart.errors import PostcartError

SEARCHES_RESOURCE = "searches/review_searches.yaml"


class SavedSearchError(PostcartError, ValueError):
    """The saved-search file is malformed, or a name is not in it."""


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """One named PubMed query and where it comes from."""

    name: str
    title: str
    term: str
    source: str


def parse_saved_searches(text: str, where: str) -> tuple[SavedSearch, ...]:
    """Read saved searches from YAML text; ``where`` names the file in error messages."""
    document = yaml.safe_load(text)
    entries = document.get("searches") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SavedSearchError(f"{where}: needs a non-empty 'searches' list")
    searches: list[SavedSearch] = []
    for index, entry in enumerate(entries):
        fields = ("name", "title", "term", "source")
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) and entry[key].strip() for key in fields
        ):
            raise SavedSearchError(f"{where}: searches[{index}] needs non-empty {fields}")
        searches.append(SavedSearch(*(str(entry[key]).strip() for key in fields)))
    names = [search.name for search in searches]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SavedSearchError(f"{where}: duplicate search names {duplicates}")
    return tuple(searches)


@cache
def saved_searches() -> tuple[SavedSearch, ...]:
    """Every saved search shipped with postcart, in file order."""
    resource = files("postcart.literature").joinpath(SEARCHES_RESOURCE)
    return parse_saved_searches(resource.read_text(encoding="utf-8"), SEARCHES_RESOURCE)


def saved_search(name: str) -> SavedSearch:
    """The saved search called ``name``; the error lists the names that exist."""
    for search in saved_searches():
        if search.name == name:
            return search
    known = ", ".join(search.name for search in saved_searches())
    raise SavedSearchError(f"no saved search named {name!r}; known: {known}")
