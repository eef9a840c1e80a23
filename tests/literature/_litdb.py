"""Small helpers shared by the literature store tests: a migrated database and made-up records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from postcart.db import make_engine, migrate
from postcart.literature.records import Record

WHEN = datetime(2026, 1, 2, 3, 4, 5)


def engine_at(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def records(n: int, prefix: str = "Study", source: str = "pubmed.nbib") -> list[Record]:
    return [
        Record(
            title=f"{prefix} number {i} of CAR T relapse",
            source_file=source,
            source_line=10 * i + 1,
            source_format="medline",
            abstract=f"Abstract {prefix} {i}",
            pmid=str(1000 + i) if prefix == "Study" else None,
            year=2020 + i % 5,
        )
        for i in range(n)
    ]
