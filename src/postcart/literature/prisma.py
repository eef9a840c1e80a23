"""PRISMA 2020 flow counts computed from the screening data, checked box by box.

Records, reports and studies are counted separately, per living-review update and cumulatively
(PRISMA-LSR). Every box must equal the sum of its parts; the PRISMA2020 R tool draws whatever it
is given, so an inconsistency is raised here with the name of the box that does not add up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import models as m
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT, Outcome, outcomes


@dataclass(frozen=True, slots=True)
class PrismaCounts:
    """The numbers of one PRISMA 2020 diagram (``update_no`` None = cumulative)."""

    update_no: int | None
    identified: dict[str, int]
    duplicates: int
    records_screened: int
    records_excluded: int
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: dict[str, int]
    new_reports: int
    new_studies: int
    records_awaiting: int = 0
    reports_awaiting: int = 0
    excluded_automatic: int = 0
    excluded_other: int = 0
    previous_reports: int = 0
    previous_studies: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def total_reports(self) -> int:
        """Reports of all included studies, this version and earlier ones."""
        return self.previous_reports + self.new_reports

    @property
    def total_studies(self) -> int:
        """Studies included in this version and earlier ones."""
        return self.previous_studies + self.new_studies


def _must_equal(box: str, shown: int, parts: int, how: str) -> None:
    if shown != parts:
        raise InputError(f"PRISMA box {box!r}: shows {shown} but {how} gives {parts}")


def check(c: PrismaCounts) -> None:
    """Raise InputError naming the first box that is not the sum of its parts."""
    identified = sum(c.identified.values())
    removed = c.duplicates + c.excluded_automatic + c.excluded_other
    _must_equal(
        "records_screened",
        c.records_screened + c.records_awaiting,
        identified - removed,
        "identified - removed before screening",
    )
    _must_equal(
        "records_excluded",
        c.records_excluded,
        c.records_screened - c.reports_sought,
        "screened - reports sought",
    )
    _must_equal(
        "dbr_assessed",
        c.reports_assessed + c.reports_awaiting,
        c.reports_sought - c.reports_not_retrieved,
        "sought - not retrieved",
    )
    _must_equal(
        "new_reports",
        c.new_reports,
        c.reports_assessed - sum(c.reports_excluded.values()),
        "assessed - excluded with reasons",
    )
    if c.new_studies > c.new_reports:
        raise InputError(f"PRISMA box 'new_studies': {c.new_studies} > {c.new_reports} reports")
    if min(c.duplicates, c.records_excluded, c.reports_not_retrieved, c.new_studies) < 0:
        raise InputError("PRISMA: a negative count")


def _update_counts(
    session: Session, project: m.Project, updates: set[int], counted_studies: set[int]
) -> PrismaCounts:
    query = (
        select(m.LitRecord.id, m.LitRecord.duplicate_group_id, m.ImportBatch.source)
        .join(m.ImportBatch, m.ImportBatch.id == m.LitRecord.batch_id)
        .where(m.LitRecord.project_id == project.id, m.ImportBatch.update_no.in_(updates))
        .order_by(m.LitRecord.id)
    )
    identified: Counter[str] = Counter()
    duplicates = screened = excluded = awaiting = 0
    sought = not_retrieved = assessed = reports_awaiting = new_reports = 0
    reasons: Counter[str] = Counter()
    studies: set[int] = set()
    title_abstract = outcomes(session, project, TITLE_ABSTRACT)
    full_text = outcomes(session, project, FULL_TEXT)
    reports = {
        r.record_id: r
        for r in session.scalars(select(m.Report).where(m.Report.project_id == project.id))
    }
    root_query = select(m.DuplicateGroup.id, m.DuplicateGroup.root_record_id).where(
        m.DuplicateGroup.project_id == project.id
    )
    roots: dict[int, int] = {}
    for group_id, root in session.execute(root_query):
        roots[group_id] = root
    why = _exclusion_reasons(session, project)
    for record_id, group, source in session.execute(query):
        identified[source] += 1
        if group is not None and roots.get(group, record_id) != record_id:
            duplicates += 1
            continue
        ta = title_abstract[record_id]
        if ta in (Outcome.PENDING, Outcome.CONFLICT):
            awaiting += 1
            continue
        screened += 1
        if ta is Outcome.EXCLUDE:
            excluded += 1
            continue
        sought += 1
        report = reports.get(record_id)
        if report is not None and report.retrieved is False:
            not_retrieved += 1
            continue
        ft = full_text[record_id]
        if ft in (Outcome.PENDING, Outcome.CONFLICT):
            reports_awaiting += 1
            continue
        assessed += 1
        if ft is Outcome.EXCLUDE:
            reasons[why.get(record_id, "")] += 1
            continue
        new_reports += 1
        if report is not None and report.study_id is not None:
            studies.add(report.study_id)
    new_studies = studies - counted_studies
    counted_studies |= studies
    return PrismaCounts(
        update_no=max(updates) if len(updates) == 1 else None,
        identified=dict(sorted(identified.items())),
        duplicates=duplicates,
        records_screened=screened,
        records_excluded=excluded,
        reports_sought=sought,
        reports_not_retrieved=not_retrieved,
        reports_assessed=assessed,
        reports_excluded=dict(sorted(reasons.items())),
        new_reports=new_reports,
        new_studies=len(new_studies),
        records_awaiting=awaiting,
        reports_awaiting=reports_awaiting,
    )


def _exclusion_reasons(session: Session, project: m.Project) -> dict[int, str]:
    """Each record's full-text exclusion reason: the resolver's, else the first reviewer's."""
    reasons: dict[int, str] = {}
    votes = (
        select(m.Vote.record_id, m.Vote.reason)
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
        .where(m.LitRecord.project_id == project.id, m.Vote.stage == FULL_TEXT)
        .order_by(m.Vote.record_id, m.Vote.reviewer_id)
    )
    for record_id, reason in session.execute(votes):
        reasons.setdefault(record_id, reason)
    resolutions = (
        select(m.Resolution.record_id, m.Resolution.reason)
        .join(m.LitRecord, m.LitRecord.id == m.Resolution.record_id)
        .where(m.LitRecord.project_id == project.id, m.Resolution.stage == FULL_TEXT)
    )
    for record_id, reason in session.execute(resolutions):
        reasons[record_id] = reason
    return reasons


def flow(session: Session, project: m.Project) -> tuple[list[PrismaCounts], PrismaCounts]:
    """Checked counts per update (with the previous versions' totals) and cumulatively."""
    updates = sorted(
        set(
            session.scalars(
                select(m.ImportBatch.update_no).where(m.ImportBatch.project_id == project.id)
            )
        )
    )
    per_update: list[PrismaCounts] = []
    counted: set[int] = set()
    previous_reports = previous_studies = 0
    for update in updates:
        counts = _update_counts(session, project, {update}, counted)
        counts = replace(
            counts, previous_reports=previous_reports, previous_studies=previous_studies
        )
        check(counts)
        per_update.append(counts)
        previous_reports, previous_studies = counts.total_reports, counts.total_studies
    cumulative = _update_counts(session, project, set(updates), set())
    check(cumulative)
    return per_update, cumulative
