"""Fixtures for the metafor cross-checks: one R process for the whole pytest session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .r_session import RSession, decode_non_finite

#: Pinned metafor outputs written by ``make oracle`` (``tests/oracle/make_reference.R``).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def r_session(r_metafor: str) -> Iterator[RSession]:
    """A running ``Rscript r/server.R`` with metafor and metadat (fails under CI if absent)."""
    session = RSession(r_metafor)
    try:
        yield session
    finally:
        session.close()


def load_reference(name: str) -> Any:
    """Read one pinned reference file, e.g. ``load_reference("rma_metadat")``."""
    text = (REFERENCE_DIR / f"{name}.json").read_text(encoding="utf-8")
    return decode_non_finite(json.loads(text))
