"""Write :class:`Evidence` to the database and read it back; the ORM stays in this package.

Writing replaces every evidence row inside one transaction: delete, then insert. If anything
fails the transaction rolls back and the previous evidence is still there, whole.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.orm import Session

from postcart.db import Base
from postcart.evidence import models as m
from postcart.evidence.records import Cohort, Evidence, Provenance


def _provenance_columns(p: Provenance) -> dict[str, object]:
    return {
        "provenance_kind": p.kind.value,
        "quote": p.quote,
        "section": p.section,
        "locator": p.locator,
        "provenance_source_key": p.source_key,
        "url": p.url,
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
        rows.append(
            m.Product(
                key=p.key,
                generic_name=p.generic_name,
                brand_name=p.brand_name,
                target=p.target,
                costimulatory_domain=p.costimulatory_domain,
                approved=p.approved,
                source_key=p.source_key,
                file=p.file,
                line=p.line,
                **provenance,
            )
        )
    for p in evidence.products:
        for ordinal, a in enumerate(p.indications):
            indication_id += 1
            rows.append(
                m.Indication(
                    id=indication_id,
                    product_key=p.key,
                    ordinal=ordinal,
                    indication=a.indication,
                    agency=a.agency,
                    year=a.year,
                    pivotal_trial=a.pivotal_trial,
                    **_provenance_columns(a.provenance),
                )
            )
    return rows


def _catalogue_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = [
        m.Source(
            key=s.key,
            citation=s.citation,
            first_author=s.first_author,
            year=s.year,
            journal=s.journal,
            pmid=s.pmid,
            doi=s.doi,
            url=s.url,
            seed_ref=s.seed_ref,
            checked_against=s.checked_against,
            note=s.note,
            file=s.file,
            line=s.line,
        )
        for s in evidence.sources
    ]
    rows += _product_rows(evidence)
    rows += [
        m.Therapy(
            key=t.key,
            name=t.name,
            therapy_class=t.therapy_class.value,
            target_antigen=t.target_antigen,
            cd19_directed=t.cd19_directed,
            source_key=t.source_key,
            file=t.file,
            line=t.line,
        )
        for t in evidence.therapies
    ]
    rows += [
        m.Mechanism(
            key=x.key,
            category=x.category.value,
            name=x.name,
            summary=x.summary,
            source_key=x.source_key,
            file=x.file,
            line=x.line,
            **_provenance_columns(x.provenance),
        )
        for x in evidence.mechanisms
    ]
    return rows


def _study_rows(evidence: Evidence) -> list[Base]:
    rows: list[Base] = [
        m.Study(
            key=s.key,
            source_key=s.source_key,
            name=s.name,
            design=s.design.value,
            region=s.region,
            disease=s.disease.value,
            post_cart_specific=s.post_cart_specific,
            timing_subgroup=s.timing_subgroup,
            antigen_status_required=s.antigen_status_required,
            registration=s.registration,
            note=s.note,
            file=s.file,
            line=s.line,
        )
        for s in evidence.studies
    ]
    ordinal = {c.key: i for i, c in enumerate(evidence.cohorts)}
    for c in _parents_first(evidence.cohorts):
        rows.append(
            m.Cohort(
                key=c.key,
                study_key=c.study_key,
                ordinal=ordinal[c.key],
                label=c.label,
                intervention=c.intervention,
                therapy_key=c.therapy,
                disease=c.disease.value if c.disease else None,
                n=c.n,
                subgroup_of=c.subgroup_of,
                failure_days_min=c.failure_days_min,
                failure_days_max=c.failure_days_max,
                cd19_status=c.cd19_status,
                note=c.note,
                file=c.file,
                line=c.line,
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
        outcomes.append(
            m.Outcome(
                id=number,
                key=o.key,
                cohort_key=o.cohort_key,
                ordinal=o.ordinal,
                measure=o.measure.value,
                label=o.label,
                statistic=o.statistic.value,
                value=o.value,
                unit=o.unit.value,
                timepoint_months=o.timepoint_months,
                range_low=o.range_low,
                range_high=o.range_high,
                events=o.events,
                events_basis=o.events_basis.value,
                denominator=o.denominator,
                analysis_unit=o.analysis_unit,
                ci_low=o.ci_low,
                ci_high=o.ci_high,
                ci_level=o.ci_level,
                criteria=o.criteria,
                n_studies=o.n_studies,
                note=o.note,
                file=o.file,
                line=o.line,
                **_provenance_columns(o.provenance),
            )
        )
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
        m.RiskFactor(
            id=number,
            study_key=r.study_key,
            source_key=r.source_key,
            factor=r.factor,
            direction=r.direction.value,
            endpoint=r.endpoint,
            analysis=r.analysis.value,
            file=r.file,
            line=r.line,
            **_provenance_columns(r.provenance),
        )
        for number, r in enumerate(evidence.risk_factors, start=1)
    ]


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
    ]
    # The unit of work orders tables by relationships, which these models do not declare.
    for table in m.TABLES_IN_INSERT_ORDER:
        session.add_all([row for row in rows if type(row) is table])
        session.flush()


def has_evidence(engine: Engine) -> bool:
    """Whether the database has the evidence tables and at least one source in them."""
    if not inspect(engine).has_table(m.Source.__tablename__):
        return False
    with Session(engine) as session:
        return bool(session.scalar(select(func.count()).select_from(m.Source)))
