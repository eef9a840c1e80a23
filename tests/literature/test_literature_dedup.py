"""Dedup links duplicates (never deletes), vetoes the classic false positives, queues doubts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from postcart.literature.dedup import find_duplicates
from postcart.literature.readers import read_records
from postcart.literature.records import Record


def _record(title: str, **fields: object) -> Record:
    return Record(title=title, source_file="t", source_line=1, source_format="test", **fields)  # type: ignore[arg-type]


def test_nagtegaal_labelled_pairs_all_linked_and_nothing_else(shared_dir: Path) -> None:
    """The ``duplicate_record_id`` column (11 pairs per the README) is the truth."""
    path = shared_dir / "data" / "screening" / "Nagtegaal_2019.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    truth = {
        frozenset((row["record_id"], str(int(float(row["duplicate_record_id"])))))
        for row in rows
        if row["duplicate_record_id"]
    }
    assert len(truth) == 11
    records = [_record(row["title"], abstract=row["abstract"]) for row in rows]
    result = find_duplicates(records)
    ids = [row["record_id"] for row in rows]
    linked = {frozenset(ids[i] for i in pair) for pair in result.linked_pairs()}
    assert linked == truth
    assert len(result.links) == 11  # linked, not removed: every record is still addressable
    # "Proceedings of the 8th ..." vs "... 9th ..." and "Thirteenth"/"Sixteenth Rheumatism
    # Review" are vetoed outright, so they are not even queued for review.
    queued = {frozenset((ids[p.left], ids[p.right])) for p in result.review}
    assert frozenset(("1460", "1462")) not in queued
    assert frozenset(("1591", "1592")) not in queued


def test_same_doi_or_pmid_links_with_method() -> None:
    records = [
        _record("Axicabtagene ciloleucel in refractory LBCL", doi="10.1/a", year=2017),
        _record("Axi-cel in refractory large B-cell lymphoma", doi="10.1/a", year=2017),
        _record("Something else entirely here", pmid="123"),
        _record("Something else, entirely, here!", pmid="123"),
    ]
    result = find_duplicates(records)
    assert {(link.index, link.root, link.method) for link in result.links} == {
        (1, 0, "doi"),
        (3, 2, "pmid"),
    }
    assert result.root_of(1) == 0
    assert result.root_of(0) == 0


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (
            "Outcomes after CAR T-cell failure: part 1 of 4",
            "Outcomes after CAR T-cell failure: part 2 of 4",
        ),
        (
            "Proceedings of the 8th annual conference on lymphoma care",
            "Proceedings of the 9th annual conference on lymphoma care",
        ),
        (
            "Salvage therapy after CAR T failure: part I results",
            "Salvage therapy after CAR T failure: part II results",
        ),
    ],
)
def test_differing_numbers_in_titles_are_never_linked_or_queued(left: str, right: str) -> None:
    result = find_duplicates([_record(left, year=2020), _record(right, year=2020)])
    assert result.links == ()
    assert result.review == ()


def test_erratum_is_not_merged_with_its_article_even_with_shared_doi() -> None:
    article = _record("Polatuzumab vedotin after CAR T-cell failure in LBCL", doi="10.1/x")
    erratum = _record("Erratum: Polatuzumab vedotin after CAR T-cell failure in LBCL", doi="10.1/x")
    retraction = _record(
        "Polatuzumab vedotin after CAR T-cell failure in LBCL", record_type="Retraction Notice"
    )
    result = find_duplicates([article, erratum, retraction])
    assert result.links == ()


def test_same_title_with_contradicting_fields_goes_to_review() -> None:
    a = _record(
        "Bispecific antibodies after CAR T relapse: a cohort", year=2019, first_author="Smith"
    )
    b = _record(
        "Bispecific antibodies after CAR T relapse: a cohort", year=2023, first_author="Jones"
    )
    result = find_duplicates([a, b])
    assert result.links == ()
    assert [(p.left, p.right) for p in result.review] == [(0, 1)]
    assert "year" in result.review[0].reason


def test_same_title_missing_fields_does_not_block_link() -> None:
    a = _record("Bispecific antibodies after CAR T relapse: a cohort", year=2019)
    b = _record("Bispecific antibodies after CAR T relapse: a cohort.", first_author="Smith")
    assert [(link.index, link.root) for link in find_duplicates([a, b]).links] == [(1, 0)]


def test_dinosaur_exports_collapse_to_their_distinct_dois(shared_dir: Path) -> None:
    """Four exports of overlapping 10-record searches; every record carries a DOI.

    Truth: distinct DOIs from the Covidence CSV's DOI column plus the ``DO  -`` lines of the RIS
    files (first whitespace-separated token; Rayyan glues junk after it), read without our parser.
    """
    folder = shared_dir / "data/literature/citation-file-formatting"
    with (folder / "_baseline_covidence.csv").open(encoding="utf-8", newline="") as handle:
        truth = {row["DOI"].lower() for row in csv.DictReader(handle) if row["DOI"]}
    ris_names = ["_baseline_zotero.ris", "_baseline_rayyan.ris", "_baseline_embase.ris"]
    for name in ris_names:
        for line in (folder / name).read_text(encoding="utf-8-sig").splitlines():
            if line.startswith("DO  - "):
                truth.add(line[6:].split()[0].lower())
    assert len(truth) == 12
    records = [
        r for name in ["_baseline_covidence.csv", *ris_names] for r in read_records(folder / name)
    ]
    assert len(records) == 40
    result = find_duplicates(records)
    roots = {result.root_of(i) for i in range(len(records))}
    assert len(roots) == len(truth)
    assert {records[root].doi for root in roots} == truth


def test_identical_erratum_notices_are_queued_not_linked() -> None:
    """Journals reuse one erratum title for several notices; a person must decide."""
    title = "Erratum: Correction: Tafasitamab after CAR T failure in large B-cell lymphoma"
    result = find_duplicates([_record(title, year=2024), _record(title, year=2024)])
    assert result.links == ()
    assert [(p.left, p.right, p.reason) for p in result.review] == [
        (0, 1, "same title; both are notices")
    ]
