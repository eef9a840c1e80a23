"""Screening rules: votes per reviewer and stage, blinding, consensus, conflicts, resolution.

Title/abstract: Yes or Maybe from every required reviewer advances the record to full text, No
from all excludes it, anything else is a conflict. Full text: Yes from all includes, No from all
with the same reason excludes (a reason from the project's list is mandatory), otherwise conflict.
A designated reviewer's resolution settles a conflict. Each function is one unit of work inside
the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import models as m
from postcart.literature.store import is_duplicate, record_for, records_of

TITLE_ABSTRACT, FULL_TEXT = m.STAGES


class Outcome(StrEnum):
    """Where a record stands at one stage."""

    PENDING = "pending"
    ADVANCE = "advance"  # title/abstract: go to full text; full text: included
    EXCLUDE = "exclude"
    CONFLICT = "conflict"


def _project(session: Session, record: m.LitRecord) -> m.Project:
    project = session.get(m.Project, record.project_id)
    assert project is not None  # foreign key
    return project


def _required(project: m.Project, stage: str) -> int:
    if stage == TITLE_ABSTRACT:
        return project.reviewers_title_abstract
    return project.reviewers_full_text


def lock_record(session: Session, record_id: int) -> m.LitRecord | None:
    """The record, locked until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL).

    Two reviewers voting on one record at the same moment then take turns: under READ
    COMMITTED the second, once it has the lock, sees the first one's committed vote, so exactly
    one of them finds the required votes complete and creates the full-text report. (Without
    it both missed each other's vote and the record advanced with no report.) SQLite has no
    row locks but serialises writers on the whole file; a collision there is a "database is
    locked" error that the caller's retry (``db.run_in_transaction``) reruns.
    """
    return session.scalar(
        select(m.LitRecord)
        .where(m.LitRecord.id == record_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _votes(session: Session, record_id: int, stage: str) -> list[m.Vote]:
    query = select(m.Vote).where(m.Vote.record_id == record_id, m.Vote.stage == stage)
    return list(session.scalars(query.order_by(m.Vote.reviewer_id)))


def _resolution(session: Session, record_id: int, stage: str) -> m.Resolution | None:
    query = select(m.Resolution).where(
        m.Resolution.record_id == record_id, m.Resolution.stage == stage
    )
    return session.scalar(query)


def _consensus(stage: str, votes: list[m.Vote]) -> Outcome:
    decisions = {v.decision for v in votes}
    if decisions == {"no"}:
        reasons = {v.reason for v in votes}
        return Outcome.EXCLUDE if stage == TITLE_ABSTRACT or len(reasons) == 1 else Outcome.CONFLICT
    positive = {"yes", "maybe"} if stage == TITLE_ABSTRACT else {"yes"}
    return Outcome.ADVANCE if decisions <= positive else Outcome.CONFLICT


def outcome(session: Session, record: m.LitRecord, stage: str) -> Outcome:
    """The record's standing at ``stage`` from its votes and any resolution."""
    resolution = _resolution(session, record.id, stage)
    if resolution is not None:
        return Outcome.EXCLUDE if resolution.decision == "no" else Outcome.ADVANCE
    votes = _votes(session, record.id, stage)
    if len(votes) < _required(_project(session, record), stage):
        return Outcome.PENDING
    return _consensus(stage, votes)


def outcomes(session: Session, project: m.Project, stage: str) -> dict[int, Outcome]:
    """Every record's standing at ``stage``, in two queries (``outcome`` for each, in bulk).

    Counting a 20,000-record project record by record costs 40,000 round trips; the PRISMA
    counts and the live project page need the whole project at once.
    """
    votes: dict[int, list[m.Vote]] = {}
    vote_query = (
        select(m.Vote)
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
        .where(m.LitRecord.project_id == project.id, m.Vote.stage == stage)
        .order_by(m.Vote.record_id, m.Vote.reviewer_id)
    )
    for vote in session.scalars(vote_query):
        votes.setdefault(vote.record_id, []).append(vote)
    resolution_query = (
        select(m.Resolution.record_id, m.Resolution.decision)
        .join(m.LitRecord, m.LitRecord.id == m.Resolution.record_id)
        .where(m.LitRecord.project_id == project.id, m.Resolution.stage == stage)
    )
    resolved: dict[int, str] = {}
    for record_id, decision in session.execute(resolution_query):
        resolved[record_id] = decision
    record_ids = session.scalars(select(m.LitRecord.id).where(m.LitRecord.project_id == project.id))
    required = _required(project, stage)
    standing: dict[int, Outcome] = {}
    for record_id in record_ids:
        if record_id in resolved:
            standing[record_id] = (
                Outcome.EXCLUDE if resolved[record_id] == "no" else Outcome.ADVANCE
            )
            continue
        cast = votes.get(record_id, [])
        standing[record_id] = Outcome.PENDING if len(cast) < required else _consensus(stage, cast)
    return standing


def _check_reason(project: m.Project, stage: str, decision: str, reason: str) -> None:
    if stage == FULL_TEXT and decision == "no" and reason not in project.exclusion_reasons:
        allowed = "; ".join(project.exclusion_reasons)
        raise InputError(
            f"full-text exclusion needs a reason from the list ({allowed}): {reason!r}"
        )


def _check_decision(stage: str, decision: str) -> None:
    if stage not in m.STAGES:
        raise InputError(f"stage {stage!r}: expected one of {', '.join(m.STAGES)}")
    allowed = m.DECISIONS if stage == TITLE_ABSTRACT else ("yes", "no")
    if decision not in allowed:
        raise InputError(f"decision {decision!r} at {stage}: expected one of {', '.join(allowed)}")


def _after_decision(session: Session, record: m.LitRecord, stage: str) -> None:
    """Create the Report when a record reaches full text and the Study when a report is included."""
    if outcome(session, record, stage) is not Outcome.ADVANCE:
        return
    report = session.scalar(select(m.Report).where(m.Report.record_id == record.id))
    if stage == TITLE_ABSTRACT and report is None:
        session.add(m.Report(project_id=record.project_id, record_id=record.id))
    elif stage == FULL_TEXT and report is not None and report.study_id is None:
        study = m.Study(project_id=record.project_id, label=record.title[:200])
        session.add(study)
        session.flush()
        report.study_id = study.id
    session.flush()


def _full_text_open(session: Session, record: m.LitRecord) -> bool:
    report = session.scalar(select(m.Report).where(m.Report.record_id == record.id))
    return report is not None and report.retrieved is not False


def cast_vote(
    session: Session,
    reviewer: m.Reviewer,
    record_id: int,
    stage: str,
    decision: str,
    when: datetime,
    reason: str = "",
) -> Outcome:
    """Record ``reviewer``'s decision (replacing their earlier one) and return the new outcome."""
    _check_decision(stage, decision)
    lock_record(session, record_id)
    record = record_for(session, reviewer, record_id)
    project = _project(session, record)
    _check_reason(project, stage, decision, reason)
    if is_duplicate(session, record):
        raise InputError(f"record {record_id}: a duplicate; screen its group's root instead")
    if stage == FULL_TEXT and not _full_text_open(session, record):
        raise InputError(f"record {record_id}: has no retrieved report to assess in full text")
    query = select(m.Vote).where(
        m.Vote.record_id == record_id, m.Vote.reviewer_id == reviewer.id, m.Vote.stage == stage
    )
    vote = session.scalar(query)
    if vote is None:
        vote = m.Vote(record_id=record_id, reviewer_id=reviewer.id, stage=stage)
        session.add(vote)
    vote.decision, vote.reason, vote.cast_at = decision, reason, when
    session.flush()
    _after_decision(session, record, stage)
    return outcome(session, record, stage)


def visible_votes(
    session: Session, reviewer: m.Reviewer, record_id: int, stage: str
) -> list[m.Vote]:
    """Votes ``reviewer`` may see: their own; everyone's once all required votes are cast."""
    record = record_for(session, reviewer, record_id)
    votes = _votes(session, record_id, stage)
    own = [v for v in votes if v.reviewer_id == reviewer.id]
    if own and len(votes) >= _required(_project(session, record), stage):
        return votes
    return own


def resolve(
    session: Session,
    resolver: m.Reviewer,
    record_id: int,
    stage: str,
    decision: str,
    when: datetime,
    reason: str = "",
) -> Outcome:
    """Settle a conflict; only the project's designated resolver may, and only on a conflict."""
    _check_decision(stage, decision)
    lock_record(session, record_id)
    record = record_for(session, resolver, record_id)
    project = _project(session, record)
    if project.resolver_id != resolver.id:
        raise InputError(f"project {project.name!r}: {resolver.name!r} is not the resolver")
    if outcome(session, record, stage) is not Outcome.CONFLICT:
        raise InputError(f"record {record_id}: no conflict at {stage} to resolve")
    _check_reason(project, stage, decision, reason)
    session.add(
        m.Resolution(
            record_id=record_id,
            stage=stage,
            reviewer_id=resolver.id,
            decision=decision,
            reason=reason,
            resolved_at=when,
        )
    )
    session.flush()
    _after_decision(session, record, stage)
    return outcome(session, record, stage)


def set_retrieved(session: Session, reviewer: m.Reviewer, record_id: int, retrieved: bool) -> None:
    """Mark the full text of a record sent to retrieval as obtained or not."""
    record = record_for(session, reviewer, record_id)
    report = session.scalar(select(m.Report).where(m.Report.record_id == record.id))
    if report is None:
        raise InputError(f"record {record_id}: not sent to full-text retrieval")
    report.retrieved = retrieved
    session.flush()


def queue(
    session: Session, reviewer: m.Reviewer, project: m.Project, stage: str
) -> list[m.LitRecord]:
    """Records still waiting for ``reviewer``'s vote at ``stage`` (duplicates left out)."""
    voted = set(
        session.scalars(
            select(m.Vote.record_id).where(m.Vote.reviewer_id == reviewer.id, m.Vote.stage == stage)
        )
    )
    waiting = []
    for record in records_of(session, reviewer, project):
        if record.id in voted or is_duplicate(session, record):
            continue
        if outcome(session, record, stage) is not Outcome.PENDING:
            continue
        if stage == FULL_TEXT and not _full_text_open(session, record):
            continue
        waiting.append(record)
    return waiting
