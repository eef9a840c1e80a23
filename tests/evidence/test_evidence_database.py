"""The evidence database on SQLite and PostgreSQL: schema, round trip, one transaction."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

import postcart.db
from postcart.db import Base, make_engine, migrate, session_scope
from postcart.errors import DestructiveBuildError, EvidenceValidationError
from postcart.evidence import build_database, load, read_database, read_outcomes
from postcart.evidence import models as m
from postcart.evidence.store import has_evidence, replace_evidence
from postcart.evidence.vocab import (
    AnalysisType,
    CohortRole,
    DenominatorBasis,
    Direction,
    Disease,
    EventsBasis,
    KeepRule,
    Measure,
    MechanismCategory,
    OverlapCertainty,
    OverlapRelation,
    ProvenanceKind,
    Statistic,
    StudyDesign,
    TherapyClass,
    Unit,
)

EVIDENCE_TABLES = {model.__tablename__ for model in m.TABLES_IN_INSERT_ORDER}


def test_migration_creates_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= EVIDENCE_TABLES
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    # Other packages add their own tables and migrations; here only ours are judged.
    ours = [d for d in diffs if EVIDENCE_TABLES & set(_tables_named(d))]
    if engine.dialect.name == "sqlite":
        # Migration 0008 widened text columns on PostgreSQL only: SQLite never enforces a
        # declared VARCHAR width (tests/literature/test_backend_parity.py checks PostgreSQL).
        ours = [d for d in ours if not (isinstance(d, list) and d[0][0] == "modify_type")]
    assert ours == []


def _tables_named(diff: object) -> list[str]:
    """Table names anywhere inside an autogenerate diff entry (tuples nest for modify_*)."""
    found: list[str] = []
    items = diff if isinstance(diff, (list, tuple)) else [diff]
    for item in items:
        if isinstance(item, (list, tuple)):
            found += _tables_named(item)
        elif isinstance(item, str):
            found.append(item)
        else:
            table = getattr(item, "table", None)
            name = getattr(table, "name", None) or getattr(item, "name", None)
            if isinstance(name, str):
                found.append(name)
    return found


def test_build_counts_and_round_trip(db_url: str, good_dir: Path) -> None:
    summary = build_database(db_url, good_dir)
    # Counted by hand in tests/data/evidence/good: 3 files, studies A and B, cohorts a1, a2, b1.
    counts = (summary.sources, summary.studies, summary.cohorts, summary.outcomes)
    assert counts == (3, 2, 3, 8)
    assert (summary.products, summary.therapies, summary.mechanisms) == (2, 2, 1)
    assert summary.risk_factors == 1
    # Every field survives the database: the stored evidence equals a fresh load.
    assert read_database(db_url) == load(good_dir)
    stored = {o.ref: o for o in read_outcomes(db_url)}
    assert stored["a1-orr"].events == 18
    assert stored["a1-orr"].events_basis == "derived_exact"
    assert stored["cohort-a2#0"].discrepancy_with == "b1-orr"


def test_rebuild_replaces_the_previous_rows(db_url: str, good_dir: Path) -> None:
    build_database(db_url, good_dir)
    partial = [good_dir / "catalogue.yaml", good_dir / "study_b.yaml"]
    summary = build_database(db_url, partial, allow_removal=True)
    assert summary.removed == ("fixture-a",)
    stored = read_database(db_url)
    assert [s.key for s in stored.sources] == ["fixture-catalogue", "fixture-b"]
    assert {o.cohort_key for o in stored.outcomes} == {"cohort-b1"}


def test_a_build_that_would_remove_sources_is_refused_and_changes_nothing(
    db_url: str, good_dir: Path
) -> None:
    build_database(db_url, good_dir)
    before = read_database(db_url)
    with pytest.raises(DestructiveBuildError, match=r"remove 1 stored source.*fixture-a"):
        build_database(db_url, [good_dir / "catalogue.yaml", good_dir / "study_b.yaml"])
    assert read_database(db_url) == before


@pytest.mark.parametrize("leave", [[], ["notes.yml"]])
def test_an_empty_folder_is_an_error_not_an_empty_base(
    db_url: str, good_dir: Path, tmp_path: Path, leave: list[str]
) -> None:
    build_database(db_url, good_dir)
    before = read_database(db_url)
    for name in leave:
        (tmp_path / name).write_text("sources: []\n", encoding="utf-8")
    with pytest.raises(EvidenceValidationError, match=r"no \*\.yaml evidence files") as caught:
        build_database(db_url, tmp_path, allow_removal=True)
    if leave:
        assert "notes.yml" in str(caught.value)
    assert read_database(db_url) == before


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")  # about 300 bytes
    with pytest.raises(EvidenceValidationError, match="aliases expand to 490,329,064 nodes"):
        load(bomb)


def test_invalid_files_leave_the_database_untouched(
    db_url: str, good_dir: Path, broken_dir: Path
) -> None:
    build_database(db_url, good_dir)
    before = read_database(db_url)
    with pytest.raises(EvidenceValidationError):
        build_database(db_url, [good_dir, broken_dir / "percent_range.yaml"])
    assert read_database(db_url) == before


def test_a_failing_write_rolls_back_to_the_old_evidence(db_url: str, good_dir: Path) -> None:
    build_database(db_url, good_dir)
    before = read_database(db_url)
    evidence = load(good_dir)
    # Bypass validation: a cohort of a study that does not exist breaks a foreign key late,
    # after the old rows were deleted inside the transaction.
    orphan = dataclasses.replace(evidence.cohorts[0], key="orphan", study_key="no-such-study")
    broken = dataclasses.replace(evidence, cohorts=(*evidence.cohorts, orphan))
    engine = make_engine(db_url)
    try:
        with pytest.raises(IntegrityError), session_scope(engine) as session:
            replace_evidence(session, broken)
    finally:
        engine.dispose()
    assert read_database(db_url) == before


def test_schema_rejects_a_percentage_above_100(db_url: str, good_dir: Path) -> None:
    build_database(db_url, good_dir)
    engine = make_engine(db_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE outcome SET value = 120 WHERE key = 'a1-orr'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE outcome SET events = 11, denominator = 10"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE outcome SET measure = 'overall'"))
    finally:
        engine.dispose()


def test_reading_an_unbuilt_database_gives_empty_evidence(db_url: str) -> None:
    assert read_database(db_url).outcomes == ()


VOCABULARY_COLUMNS = [
    ("outcome", "measure", Measure),
    ("outcome", "statistic", Statistic),
    ("outcome", "unit", Unit),
    ("outcome", "events_basis", EventsBasis),
    ("outcome", "provenance_kind", ProvenanceKind),
    ("study", "design", StudyDesign),
    ("study", "disease", Disease),
    ("therapy", "therapy_class", TherapyClass),
    ("mechanism", "category", MechanismCategory),
    ("risk_factor", "direction", Direction),
    ("risk_factor", "analysis", AnalysisType),
    ("cohort", "role", CohortRole),
    ("cohort", "denominator_basis", DenominatorBasis),
    ("cohort", "n_provenance_kind", ProvenanceKind),
    ("outcome", "denominator_basis", DenominatorBasis),
    ("overlap_group", "relation", OverlapRelation),
    ("overlap_group", "certainty", OverlapCertainty),
    ("overlap_group", "keep", KeepRule),
]


@pytest.mark.parametrize(("table", "column", "vocabulary"), VOCABULARY_COLUMNS)
def test_migrated_checks_accept_every_current_term(
    tmp_path: Path, table: str, column: str, vocabulary: type[StrEnum]
) -> None:
    # Autogenerate does not compare CHECK constraints, so a term added to vocab without a
    # migration would only fail at load time; read the migrated DDL instead.
    engine = make_engine(f"sqlite:///{tmp_path / 'checks.db'}")
    try:
        migrate(engine)
        with engine.connect() as connection:
            ddl = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                {"t": table},
            ).scalar_one()
    finally:
        engine.dispose()
    clause = next(p for p in ddl.split("CHECK") if p.lstrip(" (").startswith(f"{column} IN"))
    missing = [term.value for term in vocabulary if f"'{term.value}'" not in clause]
    assert missing == []


#: Evidence rows as a 0002-era build stored them (made up; they only need to refer to each other).
OLD_ROWS = (
    "INSERT INTO source (key, citation, file) VALUES ('s', 'old', 'old.yaml')",
    "INSERT INTO study (key, source_key, name, design, disease, post_cart_specific, "
    "timing_subgroup, antigen_status_required, file) "
    "VALUES ('st', 's', 'Old', 'real_world', 'LBCL', false, false, false, 'old.yaml')",
    "INSERT INTO cohort (key, study_key, ordinal, label, intervention, file) "
    "VALUES ('c', 'st', 0, 'All', 'x', 'old.yaml')",
    "INSERT INTO outcome (id, cohort_key, ordinal, measure, statistic, unit, events_basis, "
    "analysis_unit, provenance_kind, file) "
    "VALUES (1, 'c', 0, 'orr', 'point', 'percent', 'none', 'patients', 'primary', 'old.yaml')",
)


def test_upgrade_from_0002_with_stored_evidence(db_url: str, good_dir: Path) -> None:
    # A database built before cohort roles existed, holding evidence rows that point at each
    # other: 0003 rebuilds cohort and outcome (SQLite), which must not trip foreign keys.
    from alembic import command
    from alembic.config import Config

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(postcart.db.__file__).parent / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002_literature")
        with engine.begin() as connection:
            for statement in OLD_ROWS:
                connection.execute(text(statement))
        migrate(engine)
        assert not has_evidence(engine)  # cleared: rebuilt from the files by the next build
    finally:
        engine.dispose()
    summary = build_database(db_url, good_dir)
    assert summary.cohorts > 0
    roles = {c.role for c in read_database(db_url).cohorts}
    assert roles  # the new columns hold the curated roles
