"""Write :class:`Evidence` to the database and read it back; the ORM stays in this package.

Writing replaces every evidence row inside one transaction: delete, then insert. If anything
fails the transaction rolls back and the previous evidence is still there, whole.
"""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.orm import Session

from postcart.db import Base
from postcart.evidence import models as m
from postcart.evidence.records import Cohort, Evidence, Provenance

_Row = TypeVar("_Row", bound=Base)


def _row(model: type[_Row], record: Any, **overrides: object) -> _Row:
    """An ORM row from a read model: every field that is also a column (enums as their value).

    Read models and tables share field names on purpose, so a new field needs no copy code here;
    ``overrides`` supplies the columns that are named or shaped differently.
    """
    columns = {column.key for column in inspect(model).columns}
    values: dict[str, object] = {}
    for field in fields(record):
        if field.name in columns:
            value = getattr(record, field.name)
            values[field.name] = value.value if isinstance(value, Enum) else value
    values.update(overrides)
    return model(**values)


def _provenance_columns(p: Provenance) -> dict[str, object]:
    return {
        "provenance_kind": p.kind.value,
        "quote": p.quote,
        "section": p.section,
        "locator": p.locator,
        "provenance_source_key": p.source_key,
        "url": p.url,
    }


def _n_provenance_columns(p: Provenance | None) -> dict[str, object]:
    if p is None:
        return {}
    return {
        "n_provenance_kind": p.kind.value,
        "n_quote": p.quote,
        "n_section": p.section,
        "n_locator": p.locator,
        "n_source_key": p.source_key,
        "n_url": p.url,
    }


def _parents_first(cohorts: tuple[Cohort, ...]) -> list[Cohort]:
    """Cohorts ordered so a subgroup comes after the cohort it belongs to (self foreign key)."""
    placed: set[str] = set()
    ordered: list[Cohort] = []
    pending = list(cohorts)
    while pending:
        ready = [c for c in pending if c.subgroup_of is None or c.subgroup_of in placed]
        if not ready:  # a cycle or unknown parent: the foreign key will report it
            ready = pending
        ordered.extend(ready)
        placed.update(c.key for c in ready)
        pending = [c for c in pending if c.key not in placed]
    return ordered


def _product_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = []
    indication_id = 0
    for p in evidence.products:
        provenance = _provenance_columns(p.provenance) if p.provenance else {}
        rows.append(_row(m.Product, p, **provenance))
    for p in evidence.products:
        for ordinal, a in enumerate(p.indications):
            indication_id += 1
            rows.append(
                _row(
                    m.Indication,
                    a,
                    id=indication_id,
                    product_key=p.key,
                    ordinal=ordinal,
                    **_provenance_columns(a.provenance),
                )
            )
    return rows


def _catalogue_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = [_row(m.Source, s) for s in evidence.sources]
    rows += _product_rows(evidence)
    rows += [_row(m.Therapy, t) for t in evidence.therapies]
    rows += [_row(m.Mechanism, x, **_provenance_columns(x.provenance)) for x in evidence.mechanisms]
    return rows


def _study_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = [_row(m.Study, s) for s in evidence.studies]
    ordinal = {c.key: i for i, c in enumerate(evidence.cohorts)}
    for c in _parents_first(evidence.cohorts):
        rows.append(
            _row(
                m.Cohort,
                c,
                ordinal=ordinal[c.key],
                therapy_key=c.therapy,
                **_n_provenance_columns(c.n_provenance),
            )
        )
    rows += [
        m.CohortProduct(cohort_key=c.key, product_key=p, position=i)
        for c in evidence.cohorts
        for i, p in enumerate(c.products)
    ]
    return rows


def _outcome_rows(evidence: Evidence) -> tuple[list[Base], list[Base]]:
    outcomes: list[Base] = []
    discrepancies: list[Base] = []
    for number, o in enumerate(evidence.outcomes, start=1):
        outcomes.append(_row(m.Outcome, o, id=number, **_provenance_columns(o.provenance)))
        if o.discrepancy_with is not None:
            discrepancies.append(
                m.Discrepancy(
                    outcome_id=number,
                    other_outcome_key=o.discrepancy_with,
                    note=o.discrepancy_note or "",
                )
            )
    return outcomes, discrepancies


def _risk_rows(evidence: Evidence) -> list[Base]:
    return [
        _row(m.RiskFactor, r, id=number, **_provenance_columns(r.provenance))
        for number, r in enumerate(evidence.risk_factors, start=1)
    ]


def _overlap_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = []
    for g in evidence.overlaps:
        provenance = _provenance_columns(g.provenance) if g.provenance else {}
        rows.append(_row(m.OverlapGroup, g, **provenance))
        rows += [
            m.OverlapMember(group_key=g.key, cohort_key=c, position=i)
            for i, c in enumerate(g.cohorts)
        ]
    return rows


def replace_evidence(session: Session, evidence: Evidence) -> None:
    """Delete every evidence row and insert ``evidence``, parents before children."""
    for table in reversed(m.TABLES_IN_INSERT_ORDER):
        session.execute(delete(table))
    outcomes, discrepancies = _outcome_rows(evidence)
    rows = [
        *_catalogue_rows(evidence),
        *_study_rows(evidence),
        *outcomes,
        *discrepancies,
        *_risk_rows(evidence),
        *_overlap_rows(evidence),
    ]
    # The unit of work orders tables by relationships, which these models do not declare.
    for table in m.TABLES_IN_INSERT_ORDER:
        session.add_all([row for row in rows if type(row) is table])
        session.flush()


def stored_source_keys(session: Session) -> set[str]:
    """Keys of the sources already stored (empty on a new database)."""
    return set(session.scalars(select(m.Source.key)))


def has_evidence(engine: Engine) -> bool:
    """Whether the database has the evidence tables and at least one source in them."""
    if not inspect(engine).has_table(m.Source.__tablename__):
        return False
    with Session(engine) as session:
        return bool(session.scalar(select(func.count()).select_from(m.Source)))
