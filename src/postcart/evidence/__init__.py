"""The curated evidence base: load it from YAML, store it in a database, read it back.

Other packages use :func:`load` (no database needed) and the frozen records it returns; the
ORM tables never leave this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from postcart.db import make_engine, migrate, session_scope
from postcart.errors import DestructiveBuildError
from postcart.evidence.frame import COLUMNS, EXPORT_COLUMNS
from postcart.evidence.loader import DATA_DIR, load_evidence
from postcart.evidence.readback import read_evidence
from postcart.evidence.records import (
    Cohort,
    Evidence,
    Indication,
    Mechanism,
    Outcome,
    OverlapGroup,
    Product,
    Provenance,
    RiskFactor,
    Source,
    Study,
    Therapy,
)
from postcart.evidence.store import has_evidence, replace_evidence, stored_source_keys


def _paths(data_dir: Path | str | Iterable[Path | str] | None) -> list[Path | str] | None:
    if data_dir is None:
        return None
    if isinstance(data_dir, (str, Path)):
        return [data_dir]
    return list(data_dir)


def load(data_dir: Path | str | Iterable[Path | str] | None = None) -> Evidence:
    """Validate the curated files and return them as records.

    Parameters
    ----------
    data_dir
        A directory of ``*.yaml`` files, a file, or several of either; default the package's
        own ``evidence/data``.

    Raises
    ------
    postcart.errors.EvidenceValidationError
        Listing every problem in every file (file, line, field, message).
    """
    return load_evidence(_paths(data_dir))


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What :func:`build_database` stored, for the CLI to print."""

    database: str
    sources: int
    studies: int
    cohorts: int
    outcomes: int
    products: int
    therapies: int
    mechanisms: int
    risk_factors: int
    removed: tuple[str, ...] = ()


def build_database(
    url: str | None = None,
    data_dir: Path | str | Iterable[Path | str] | None = None,
    *,
    allow_removal: bool = False,
) -> BuildSummary:
    """Validate the files, migrate the schema, and replace the stored evidence in one transaction.

    Validation runs before the database is touched, so invalid files leave it as it was. A
    build that would drop sources already stored (a wrong or partial ``--data`` folder, say) is
    refused with :class:`DestructiveBuildError` naming them, unless ``allow_removal``; nothing
    is written then.
    """
    evidence = load(data_dir)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            removed = tuple(sorted(stored_source_keys(session) - {s.key for s in evidence.sources}))
            if removed and not allow_removal:
                raise DestructiveBuildError(removed, len(evidence.sources))
            replace_evidence(session, evidence)
        shown = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    return BuildSummary(
        database=shown,
        sources=len(evidence.sources),
        studies=len(evidence.studies),
        cohorts=len(evidence.cohorts),
        outcomes=len(evidence.outcomes),
        products=len(evidence.products),
        therapies=len(evidence.therapies),
        mechanisms=len(evidence.mechanisms),
        risk_factors=len(evidence.risk_factors),
        removed=removed,
    )


def read_database(url: str | None = None) -> Evidence:
    """The evidence stored in the database at ``url`` (empty when it was never built)."""
    engine = make_engine(url)
    try:
        if not has_evidence(engine):
            return Evidence()
        with session_scope(engine) as session:
            return read_evidence(session)
    finally:
        engine.dispose()


def read_outcomes(url: str | None = None) -> tuple[Outcome, ...]:
    """Every stored outcome, in load order."""
    return read_database(url).outcomes


def database_has_evidence(url: str | None = None) -> bool:
    """Whether the database at ``url`` holds a built evidence base."""
    engine = make_engine(url)
    try:
        return has_evidence(engine)
    finally:
        engine.dispose()


__all__ = [
    "COLUMNS",
    "DATA_DIR",
    "EXPORT_COLUMNS",
    "BuildSummary",
    "Cohort",
    "DestructiveBuildError",
    "Evidence",
    "Indication",
    "Mechanism",
    "Outcome",
    "OverlapGroup",
    "Product",
    "Provenance",
    "RiskFactor",
    "Source",
    "Study",
    "Therapy",
    "build_database",
    "database_has_evidence",
    "load",
    "read_database",
    "read_outcomes",
]
