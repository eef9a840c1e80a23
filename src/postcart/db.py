"""Engine, session and schema creation shared by every package that stores data.

The schema is created by Alembic migrations (``postcart/migrations``) on SQLite and PostgreSQL
alike, so a team database and a laptop file have the same tables.
"""

from __future__ import annotations

import fcntl
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from postcart.config import database_url
from postcart.errors import PostcartError

T = TypeVar("T")

#: Seconds an SQLite connection waits for another writer before "database is locked".
SQLITE_BUSY_SECONDS = 30.0

#: PostgreSQL advisory-lock key that serialises migrations across processes ("pcart").
_MIGRATION_LOCK = 0x70636172


class DatabaseUrlError(PostcartError, ValueError):
    """``DATABASE_URL`` (or ``--db``) is not a database URL we can open."""


# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every ORM class in postcart."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enable_sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: ``DATABASE_URL`` or ``postcart.db``).

    SQLite connections wait :data:`SQLITE_BUSY_SECONDS` for a concurrent writer instead of
    failing at once with "database is locked" (several reviewers' commands on one file).
    """
    resolved = database_url(url)
    if resolved.startswith("postgresql://"):
        # psycopg 3 is the driver we install; the bare scheme would ask for psycopg2.
        resolved = "postgresql+psycopg://" + resolved.removeprefix("postgresql://")
    is_sqlite = resolved.startswith("sqlite")
    options: dict[str, object] = (
        {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
        if is_sqlite
        # A team server answers many requests at once (the web app's worker threads): enough
        # connections that none waits for another request to finish.
        else {"pool_size": 10, "max_overflow": 40, "pool_pre_ping": True}
    )
    try:
        engine = create_engine(resolved, future=True, **options)
    except (ArgumentError, ImportError, ValueError) as error:
        shown = resolved.split("@")[-1] if "@" in resolved else resolved  # never echo a password
        raise DatabaseUrlError(
            f"database URL {shown!r}: {error}; use sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time, so several first starts on an empty database agree."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        try:
            handle = open(f"{database}.migrate.lock", "a+b")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise DatabaseUnavailableError(f"{database}: {error.strerror}") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def migrate(engine: Engine) -> None:
    """Bring the schema of ``engine``'s database to the newest Alembic revision.

    Safe when several processes start at once on an empty database: SQLite migrations take a
    file lock beside the database, PostgreSQL ones a transaction-scoped advisory lock, and each
    process then finds the schema at head and does nothing.
    """
    from alembic import command
    from alembic.config import Config

    migrations = Path(__file__).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(migrations))
    try:
        with _migration_lock(engine), engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as error:
        raise DatabaseUnavailableError(_reason(error)) from None


class DatabaseUnavailableError(PostcartError):
    """The database could not be reached or opened (server down, wrong password, bad path)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot open the database: {reason}")


def _reason(error: DBAPIError) -> str:
    """The driver's first line, without SQLAlchemy's boilerplate and background link."""
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a transient conflict that succeeds when the transaction is rerun.

    SQLite's "database is locked" (after the busy timeout), PostgreSQL serialization failures
    (40001), deadlocks (40P01) and unique violations from two creators racing (23505).
    """
    if not isinstance(error, DBAPIError) or error.orig is None:
        return False
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code in ("40001", "40P01", "23505"):
        return True
    message = str(error.orig).lower()
    return (
        "database is locked" in message
        or "database is busy" in message
        or ("unique constraint failed" in message)
    )


def retry_in_session(session: Session, work: Callable[[Session], T], *, attempts: int = 3) -> T:
    """Run ``work`` in ``session``'s transaction, rolling back and rerunning it after a
    transient conflict (as :func:`run_in_transaction`, for a caller that owns the session,
    such as a web request). ``work`` must flush what it writes, so a conflict surfaces here."""
    for attempt in range(1, attempts + 1):
        try:
            result = work(session)
            session.flush()
            return result
        except DBAPIError as error:
            session.rollback()
            if attempt == attempts or not is_retryable(error):
                raise
            time.sleep(0.01 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def run_in_transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = 8) -> T:
    """Run ``work`` in its own transaction, rerunning it after a transient conflict.

    ``work`` must be safe to rerun from the start (it reads what it needs inside the
    transaction). Retries back off with jitter; the last failure is raised as it came.
    """
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine) as session:
                return work(session)
        except DBAPIError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


class ValueTooLongError(PostcartError, ValueError):
    """A value does not fit its column, or holds a NUL byte; refused alike on every backend."""


def check_column_values(session: Session, _context: object, _instances: object) -> None:
    """Before each flush: bounded text fits its column and no text holds a NUL byte.

    SQLite stores any length in a ``VARCHAR(100)`` and accepts NUL; PostgreSQL refuses both
    mid-transaction with a driver error. Checking here gives one clear message, naming the
    table and column, on both backends, before anything is written.
    """
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            value = getattr(obj, column.key, None)
            if not isinstance(value, str):
                continue
            if "\x00" in value:
                raise ValueTooLongError(f"{table.name}.{column.name}: contains a NUL byte (\\x00)")
            limit = getattr(column.type, "length", None)
            if limit is not None and len(value) > limit:
                raise ValueTooLongError(
                    f"{table.name}.{column.name}: {len(value):,} characters, at most {limit} "
                    f"allowed ({value[:40]!r}...)"
                )


event.listen(Session, "before_flush", check_column_values)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back everything if it raises."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
