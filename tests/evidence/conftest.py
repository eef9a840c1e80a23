"""Fixtures for the evidence tests: fixture folders and a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from postcart.db import make_engine

DATA = Path(__file__).resolve().parent.parent / "data" / "evidence"
GOOD = DATA / "good"
BROKEN = DATA / "broken"


def reset_postgres(url: str) -> None:
    """Empty the throw-away server's public schema so each test starts from nothing."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: an SQLite file, or the test PostgreSQL server with a reset schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'evidence.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    reset_postgres(url)
    yield url
    reset_postgres(url)


@pytest.fixture(scope="session")
def good_dir() -> Path:
    """A small, valid, made-up evidence base (not clinical data)."""
    return GOOD


@pytest.fixture(scope="session")
def broken_dir() -> Path:
    """One made-up file per validation rule, each breaking only that rule."""
    return BROKEN
