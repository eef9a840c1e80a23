"""Read the evidence tables back into :class:`Evidence`, in the order the loader produced it.

Files are loaded sorted by name and records kept in file order, so ordering rows by
(file, line) — or by the ids assigned in load order — reproduces a fresh load exactly.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.evidence import models as m
from postcart.evidence.records import (
    Cohort,
    Evidence,
    Indication,
    Mechanism,
    Outcome,
    Product,
    Provenance,
    RiskFactor,
    Source,
    Study,
    Therapy,
)
from postcart.evidence.vocab import (
    AnalysisType,
    Direction,
    Disease,
    EventsBasis,
    Measure,
    MechanismCategory,
    ProvenanceKind,
    Statistic,
    StudyDesign,
    TherapyClass,
    Unit,
)

_Row = m.Outcome | m.RiskFactor | m.Mechanism | m.Indication | m.Product


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
        approvals[a.product_key].append(
            Indication(a.indication, _provenance(a), a.agency, a.year, a.pivotal_trial)
        )
    return tuple(
        Product(
            key=p.key,
            generic_name=p.generic_name,
            target=p.target,
            approved=p.approved,
            source_key=p.source_key,
            file=p.file,
            line=p.line,
            brand_name=p.brand_name,
            costimulatory_domain=p.costimulatory_domain,
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
        Cohort(
            key=c.key,
            study_key=c.study_key,
            label=c.label,
            intervention=c.intervention,
            file=c.file,
            line=c.line,
            products=tuple(products[c.key]),
            therapy=c.therapy_key,
            disease=Disease(c.disease) if c.disease else None,
            n=c.n,
            subgroup_of=c.subgroup_of,
            failure_days_min=c.failure_days_min,
            failure_days_max=c.failure_days_max,
            cd19_status=c.cd19_status,
            note=c.note,
        )
        for c in session.scalars(select(m.Cohort).order_by(m.Cohort.ordinal))
    )


def _outcomes(session: Session) -> tuple[Outcome, ...]:
    notes = {d.outcome_id: d for d in session.scalars(select(m.Discrepancy))}
    return tuple(
        Outcome(
            cohort_key=o.cohort_key,
            ordinal=o.ordinal,
            measure=Measure(o.measure),
            unit=Unit(o.unit),
            provenance=_provenance(o),
            file=o.file,
            line=o.line,
            key=o.key,
            label=o.label,
            statistic=Statistic(o.statistic),
            value=o.value,
            timepoint_months=o.timepoint_months,
            range_low=o.range_low,
            range_high=o.range_high,
            events=o.events,
            events_basis=EventsBasis(o.events_basis),
            denominator=o.denominator,
            analysis_unit=o.analysis_unit,
            ci_low=o.ci_low,
            ci_high=o.ci_high,
            ci_level=o.ci_level,
            criteria=o.criteria,
            n_studies=o.n_studies,
            discrepancy_with=notes[o.id].other_outcome_key if o.id in notes else None,
            discrepancy_note=notes[o.id].note if o.id in notes else None,
            note=o.note,
        )
        for o in session.scalars(select(m.Outcome).order_by(m.Outcome.id))
    )


def read_evidence(session: Session) -> Evidence:
    """Everything in the evidence tables as records."""
    sources = tuple(
        Source(
            key=s.key,
            citation=s.citation,
            file=s.file,
            line=s.line,
            first_author=s.first_author,
            year=s.year,
            journal=s.journal,
            pmid=s.pmid,
            doi=s.doi,
            url=s.url,
            seed_ref=s.seed_ref,
            checked_against=s.checked_against,
            note=s.note,
        )
        for s in session.scalars(select(m.Source).order_by(m.Source.file, m.Source.line))
    )
    studies = tuple(
        Study(
            key=s.key,
            source_key=s.source_key,
            name=s.name,
            design=StudyDesign(s.design),
            disease=Disease(s.disease),
            file=s.file,
            line=s.line,
            region=s.region,
            post_cart_specific=s.post_cart_specific,
            timing_subgroup=s.timing_subgroup,
            antigen_status_required=s.antigen_status_required,
            registration=s.registration,
            note=s.note,
        )
        for s in session.scalars(select(m.Study).order_by(m.Study.file, m.Study.line))
    )
    therapies = tuple(
        Therapy(
            t.key,
            t.name,
            TherapyClass(t.therapy_class),
            t.cd19_directed,
            t.source_key,
            t.file,
            t.line,
            t.target_antigen,
        )
        for t in session.scalars(select(m.Therapy).order_by(m.Therapy.file, m.Therapy.line))
    )
    mechanisms = tuple(
        Mechanism(
            x.key,
            MechanismCategory(x.category),
            x.name,
            x.summary,
            _provenance(x),
            x.source_key,
            x.file,
            x.line,
        )
        for x in session.scalars(select(m.Mechanism).order_by(m.Mechanism.file, m.Mechanism.line))
    )
    risk_factors = tuple(
        RiskFactor(
            r.factor,
            Direction(r.direction),
            r.endpoint,
            AnalysisType(r.analysis),
            r.study_key,
            r.source_key,
            _provenance(r),
            r.file,
            r.line,
        )
        for r in session.scalars(select(m.RiskFactor).order_by(m.RiskFactor.id))
    )
    return Evidence(
        sources=sources,
        studies=studies,
        cohorts=_cohorts(session),
        outcomes=_outcomes(session),
        products=_products(session),
        therapies=therapies,
        mechanisms=mechanisms,
        risk_factors=risk_factors,
    )
