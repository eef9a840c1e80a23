"""The database layer: clear errors for bad URLs, and migrations safe under concurrent starts."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postcart.db import (
    DatabaseUnavailableError,
    DatabaseUrlError,
    is_retryable,
    make_engine,
    migrate,
    retry_in_session,
    run_in_transaction,
)

PROCESSES = 6


def _migrate(url: str) -> str:
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
    except Exception as error:  # the test reports any failure by its type
        return f"{type(error).__name__}: {error}"
    return "ok"


def test_several_processes_migrate_an_empty_database_at_once(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.map(_migrate, [database_url] * PROCESSES)
    assert results == ["ok"] * PROCESSES
    engine = make_engine(database_url)
    with engine.connect() as connection:
        heads = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(heads) == 1  # one head, recorded once
    assert inspect(engine).has_table("lit_record")
    engine.dispose()


@pytest.mark.parametrize("url", ["nonsense://x", "postgresql+nodriver://u@h/db"])
def test_a_bad_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="sqlite:///FILE or postgresql://"):
        make_engine(url)


def test_a_password_in_a_bad_url_is_never_echoed() -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        make_engine("nodialect://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailableError, match="No such file or directory"):
        migrate(make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
    with pytest.raises(DatabaseUnavailableError, match="cannot open the database"):
        migrate(make_engine("postgresql://nobody@127.0.0.1:1/none"))


def test_run_in_transaction_reruns_work_after_a_transient_conflict(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
    calls: list[int] = []

    def work(session: object) -> int:
        calls.append(1)
        session.execute(text("INSERT INTO t VALUES (1)"))  # type: ignore[attr-defined]
        if len(calls) == 1:  # the first attempt collides with a row another writer made
            session.execute(text("INSERT INTO t VALUES (1)"))  # type: ignore[attr-defined]
        return len(calls)

    assert run_in_transaction(engine, work) == 2
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()


def test_only_transient_errors_are_retryable() -> None:
    assert not is_retryable(ValueError("database is locked"))  # not from the driver


def test_retry_in_session_reruns_work_in_the_callers_session(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
    calls: list[int] = []

    def work(session: Session) -> int:
        calls.append(1)
        session.execute(text("INSERT INTO t VALUES (1)"))
        if len(calls) == 1:  # collides once, as a racing writer's row would
            session.execute(text("INSERT INTO t VALUES (1)"))
        return len(calls)

    with Session(engine) as session:
        assert retry_in_session(session, work) == 2
        session.commit()
    with pytest.raises(IntegrityError), Session(engine) as session:
        retry_in_session(session, lambda s: s.execute(text("INSERT INTO t VALUES (1)")), attempts=2)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()
