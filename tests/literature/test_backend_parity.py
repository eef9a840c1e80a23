"""PostgreSQL parity: what imports or builds on SQLite imports or builds on PostgreSQL, and what
one backend refuses the other refuses with the same message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from postcart.db import Base, ValueTooLongError, session_scope
from postcart.errors import InputError, RecordParseError
from postcart.evidence import build_database, read_database
from postcart.literature import models as m
from postcart.literature import store
from postcart.literature.readers import read_records

from ._litdb import WHEN, engine_at

CFF = "data/literature/citation-file-formatting"
GOOD = Path(__file__).resolve().parent.parent / "data" / "evidence" / "good"


def _import_every_shared_export(url: str, shared_dir: Path) -> int:
    engine = engine_at(url)
    total = 0
    try:
        with session_scope(engine) as session:
            ann = store.create_reviewer(session, "ann", "pw")
            project = store.create_project(session, "parity", [ann])
            for path in sorted((shared_dir / CFF).glob("_baseline*")):
                batch = store.import_records(session, project, read_records(path),
                                             file=str(path), format="auto",
                                             imported_at=WHEN, update_no=1)  # fmt: skip
                total += batch.count
    finally:
        engine.dispose()
    return total


def test_every_shared_export_imports_on_both_backends(database_url: str, shared_dir: Path) -> None:
    # Covidence's issue field holds whole affiliations (255 characters): once a VARCHAR(100).
    assert _import_every_shared_export(database_url, shared_dir) > 0


def test_the_schema_after_migrations_equals_the_models_with_types(database_url: str) -> None:
    engine = engine_at(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":  # SQLite keeps declared widths it never enforces
        diffs = [d for d in diffs if not (isinstance(d, list) and d[0][0] == "modify_type")]
    assert diffs == []


def test_a_long_author_validates_and_builds_on_both_backends(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(GOOD, folder)
    study = folder / "study_a.yaml"
    author = "Consortium for " + "Cellular Therapy " * 30  # 500+ characters
    text = study.read_text(encoding="utf-8")
    assert "first_author:" in text
    lines = [
        line.split("first_author:")[0] + f"first_author: {author.strip()}"
        if line.strip().startswith("first_author:")
        else line
        for line in text.splitlines()
    ]
    study.write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_database(database_url, folder)
    stored = {s.first_author for s in read_database(database_url).sources}
    assert author.strip() in stored


def test_a_nul_byte_is_refused_by_the_reader_naming_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "nul.ris"
    path.write_text("TY  - JOUR\nTI  - Fine\nER  -\n\nTY  - JOUR\nTI  - Bad\x00title\nER  -\n",
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(RecordParseError, match="binary content"):
        read_records(path)  # sniffing already refuses a file with NUL bytes as binary
    with pytest.raises(RecordParseError, match="NUL byte") as caught:
        list(read_records(path, "ris"))
    assert caught.value.field == "title"
    stream = read_records(path, "ris", skip_bad=True)
    assert [r.title for r in stream] == ["Fine"]
    assert len(stream.errors) == 1


def test_a_value_too_wide_for_its_column_is_the_same_error_on_both(database_url: str) -> None:
    engine = engine_at(database_url)
    try:
        # Written past the core's own name check, as a future model field would be.
        too_wide = m.Reviewer(name="x" * 201, password_salt="00", password_hash="00")
        with_nul = m.Reviewer(name="nul\x00name", password_salt="00", password_hash="00")
        for row, message in ((too_wide, r"lit_reviewer\.name: 201 characters"),
                             (with_nul, "lit_reviewer.name: contains a NUL byte")):  # fmt: skip
            with pytest.raises(ValueTooLongError, match=message), session_scope(engine) as session:
                session.add(row)
        for name in ("x" * 201, "nul\x00name", "tab\tname", " "):
            with pytest.raises(InputError), session_scope(engine) as session:
                store.create_reviewer(session, name, "pw")
            unknown = pytest.raises(InputError, match="unknown name or wrong password")
            with unknown, session_scope(engine) as session:
                store.authenticate(session, name, "pw")
        with Session(engine) as session:
            assert session.query(m.Reviewer).count() == 0  # nothing half-written
    finally:
        engine.dispose()
