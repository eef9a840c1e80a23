"""Find duplicate records across imports: link them to a root, never delete, and queue doubts.

Automatic links must have near-zero false positives, because a wrongly merged record silently
vanishes from screening. So the automatic tiers are exact (same PMID/DOI; same normalised
title with no contradicting year, first author, volume, pages or DOI) and guarded by vetoes
that fuzzy matching gets wrong: differing numbers in titles ("Part 1" vs "Part 2", "8th" vs
"9th"), and an erratum, correction or retraction notice against its article. Near-identical
titles found through blocking go to a manual-review queue instead of being linked.
Blocking keeps the work near-linear: 100,000 records in seconds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from postcart.literature.records import Record, fold_text

#: Shortest normalised title (in words) trusted for an exact-title link.
MIN_TITLE_WORDS = 5
#: Title similarity from which a blocked pair is offered for manual review.
REVIEW_SIMILARITY = 0.9
#: Blocks larger than this are generic ("introduction to the special issue") and skipped.
MAX_BLOCK = 40
_BLOCK_WORDS = 4

_NOTICE_RE = re.compile(
    r"^(?:erratum|errata|correction|corrigendum|corrigenda|retraction|retracted|"
    r"notice of retraction|expression of concern|author correction|publisher correction|"
    r"reply|response|comment on|in reply)\b"
)
_NOTICE_TYPES = ("erratum", "correction", "retraction", "retracted", "comment")
_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
)
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
_ORDINALS = {word: str(n) for n, word in enumerate(_ORDINAL_WORDS, start=1)} | {
    roman: str(n) for n, roman in enumerate(_ROMAN, start=1)
}
_NUMBER_RE = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class DuplicateLink:
    """Record ``index`` duplicates record ``root`` (positions in the input), found by ``method``."""

    index: int
    root: int
    method: str


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """Two records that may be duplicates; a person decides."""

    left: int
    right: int
    reason: str
    similarity: float


@dataclass(frozen=True, slots=True)
class DedupResult:
    """Links from duplicates to their group's root, and the pairs left for manual review."""

    links: tuple[DuplicateLink, ...]
    review: tuple[ReviewPair, ...]

    def root_of(self, index: int) -> int:
        """Root of the group ``index`` belongs to (itself when it is not a duplicate)."""
        for link in self.links:
            if link.index == index:
                return link.root
        return index

    def linked_pairs(self) -> set[frozenset[int]]:
        """Every pair of records placed in the same group."""
        groups: dict[int, list[int]] = defaultdict(list)
        for link in self.links:
            groups[link.root].append(link.index)
        pairs: set[frozenset[int]] = set()
        for root, members in groups.items():
            everyone = [root, *members]
            pairs.update(
                frozenset((a, b)) for i, a in enumerate(everyone) for b in everyone[i + 1 :]
            )
        return pairs


@dataclass(frozen=True, slots=True)
class _Keys:
    """What matching needs from one record, computed once."""

    title: str
    numbers: tuple[str, ...]
    notice: bool
    author: str
    year: int | None
    volume: str
    pages: str
    doi: str | None


def _title_numbers(folded: str) -> tuple[str, ...]:
    numbers = _NUMBER_RE.findall(folded)  # "9th" and "8th" differ too
    words = folded.split()
    for position, word in enumerate(words):
        # "part ii", "second edition": ordinals count as numbers; bare "i" only after "part".
        if word in _ORDINALS and (len(word) > 2 or (position and words[position - 1] == "part")):
            numbers.append(_ORDINALS[word])
        elif position and words[position - 1] == "part" and len(word) == 1 and word.isalpha():
            numbers.append(word)  # "part a" vs "part b"
    return tuple(sorted(numbers))


def _keys(record: Record) -> _Keys:
    folded = fold_text(record.title)
    kind = record.record_type.lower()
    return _Keys(
        title=folded,
        numbers=_title_numbers(folded),
        notice=bool(_NOTICE_RE.match(folded)) or any(t in kind for t in _NOTICE_TYPES),
        author=fold_text(record.first_author),
        year=record.year,
        volume=fold_text(record.volume),
        pages=fold_text(record.pages.split("-")[0]),
        doi=record.doi,
    )


def _veto(a: _Keys, b: _Keys) -> str | None:
    """Why two records cannot be the same work, whatever else matches."""
    if a.numbers != b.numbers:
        return "numbers in titles differ"
    if a.notice != b.notice:
        return "erratum/retraction notice vs article"
    return None


