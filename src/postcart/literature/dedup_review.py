"""The manual duplicate queue: pairs too uncertain to link automatically, decided by a person.

Automatic dedup links only what it is sure of; near-identical titles with no shared identifier
wait here. A reviewer's confirmation links the pair into one group (``method="manual"``), so
the decision survives later living updates like any other link. Nothing is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import models as m
from postcart.literature.dedup import find_duplicates
from postcart.literature.store import as_record, record_for, records_of


@dataclass(frozen=True, slots=True)
class QueuedPair:
    """Two records of a project that may be the same work."""

    left_id: int
    right_id: int
    left_title: str
    right_title: str
    reason: str
    similarity: float


def review_queue(session: Session, reviewer: m.Reviewer, project: m.Project) -> list[QueuedPair]:
    """Uncertain pairs not already in one duplicate group, by record id."""
    rows = records_of(session, reviewer, project)
    result = find_duplicates([as_record(row) for row in rows])
    queue = []
    for pair in result.review:
        left, right = rows[pair.left], rows[pair.right]
        same_group = left.duplicate_group_id is not None and (
            left.duplicate_group_id == right.duplicate_group_id
        )
        if not same_group:
            queue.append(
                QueuedPair(left.id, right.id, left.title, right.title, pair.reason, pair.similarity)
            )
    return queue


def link_manually(
    session: Session, reviewer: m.Reviewer, project: m.Project, left_id: int, right_id: int
) -> int:
    """Confirm two records are one work: put both in one group; returns the group id."""
    left, right = record_for(session, reviewer, left_id), record_for(session, reviewer, right_id)
    if left.id == right.id:
        raise InputError(f"record {left_id}: cannot be linked to itself")
    if left.project_id != project.id or right.project_id != project.id:
        raise InputError(f"records {left_id} and {right_id} must both be in {project.name!r}")
    groups = {g for g in (left.duplicate_group_id, right.duplicate_group_id) if g is not None}
    if len(groups) > 1:
        raise InputError(f"records {left_id} and {right_id} are already in different groups")
    if groups:
        group_id = groups.pop()
    else:
        root = min(left, right, key=lambda row: row.id)
        group = m.DuplicateGroup(project_id=project.id, root_record_id=root.id, method="manual")
        session.add(group)
        session.flush()
        group_id = group.id
    left.duplicate_group_id = right.duplicate_group_id = group_id
    session.flush()
    return group_id
