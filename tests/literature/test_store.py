"""The literature store on both backends: migration, one-transaction writes, JSON fields, PRISMA."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy import Engine

from postcart.db import session_scope
from postcart.errors import InputError
from postcart.literature import prisma, screening, store
from postcart.literature.records import Record
from postcart.literature.screening import TITLE_ABSTRACT

from ._litdb import WHEN, engine_at, records


@pytest.fixture
def url(database_url: str) -> str:
    """An empty database (SQLite, then PostgreSQL)."""
    return database_url


def test_round_trip_and_flow(url: str) -> None:
    engine = engine_at(url)
    with session_scope(engine) as s:
        ann = store.create_reviewer(s, "ann", "pw")
        project = store.create_project(s, "p", [ann], reviewers_title_abstract=1, resolver=ann)
        store.import_records(
            s, project, records(3), file="a.nbib", format="medline", imported_at=WHEN, update_no=1
        )
        store.save_search_run(
            s,
            project,
            database="pubmed",
            query="CAR T[tiab]",
            run_at=WHEN,
            pmids=["1000", "1001", "1002"],
            count=3,
            mindate="2024/01/01",
        )
    with session_scope(engine) as s:
        ann = store.authenticate(s, "ann", "pw")
        project = store.project_for(s, ann, "p")
        rows = store.records_of(s, ann, project)
        assert [r.pmid for r in rows] == ["1000", "1001", "1002"]
        assert store.as_record(rows[0]).source_line == 1
        screening.cast_vote(s, ann, rows[0].id, TITLE_ABSTRACT, "no", WHEN)
        _, total = prisma.flow(s, project)
        assert (total.records_screened, total.records_excluded, total.records_awaiting) == (1, 1, 2)
    engine.dispose()


def test_every_record_field_survives_the_store(url: str) -> None:
    """A record with every field set (tuples included) reads back equal, on both backends."""
    full = Record(
        title="CAR T failure", source_file="x.ris", source_line=7, source_format="ris",
        abstract="Abstract.", authors=("Doe, J", "Roe, A"), first_author="doe", year=2024,
        journal="Blood", volume="143", issue="2", pages="10-20", doi="10.1/abc", pmid="123",
        keywords=("CAR T", "lymphoma"), record_type="JOUR", language="eng",
        raw=(("TI", "CAR T failure"), ("PY", "2024")),
    )  # fmt: skip
    assert all(getattr(full, f.name) != f.default for f in fields(Record))
    engine = engine_at(url)
    with session_scope(engine) as s:
        ann = store.create_reviewer(s, "ann", "pw")
        project = store.create_project(s, "p", [ann], reviewers_title_abstract=1, resolver=ann)
        store.import_records(
            s, project, [full], file="x.ris", format="ris", imported_at=WHEN, update_no=1
        )
    with session_scope(engine) as s:
        ann = store.authenticate(s, "ann", "pw")
        (row,) = store.records_of(s, ann, store.project_for(s, ann, "p"))
        assert store.as_record(row) == full
    engine.dispose()


def _import_then_fail(engine: Engine) -> None:
    with session_scope(engine) as s:
        ann = store.authenticate(s, "ann", "pw")
        project = store.project_for(s, ann, "p")
        store.import_records(
            s, project, records(2), file="a", format="ris", imported_at=WHEN, update_no=1
        )
        store.create_project(s, "p", [ann])  # duplicate name: the whole transaction rolls back


def test_failed_command_leaves_nothing(url: str) -> None:
    engine = engine_at(url)
    with session_scope(engine) as s:
        ann = store.create_reviewer(s, "ann", "pw")
        store.create_project(s, "p", [ann])
    with pytest.raises(InputError):
        _import_then_fail(engine)
    with session_scope(engine) as s:
        ann = store.authenticate(s, "ann", "pw")
        assert store.records_of(s, ann, store.project_for(s, ann, "p")) == []
    engine.dispose()
