"""Fixtures for the evidence tests: fixture folders and a fresh database per test."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "evidence"
GOOD = DATA / "good"
BROKEN = DATA / "broken"


@pytest.fixture
def db_url(database_url: str) -> str:
    """An empty database: an SQLite file, or the test PostgreSQL server with a reset schema."""
    return database_url


@pytest.fixture(scope="session")
def good_dir() -> Path:
    """A small, valid, made-up evidence base (not clinical data)."""
    return GOOD


@pytest.fixture(scope="session")
def broken_dir() -> Path:
    """One made-up file per validation rule, each breaking only that rule."""
    return BROKEN
