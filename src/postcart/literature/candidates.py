"""The records a reviewer may vote on next, found by the database in one query.

Choosing the next record used to rebuild the whole stage in Python on every vote: every
record, vote, resolution and assignment of the project loaded and walked, about a second per
vote on a 20,000-record project. Here the database answers from the queue state that triggers
keep per record and stage (``lit_queue``: votes, claimers, resolved; migration 0009), through
two indexed reads, and returns only the eligible records with their vote counts; the caller
picks the first in priority order. The rule is the one
``workflow._waiting_for`` states over a loaded stage, and a test holds the two equal:

- the record is screened at this stage (not a duplicate; at full text, its report exists and
  was not marked unobtainable), has no resolution and fewer votes than the stage requires;
- this reviewer has not voted on it;
- it is assigned to this reviewer, or the reviewers who voted on it or hold it assigned are
  still fewer than the stage requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from postcart.literature import models as m
from postcart.literature.screening import FULL_TEXT, _required

__all__ = ["Candidate", "candidates"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record waiting for the reviewer's vote."""

    record_id: int
    #: Votes already cast on it at this stage (by others).
    votes: int
    #: Whether it is assigned to this reviewer (assigned records come first).
    mine: bool


def candidates(
    session: Session, reviewer_id: int, project: m.Project, stage: str
) -> list[Candidate]:
    """Every record waiting for ``reviewer_id`` at ``stage``, in import order.

    Two indexed reads of the queue state (``lit_queue``, kept by triggers): the records
    assigned to this reviewer, and the unclaimed ones (fewer claimers than the stage needs).
    """
    required = _required(project, stage)
    q = m.QueueState
    group = m.DuplicateGroup
    mine = exists().where(
        m.Assignment.record_id == q.record_id,
        m.Assignment.stage == stage,
        m.Assignment.reviewer_id == reviewer_id,
    )
    voted = exists().where(
        m.Vote.record_id == q.record_id, m.Vote.stage == stage, m.Vote.reviewer_id == reviewer_id
    )
    screened = or_(group.id.is_(None), group.root_record_id == q.record_id)
    base = (
        select(q.record_id, q.votes)
        .join(m.LitRecord, m.LitRecord.id == q.record_id)
        .outerjoin(group, group.id == m.LitRecord.duplicate_group_id)
        .where(q.stage == stage, q.resolved.is_(False), q.votes < required, ~voted, screened)
    )
    if stage == FULL_TEXT:
        base = base.where(
            exists().where(
                m.Report.record_id == q.record_id,
                or_(m.Report.retrieved.is_(None), m.Report.retrieved.is_(True)),
            )
        )
    assigned = base.join(
        m.Assignment,
        and_(
            m.Assignment.record_id == q.record_id,
            m.Assignment.stage == stage,
            m.Assignment.reviewer_id == reviewer_id,
            m.Assignment.project_id == project.id,
        ),
    ).where(q.project_id == project.id)
    free = base.where(q.project_id == project.id, q.claimers < required, ~mine)
    found = [Candidate(int(rid), int(n), True) for rid, n in session.execute(assigned)]
    found += [Candidate(int(rid), int(n), False) for rid, n in session.execute(free)]
    return sorted(found, key=lambda c: c.record_id)
