"""The manual duplicate queue: uncertain pairs are listed, a confirmation links them, for good."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from postcart.db import session_scope
from postcart.errors import AccessError, InputError
from postcart.literature import dedup_review, store
from postcart.literature.records import Record

from ._litdb import WHEN, engine_at

# Same work exported twice with a one-letter title difference and no shared DOI/PMID: too
# uncertain to link automatically, so it must wait for a person.
NEAR_TWINS = [
    Record(
        title="Salvage therapy after CAR T failure in large B-cell lymphoma: a multicentre study",
        source_file="pubmed.ris",
        source_line=1,
        source_format="ris",
        authors=("Smith, J",),
        year=2022,
    ),
    Record(
        title="Salvage therapies after CAR T failure in large B-cell lymphoma: a multicentre study",
        source_file="embase.ris",
        source_line=1,
        source_format="ris",
        authors=("Smith, J",),
        year=2022,
    ),
    Record(
        title="Radiotherapy for localised relapse after axicabtagene ciloleucel",
        source_file="embase.ris",
        source_line=9,
        source_format="ris",
        year=2023,
    ),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with session_scope(engine_at(f"sqlite:///{tmp_path / 'lit.db'}")) as s:
        yield s


def test_uncertain_pair_is_queued_then_linked_by_a_person(session: Session) -> None:
    ann = store.create_reviewer(session, "ann", "pw")
    project = store.create_project(session, "p", [ann])
    store.import_records(
        session, project, NEAR_TWINS, file="x", format="ris", imported_at=WHEN, update_no=1
    )
    assert store.link_duplicates(session, ann, project) == 0  # nothing certain
    queue = dedup_review.review_queue(session, ann, project)
    assert len(queue) == 1
    left, right = queue[0].left_id, queue[0].right_id
    assert queue[0].similarity >= 0.9

    group = dedup_review.link_manually(session, ann, project, left, right)
    rows = {row.id: row for row in store.records_of(session, ann, project)}
    assert rows[left].duplicate_group_id == rows[right].duplicate_group_id == group
    assert len(rows) == 3  # linked, never deleted
    assert dedup_review.review_queue(session, ann, project) == []
    # A later automatic pass keeps the person's decision.
    store.link_duplicates(session, ann, project)
    assert rows[left].duplicate_group_id == group


def test_manual_link_respects_isolation_and_sense(session: Session) -> None:
    ann = store.create_reviewer(session, "ann", "pw")
    dan = store.create_reviewer(session, "dan", "pw")
    project = store.create_project(session, "p", [ann])
    store.import_records(
        session, project, NEAR_TWINS, file="x", format="ris", imported_at=WHEN, update_no=1
    )
    ids = [row.id for row in store.records_of(session, ann, project)]
    with pytest.raises(AccessError):
        dedup_review.link_manually(session, dan, project, ids[0], ids[1])
    with pytest.raises(InputError, match="itself"):
        dedup_review.link_manually(session, ann, project, ids[0], ids[0])
