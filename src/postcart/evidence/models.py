"""ORM tables of the evidence base; private to ``postcart.evidence`` (the API returns records).

Vocabulary columns are strings with named CHECK constraints built from ``vocab``: portable to
SQLite and PostgreSQL alike, where native enum types would behave differently on each.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postcart.db import Base
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


def one_of(column: str, vocabulary: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """CHECK that ``column`` holds a term of ``vocabulary`` (NULL passes; nullability is apart)."""
    terms = ", ".join(f"'{term.value}'" for term in vocabulary)
    return CheckConstraint(f"{column} IN ({terms})", name=name or f"{column}_vocab")


def within_percent(column: str) -> CheckConstraint:
    """CHECK that a percentage-unit figure lies in 0–100, so a typo cannot reach an analysis."""
    return CheckConstraint(
        f"unit <> 'percent' OR {column} IS NULL OR ({column} >= 0 AND {column} <= 100)",
        name=f"{column}_percent",
    )


class Source(Base):
    """A publication (or registry/abstract) that reports numbers."""

    __tablename__ = "source"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    citation: Mapped[str] = mapped_column(Text)
    first_author: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    journal: Mapped[str | None] = mapped_column(Text)
    pmid: Mapped[str | None] = mapped_column(String(9))
    doi: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    seed_ref: Mapped[int | None] = mapped_column(Integer)
    checked_against: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Product(Base):
    """A CAR T-cell product of the catalogue."""

    __tablename__ = "product"
    __table_args__ = (one_of("provenance_kind", ProvenanceKind),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    generic_name: Mapped[str] = mapped_column(Text)
    brand_name: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    costimulatory_domain: Mapped[str | None] = mapped_column(Text)
    approved: Mapped[bool] = mapped_column(Boolean)
    # The product's own provenance is optional in the file contract, so all of it is nullable.
    provenance_kind: Mapped[str | None] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Indication(Base):
    """One regulatory approval of a product."""

    __tablename__ = "indication"
    __table_args__ = (one_of("provenance_kind", ProvenanceKind),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product_key: Mapped[str] = mapped_column(ForeignKey("product.key"))
    ordinal: Mapped[int] = mapped_column(Integer)
    indication: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)
    pivotal_trial: Mapped[str | None] = mapped_column(Text)
    provenance_kind: Mapped[str] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)


class Therapy(Base):
    """A salvage therapy after CAR T failure."""

    __tablename__ = "therapy"
    __table_args__ = (one_of("therapy_class", TherapyClass),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    therapy_class: Mapped[str] = mapped_column(String(40))
    target_antigen: Mapped[str | None] = mapped_column(Text)
    cd19_directed: Mapped[bool] = mapped_column(Boolean)
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Mechanism(Base):
    """One mechanism of CAR T failure in the review's taxonomy."""

    __tablename__ = "mechanism"
    __table_args__ = (
        one_of("category", MechanismCategory),
        one_of("provenance_kind", ProvenanceKind),
    )

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    provenance_kind: Mapped[str] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Study(Base):
    """One study reported by a source."""

    __tablename__ = "study"
    __table_args__ = (one_of("design", StudyDesign), one_of("disease", Disease))

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    name: Mapped[str] = mapped_column(Text)
    design: Mapped[str] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(Text)
    disease: Mapped[str] = mapped_column(String(40))
    post_cart_specific: Mapped[bool] = mapped_column(Boolean)
    timing_subgroup: Mapped[bool] = mapped_column(Boolean)
    antigen_status_required: Mapped[bool] = mapped_column(Boolean)
    registration: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Cohort(Base):
    """A group of patients within a study that outcomes are reported for."""

    __tablename__ = "cohort"
    __table_args__ = (
        one_of("disease", Disease),
        one_of("role", CohortRole),
        one_of("denominator_basis", DenominatorBasis),
        one_of("n_provenance_kind", ProvenanceKind),
        CheckConstraint("n IS NULL OR n >= 0", name="n_nonnegative"),
    )

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    study_key: Mapped[str] = mapped_column(ForeignKey("study.key"))
    ordinal: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    intervention: Mapped[str] = mapped_column(Text)
    therapy_key: Mapped[str | None] = mapped_column(ForeignKey("therapy.key"))
    disease: Mapped[str | None] = mapped_column(String(40))
    n: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    denominator_basis: Mapped[str] = mapped_column(String(40))
    selection: Mapped[str | None] = mapped_column(Text)
    n_provenance_kind: Mapped[str | None] = mapped_column(String(20))
    n_quote: Mapped[str | None] = mapped_column(Text)
    n_section: Mapped[str | None] = mapped_column(Text)
    n_locator: Mapped[str | None] = mapped_column(Text)
    n_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    n_url: Mapped[str | None] = mapped_column(Text)
    subgroup_of: Mapped[str | None] = mapped_column(ForeignKey("cohort.key"))
    failure_days_min: Mapped[int | None] = mapped_column(Integer)
    failure_days_max: Mapped[int | None] = mapped_column(Integer)
    cd19_status: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class CohortProduct(Base):
    """Which CAR T products a cohort received; ``position`` keeps the file's order."""

    __tablename__ = "cohort_product"

    cohort_key: Mapped[str] = mapped_column(ForeignKey("cohort.key"), primary_key=True)
    product_key: Mapped[str] = mapped_column(ForeignKey("product.key"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class Outcome(Base):
    """One reported number about one cohort, with where it was read and how events are known."""

    __tablename__ = "outcome"
    __table_args__ = (
        one_of("measure", Measure),
        one_of("statistic", Statistic),
        one_of("unit", Unit),
        one_of("events_basis", EventsBasis),
        one_of("provenance_kind", ProvenanceKind),
        one_of("denominator_basis", DenominatorBasis),
        within_percent("value"),
        within_percent("range_low"),
        within_percent("range_high"),
        within_percent("ci_low"),
        within_percent("ci_high"),
        CheckConstraint(
            "events IS NULL OR denominator IS NULL OR events <= denominator",
            name="events_within_denominator",
        ),
        CheckConstraint(
            "(events IS NULL AND events_basis = 'none') "
            "OR (events IS NOT NULL AND events_basis <> 'none')",
            name="events_basis_consistent",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    cohort_key: Mapped[str] = mapped_column(ForeignKey("cohort.key"))
    ordinal: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(40))
    label: Mapped[str | None] = mapped_column(Text)
    statistic: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    timepoint_months: Mapped[float | None] = mapped_column(Float)
    range_low: Mapped[float | None] = mapped_column(Float)
    range_high: Mapped[float | None] = mapped_column(Float)
    events: Mapped[int | None] = mapped_column(Integer)
    events_basis: Mapped[str] = mapped_column(String(20))
    denominator: Mapped[int | None] = mapped_column(Integer)
    denominator_basis: Mapped[str | None] = mapped_column(String(40))
    denominator_uncertain: Mapped[str | None] = mapped_column(Text)
    analysis_unit: Mapped[str] = mapped_column(String(40))
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    ci_level: Mapped[float | None] = mapped_column(Float)
    criteria: Mapped[str | None] = mapped_column(Text)
    n_studies: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    provenance_kind: Mapped[str] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Discrepancy(Base):
    """Two figures for one quantity that disagree (``outcome_id``: the first may be keyless)."""

    __tablename__ = "discrepancy"

    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome.id"), primary_key=True)
    other_outcome_key: Mapped[str] = mapped_column(ForeignKey("outcome.key"))
    note: Mapped[str] = mapped_column(Text)


class RiskFactor(Base):
    """A prognostic association a study reports."""

    __tablename__ = "risk_factor"
    __table_args__ = (
        one_of("direction", Direction),
        one_of("analysis", AnalysisType),
        one_of("provenance_kind", ProvenanceKind),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    study_key: Mapped[str] = mapped_column(ForeignKey("study.key"))
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    factor: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(String(20))
    endpoint: Mapped[str] = mapped_column(Text)
    analysis: Mapped[str] = mapped_column(String(20))
    provenance_kind: Mapped[str] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class OverlapGroup(Base):
    """Cohorts of different reports that share patients (the overlap register)."""

    __tablename__ = "overlap_group"
    __table_args__ = (
        one_of("relation", OverlapRelation),
        one_of("certainty", OverlapCertainty),
        one_of("keep", KeepRule),
        one_of("provenance_kind", ProvenanceKind),
    )

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    relation: Mapped[str] = mapped_column(String(40))
    certainty: Mapped[str] = mapped_column(String(20))
    keep: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(ForeignKey("source.key"))
    provenance_kind: Mapped[str | None] = mapped_column(String(20))
    quote: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    provenance_source_key: Mapped[str | None] = mapped_column(ForeignKey("source.key"))
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class OverlapMember(Base):
    """One cohort of an overlap group; ``position`` keeps the register's order."""

    __tablename__ = "overlap_member"

    group_key: Mapped[str] = mapped_column(ForeignKey("overlap_group.key"), primary_key=True)
    cohort_key: Mapped[str] = mapped_column(ForeignKey("cohort.key"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


#: Tables in the order rows must be inserted (parents first); delete in reverse.
TABLES_IN_INSERT_ORDER: tuple[type[Base], ...] = (
    Source,
    Product,
    Indication,
    Therapy,
    Mechanism,
    Study,
    Cohort,
    CohortProduct,
    Outcome,
    Discrepancy,
    RiskFactor,
    OverlapGroup,
    OverlapMember,
)
