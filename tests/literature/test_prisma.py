"""PRISMA 2020 counts on a hand-built two-update project, the box checks, and the outputs."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from postcart.db import session_scope
from postcart.errors import InputError
from postcart.literature import prisma, prisma_output, screening, store
from postcart.literature.prisma import PrismaCounts
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT

from ._litdb import WHEN, engine_at, records


def _vote(session: Session, who, rid: int, stage: str, decision: str, reason: str = "") -> None:
    screening.cast_vote(session, who, rid, stage, decision, WHEN, reason)


def _build(session: Session) -> tuple[list[PrismaCounts], PrismaCounts]:
    ann = store.create_reviewer(session, "ann", "pw")
    project = store.create_project(
        session, "p", [ann], reviewers_title_abstract=1, reviewers_full_text=1, resolver=ann
    )
    imp = store.import_records
    imp(
        session,
        project,
        records(8),
        file="pubmed.nbib",
        format="medline",
        imported_at=WHEN,
        update_no=1,
    )
    imp(
        session, project, records(3), file="embase.ris", format="ris", imported_at=WHEN, update_no=1
    )
    store.link_duplicates(session, ann, project)
    ids = [r.id for r in store.records_of(session, ann, project)]
    for rid in ids[:5]:
        _vote(session, ann, rid, TITLE_ABSTRACT, "yes")
    for rid in ids[5:7]:
        _vote(session, ann, rid, TITLE_ABSTRACT, "no")
    screening.set_retrieved(session, ann, ids[4], False)
    _vote(session, ann, ids[0], FULL_TEXT, "yes")
    _vote(session, ann, ids[1], FULL_TEXT, "yes")
    _vote(session, ann, ids[2], FULL_TEXT, "no", "case report")
    _vote(session, ann, ids[3], FULL_TEXT, "no", "not LBCL")
    imp(
        session,
        project,
        records(2, prefix="Newer"),
        file="pubmed2.nbib",
        format="medline",
        imported_at=WHEN,
        update_no=2,
    )
    store.link_duplicates(session, ann, project)
    new = [r.id for r in store.records_of(session, ann, project)][-2:]
    for rid in new:
        _vote(session, ann, rid, TITLE_ABSTRACT, "yes")
    _vote(session, ann, new[0], FULL_TEXT, "yes")
    screening.set_retrieved(session, ann, new[1], False)
    return prisma.flow(session, project)


@pytest.fixture
def flow(tmp_path: Path) -> tuple[list[PrismaCounts], PrismaCounts]:
    with session_scope(engine_at(f"sqlite:///{tmp_path / 'p.db'}")) as session:
        return _build(session)


def test_update_one_counts_by_hand(flow) -> None:
    first = flow[0][0]
    assert first.identified == {"embase.ris": 3, "pubmed.nbib": 8}
    assert (first.duplicates, first.records_screened, first.records_awaiting) == (3, 7, 1)
    assert (first.records_excluded, first.reports_sought, first.reports_not_retrieved) == (2, 5, 1)
    assert first.reports_assessed == 4
    assert first.reports_excluded == {"case report": 1, "not LBCL": 1}
    assert (first.new_reports, first.new_studies, first.total_studies) == (2, 2, 2)


def test_update_two_and_cumulative_by_hand(flow) -> None:
    second, total = flow[0][1], flow[1]
    assert second.identified == {"pubmed2.nbib": 2}
    assert (second.records_screened, second.reports_sought, second.reports_not_retrieved) == (
        2,
        2,
        1,
    )
    assert (second.new_studies, second.previous_studies, second.total_studies) == (1, 2, 3)
    assert sum(total.identified.values()) == 13
    assert (total.duplicates, total.records_screened, total.records_excluded) == (3, 9, 2)
    assert (total.reports_sought, total.reports_not_retrieved, total.reports_assessed) == (7, 2, 5)
    assert (total.new_reports, total.new_studies) == (3, 3)


def test_inconsistent_box_is_named(flow) -> None:
    good = flow[1]
    with pytest.raises(InputError, match="records_excluded"):
        prisma.check(replace(good, records_excluded=good.records_excluded + 1))
    with pytest.raises(InputError, match="dbr_assessed"):
        prisma.check(replace(good, reports_not_retrieved=0))
    with pytest.raises(InputError, match="new_reports"):
        prisma.check(replace(good, reports_excluded={"case report": 5}))


def test_csv_has_prisma2020_template_columns(flow) -> None:
    rows = list(csv.DictReader(io.StringIO(prisma_output.to_csv(flow[1]))))
    assert list(rows[0]) == [
        "data",
        "node",
        "box",
        "description",
        "boxtext",
        "tooltips",
        "url",
        "n",
    ]
    n = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    assert n["records_screened"] == "9"
    assert n["dbr_excluded"] == "case report, 1; not LBCL, 1"
    assert n["database_specific_results"] == "embase.ris, 3; pubmed.nbib, 8; pubmed2.nbib, 2"


def test_rendering_is_deterministic(flow, tmp_path: Path) -> None:
    first = prisma_output.save(flow[1], tmp_path / "a", "flow")
    second = prisma_output.save(flow[1], tmp_path / "b", "flow")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert first[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Records screened (n = 9)" in first[0].read_bytes()
