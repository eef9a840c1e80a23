"""Read the evidence tables back into :class:`Evidence`, in the order the loader produced it.

Files are loaded sorted by name and records kept in file order, so ordering rows by
(file, line) — or by the ids assigned in load order — reproduces a fresh load exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.evidence import models as m
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
from postcart.evidence.vocab import (
    AnalysisType,
    CohortRole,
    DenominatorBasis,
    Direction,
    Disease,
    EventsBasis,
    KeepRule,
    Measure,
    MechanismCategory,
    OverlapCertainty,
    OverlapRelation,
    ProvenanceKind,
    Statistic,
    StudyDesign,
    TherapyClass,
    Unit,
)

_Row = m.Outcome | m.RiskFactor | m.Mechanism | m.Indication | m.Product | m.OverlapGroup
_Record = TypeVar("_Record")

#: Columns stored as a vocabulary's value; a field name means the same vocabulary everywhere.
_VOCABULARY: dict[str, type[Enum]] = {
    "measure": Measure,
    "unit": Unit,
    "statistic": Statistic,
    "events_basis": EventsBasis,
    "design": StudyDesign,
    "disease": Disease,
    "therapy_class": TherapyClass,
    "category": MechanismCategory,
    "direction": Direction,
    "analysis": AnalysisType,
    "role": CohortRole,
    "denominator_basis": DenominatorBasis,
    "relation": OverlapRelation,
    "certainty": OverlapCertainty,
    "keep": KeepRule,
}


def _record(kind: type[_Record], row: Any, **overrides: Any) -> _Record:
    """A read model from a row: every field that is also a column, vocabularies restored."""
    values: dict[str, Any] = {}
    for field in fields(kind):  # type: ignore[arg-type]
        if field.name in overrides or not hasattr(row, field.name):
            continue
        value = getattr(row, field.name)
        vocabulary = _VOCABULARY.get(field.name)
        values[field.name] = vocabulary(value) if vocabulary and value is not None else value
    values.update(overrides)
    return kind(**values)


def _provenance(row: _Row) -> Provenance:
    assert row.provenance_kind is not None
    return Provenance(
        kind=ProvenanceKind(row.provenance_kind),
        quote=row.quote,
        section=row.section,
        locator=row.locator,
        source_key=row.provenance_source_key,
        url=row.url,
    )


def _products(session: Session) -> tuple[Product, ...]:
    approvals: dict[str, list[Indication]] = defaultdict(list)
    for a in session.scalars(select(m.Indication).order_by(m.Indication.id)):
        approvals[a.product_key].append(_record(Indication, a, provenance=_provenance(a)))
    return tuple(
        _record(
            Product,
            p,
            indications=tuple(approvals[p.key]),
            provenance=_provenance(p) if p.provenance_kind is not None else None,
        )
        for p in session.scalars(select(m.Product).order_by(m.Product.file, m.Product.line))
    )


def _cohorts(session: Session) -> tuple[Cohort, ...]:
    products: dict[str, list[str]] = defaultdict(list)
    links = select(m.CohortProduct).order_by(m.CohortProduct.cohort_key, m.CohortProduct.position)
    for link in session.scalars(links):
        products[link.cohort_key].append(link.product_key)
    return tuple(
        _record(
            Cohort,
            c,
            products=tuple(products[c.key]),
            therapy=c.therapy_key,
            n_provenance=_n_provenance(c),
        )
        for c in session.scalars(select(m.Cohort).order_by(m.Cohort.ordinal))
    )


def _n_provenance(c: m.Cohort) -> Provenance | None:
    if c.n_provenance_kind is None:
        return None
    return Provenance(
        kind=ProvenanceKind(c.n_provenance_kind),
        quote=c.n_quote,
        section=c.n_section,
        locator=c.n_locator,
        source_key=c.n_source_key,
        url=c.n_url,
    )


def _overlaps(session: Session) -> tuple[OverlapGroup, ...]:
    members: dict[str, list[str]] = defaultdict(list)
    links = select(m.OverlapMember).order_by(m.OverlapMember.group_key, m.OverlapMember.position)
    for link in session.scalars(links):
        members[link.group_key].append(link.cohort_key)
    groups = select(m.OverlapGroup).order_by(m.OverlapGroup.file, m.OverlapGroup.line)
    return tuple(
        _record(
            OverlapGroup,
            g,
            cohorts=tuple(members[g.key]),
            provenance=_provenance(g) if g.provenance_kind is not None else None,
        )
        for g in session.scalars(groups)
    )


def _outcomes(session: Session) -> tuple[Outcome, ...]:
    notes = {d.outcome_id: d for d in session.scalars(select(m.Discrepancy))}
    return tuple(
        _record(
            Outcome,
            o,
            provenance=_provenance(o),
            discrepancy_with=notes[o.id].other_outcome_key if o.id in notes else None,
            discrepancy_note=notes[o.id].note if o.id in notes else None,
        )
        for o in session.scalars(select(m.Outcome).order_by(m.Outcome.id))
    )


def _in_file_order(session: Session, table: Any, kind: type[_Record]) -> tuple[_Record, ...]:
    """Rows of ``table`` as ``kind`` records, in the order the files were loaded."""
    rows = session.scalars(select(table).order_by(table.file, table.line))
    return tuple(_record(kind, row) for row in rows)


def read_evidence(session: Session) -> Evidence:
    """Everything in the evidence tables as records."""
    mechanisms = tuple(
        _record(Mechanism, x, provenance=_provenance(x))
        for x in session.scalars(select(m.Mechanism).order_by(m.Mechanism.file, m.Mechanism.line))
    )
    risk_factors = tuple(
        _record(RiskFactor, r, provenance=_provenance(r))
        for r in session.scalars(select(m.RiskFactor).order_by(m.RiskFactor.id))
    )
    return Evidence(
        sources=_in_file_order(session, m.Source, Source),
        studies=_in_file_order(session, m.Study, Study),
        cohorts=_cohorts(session),
        outcomes=_outcomes(session),
        products=_products(session),
        therapies=_in_file_order(session, m.Therapy, Therapy),
        mechanisms=mechanisms,
        risk_factors=risk_factors,
        overlaps=_overlaps(session),
    )