def _conflicts(a: _Keys, b: _Keys) -> list[str]:
    """Fields present in both records that disagree."""
    found = []
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        found.append("year")
    for name in ("author", "volume", "pages", "doi"):
        left, right = getattr(a, name), getattr(b, name)
        if left and right and left != right:
            found.append(name)
    return found


class _Groups:
    """Union-find over record positions; the smallest position is the root."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.method: dict[int, str] = {}

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, a: int, b: int, method: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        low, high = sorted((root_a, root_b))
        self.parent[high] = low
        self.method.setdefault(max(a, b), method)

    def links(self) -> tuple[DuplicateLink, ...]:
        return tuple(
            DuplicateLink(i, self.find(i), self.method.get(i, "transitive"))
            for i in range(len(self.parent))
            if self.find(i) != i
        )


def _buckets(values: Iterable[tuple[int, str | None]]) -> Iterable[list[int]]:
    table: dict[str, list[int]] = defaultdict(list)
    for index, value in values:
        if value:
            table[value].append(index)
    return (members for members in table.values() if len(members) > 1)


def _link_exact(
    keys: Sequence[_Keys], records: Sequence[Record], groups: _Groups
) -> list[ReviewPair]:
    """Tier 1 (same PMID, then DOI) and tier 2 (same title, nothing contradicting).

    Identical titles that cannot be linked automatically (contradicting fields, or two
    erratum/retraction notices, which journals issue repeatedly under one title) are returned
    for manual review.
    """
    for method, field in (("pmid", "pmid"), ("doi", "doi")):
        for members in _buckets((i, getattr(r, field)) for i, r in enumerate(records)):
            for other in members[1:]:
                if _veto(keys[members[0]], keys[other]) is None:
                    groups.union(members[0], other, method)
    doubts: list[ReviewPair] = []
    for members in _buckets((i, k.title) for i, k in enumerate(keys)):
        if len(keys[members[0]].title.split()) < MIN_TITLE_WORDS:
            continue
        # Huge buckets (a title repeated hundreds of times) are compared with their first member.
        lefts = members if len(members) <= MAX_BLOCK else members[:1]
        for position, left in enumerate(lefts):
            for right in members[position + 1 :]:
                a, b = keys[left], keys[right]
                if _veto(a, b) is not None or groups.find(left) == groups.find(right):
                    continue
                conflicts = _conflicts(a, b)
                if not conflicts and not (a.notice and b.notice):
                    groups.union(left, right, "title+fields")
                    continue
                why = f"differing {', '.join(conflicts)}" if conflicts else "both are notices"
                doubts.append(ReviewPair(left, right, f"same title; {why}", 1.0))
    return doubts


def _blocks(keys: Sequence[_Keys]) -> Iterable[list[int]]:
    table: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        words = key.title.split()
        if len(words) < MIN_TITLE_WORDS:
            continue
        table["head", " ".join(words[:_BLOCK_WORDS])].append(index)
        table["tail", " ".join(words[-_BLOCK_WORDS:])].append(index)
    return (m for m in table.values() if 1 < len(m) <= MAX_BLOCK)


def _review_pairs(
    keys: Sequence[_Keys], groups: _Groups, doubts: list[ReviewPair]
) -> tuple[ReviewPair, ...]:
    """Exact-title doubts plus near-identical titles found within blocks."""
    queue = [p for p in doubts if groups.find(p.left) != groups.find(p.right)]
    seen = {(p.left, p.right) for p in queue}
    for members in _blocks(keys):
        for position, left in enumerate(members):
            for right in members[position + 1 :]:
                pair = (left, right)
                if pair in seen or groups.find(left) == groups.find(right):
                    continue
                seen.add(pair)
                a, b = keys[left], keys[right]
                if _veto(a, b) is not None:
                    continue
                matcher = SequenceMatcher(None, a.title, b.title, autojunk=False)
                if matcher.real_quick_ratio() < REVIEW_SIMILARITY:
                    continue
                if matcher.quick_ratio() < REVIEW_SIMILARITY:
                    continue
                similarity = matcher.ratio()
                if similarity < REVIEW_SIMILARITY:
                    continue
                conflicts = _conflicts(a, b)
                reason = "similar titles" + (
                    f"; differing {', '.join(conflicts)}" * bool(conflicts)
                )
                queue.append(ReviewPair(left, right, reason, round(similarity, 3)))
    return tuple(queue)


def find_duplicates(records: Sequence[Record]) -> DedupResult:
    """Link duplicates among ``records`` (by position) and list uncertain pairs for review."""
    keys = [_keys(record) for record in records]
    groups = _Groups(len(records))
    doubts = _link_exact(keys, records, groups)
    review = _review_pairs(keys, groups, doubts)
    return DedupResult(links=groups.links(), review=review)
