"""Fixtures shared by the literature tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from postcart.db import session_scope

from ._litdb import engine_at


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on an empty, migrated database (SQLite, then PostgreSQL)."""
    engine = engine_at(database_url)
    try:
        with session_scope(engine) as s:
            yield s
    finally:
        engine.dispose()
