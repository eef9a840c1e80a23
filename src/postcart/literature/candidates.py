"""The records a reviewer may vote on next, found by the database in one query.

Choosing the next record used to rebuild the whole stage in Python on every vote: every
record, vote, resolution and assignment of the project loaded and walked, about a second per
vote on a 20,000-record project. Here the database does the filtering with its indexes and
returns only the eligible records, each with its vote count and whether it is assigned to
this reviewer; the caller picks the first in priority order. The rule is the one
``workflow._waiting_for`` states over a loaded stage, and a test holds the two equal:

- the record is screened at this stage (not a duplicate; at full text, its report exists and
  was not marked unobtainable), has no resolution and fewer votes than the stage requires;
- this reviewer has not voted on it;
- it is assigned to this reviewer, or the reviewers who voted on it or hold it assigned are
  still fewer than the stage requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
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
    """Every record waiting for ``reviewer_id`` at ``stage``, in import order."""
    claims = union_all(
        select(m.Vote.record_id, m.Vote.reviewer_id, literal(1).label("voted"))
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
        .where(m.LitRecord.project_id == project.id, m.Vote.stage == stage),
        select(m.Assignment.record_id, m.Assignment.reviewer_id, literal(0).label("voted")).where(
            m.Assignment.project_id == project.id, m.Assignment.stage == stage
        ),
    ).subquery()
    me = claims.c.reviewer_id == reviewer_id
    per = (
        select(
            claims.c.record_id,
            func.count(func.distinct(claims.c.reviewer_id)).label("claimed"),
            func.sum(claims.c.voted).label("votes"),
            func.max(case((and_(me, claims.c.voted == 1), 1), else_=0)).label("i_voted"),
            func.max(case((and_(me, claims.c.voted == 0), 1), else_=0)).label("mine"),
        )
        .group_by(claims.c.record_id)
        .subquery()
    )
    required = _required(project, stage)
    votes = func.coalesce(per.c.votes, 0)
    mine = func.coalesce(per.c.mine, 0)
    group = m.DuplicateGroup
    query = (
        select(m.LitRecord.id, votes, mine)
        .outerjoin(per, per.c.record_id == m.LitRecord.id)
        .outerjoin(group, group.id == m.LitRecord.duplicate_group_id)
        .where(
            m.LitRecord.project_id == project.id,
            or_(group.id.is_(None), group.root_record_id == m.LitRecord.id),
            func.coalesce(per.c.i_voted, 0) == 0,
            votes < required,
            ~exists().where(m.Resolution.record_id == m.LitRecord.id, m.Resolution.stage == stage),
            or_(mine == 1, func.coalesce(per.c.claimed, 0) < required),
        )
        .order_by(m.LitRecord.id)
    )
    if stage == FULL_TEXT:
        query = query.where(
            exists().where(
                m.Report.record_id == m.LitRecord.id,
                or_(m.Report.retrieved.is_(None), m.Report.retrieved.is_(True)),
            )
        )
    return [Candidate(int(rid), int(n), bool(own)) for rid, n, own in session.execute(query)]
