"""The real curated files: they load, they are many, and review quotes are the review's words."""

from __future__ import annotations

import pytest

from postcart.evidence import Evidence, Provenance, build_database, load, read_database
from postcart.evidence.quotes import mentions_figure, occurs_in
from postcart.evidence.vocab import ProvenanceKind, Unit


@pytest.fixture(scope="module")
def curated() -> Evidence:
    return load()


def test_the_curated_files_are_valid_and_well_over_100_outcomes(curated: Evidence) -> None:
    frame = curated.to_frame()
    assert len(frame) == len(curated.outcomes) >= 100
    assert frame["source_key"].notna().all()


def _review_provenances(evidence: Evidence) -> list[tuple[str, Provenance]]:
    found: list[tuple[str, Provenance]] = [
        (f"outcome {o.ref}", o.provenance) for o in evidence.outcomes
    ]
    found += [
        (f"risk factor {r.factor!r} ({r.file}:{r.line})", r.provenance)
        for r in evidence.risk_factors
    ]
    found += [(f"mechanism {x.key}", x.provenance) for x in evidence.mechanisms]
    return [(name, p) for name, p in found if p.kind == ProvenanceKind.review]


def test_review_quotes_occur_verbatim_in_the_review(
    curated: Evidence, seed_review_text: str
) -> None:
    reviewed = _review_provenances(curated)
    assert reviewed, "expected figures quoted from the review"
    missing = [
        f"{name}: {p.quote!r}"
        for name, p in reviewed
        if not p.quote or not occurs_in(p.quote, seed_review_text)
    ]
    assert missing == [], "\n".join(missing)


def test_review_quotes_contain_the_figures_they_support(curated: Evidence) -> None:
    wrong = []
    for outcome in curated.outcomes:
        quote = outcome.provenance.quote
        if outcome.provenance.kind != ProvenanceKind.review or quote is None:
            continue
        for figure in (outcome.value, outcome.range_low, outcome.range_high):
            percent = outcome.unit == Unit.percent
            if figure is not None and not mentions_figure(quote, figure, percent=percent):
                wrong.append(f"{outcome.ref} ({outcome.file}:{outcome.line}): {figure}")
    assert wrong == []


def test_the_curated_files_round_trip_through_the_database(db_url: str, curated: Evidence) -> None:
    build_database(db_url)
    assert read_database(db_url) == curated
