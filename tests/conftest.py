"""Shared fixtures. Under ``CI=true`` a missing tool is a failure, never a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
#: The team's shared folder (founding review, research notes, public data files).
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI") == "true"

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if IN_CI else "dev")


def need(condition: bool, reason: str) -> None:
    """Skip locally when a tool is missing; fail under CI, where it must have been installed."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true but missing: {reason}")
    pytest.skip(reason)


def _r_has(package: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    code = f"quit(status = !requireNamespace('{package}', quietly = TRUE))"
    result = subprocess.run(["Rscript", "-e", code], capture_output=True, check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of ``../shared``; skips (fails under CI) when the checkout has no shared folder."""
    need(SHARED.is_dir(), f"shared folder {SHARED} not present")
    return SHARED


@pytest.fixture(scope="session")
def seed_review_text(shared_dir: Path) -> str:
    """The founding review's full text."""
    return (shared_dir / "seed" / "review.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the throw-away PostgreSQL server that ``scripts/with-postgres.sh`` started."""
    url = os.environ.get("POSTCART_TEST_PG_URL", "")
    need(bool(url), "POSTCART_TEST_PG_URL not set (run the suite via `make test`)")
    return url


@pytest.fixture(scope="session")
def r_metafor() -> str:
    """Path of Rscript, after checking metafor is installed."""
    need(_r_has("metafor"), "Rscript with the metafor package")
    path = shutil.which("Rscript")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium."""
    path = "/usr/bin/chromium"
    need(Path(path).exists(), "Debian chromium at /usr/bin/chromium")
    return path


def reset_postgres(url: str) -> None:
    """Empty the throw-away server's public schema so each test starts from nothing."""
    from sqlalchemy import text

    from postcart.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once per kind: an SQLite file, then the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    reset_postgres(url)
    yield url
    reset_postgres(url)
