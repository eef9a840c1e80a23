"""Cohen's kappa: agreement between two screeners beyond what chance would give.

Reported per stage because PRISMA item 8 asks how reliable the screening was, and raw agreement
flatters screeners when nearly every record is excluded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import models as m


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """``(p_o - p_e) / (1 - p_e)`` over paired ratings; 1.0 when both raters used one category.

    ``p_o`` is the share of items rated alike, ``p_e`` the sum over categories of the product of
    the two raters' marginal shares.
    """
    if len(first) != len(second):
        raise InputError(f"kappa: {len(first)} ratings against {len(second)}")
    n = len(first)
    if n == 0:
        raise InputError("kappa: no paired ratings")
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    left, right = Counter(first), Counter(second)
    expected = sum(left[c] * right[c] for c in left.keys() | right.keys()) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def stage_kappa(session: Session, project: m.Project, stage: str) -> tuple[float, int] | None:
    """Kappa and number of records rated by exactly two reviewers at ``stage``; None if none.

    Title/abstract decisions are compared as Yes/Maybe/No, the three categories screeners chose.
    """
    query = (
        select(m.Vote.record_id, m.Vote.reviewer_id, m.Vote.decision)
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
        .where(m.LitRecord.project_id == project.id, m.Vote.stage == stage)
        .order_by(m.Vote.record_id, m.Vote.reviewer_id)
    )
    by_record: dict[int, list[str]] = {}
    for record_id, _reviewer, decision in session.execute(query):
        by_record.setdefault(record_id, []).append(decision)
    pairs = [votes for votes in by_record.values() if len(votes) == 2]
    if not pairs:
        return None
    return cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs]), len(pairs)
