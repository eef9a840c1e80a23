"""A calibration round: every reviewer screens the same random sample before screening starts.

Reviewers read eligibility criteria differently until they have argued over a few records
together; Cochrane guidance suggests piloting the criteria on a sample and checking agreement
before the real screening. An owner starts a round on N records drawn at random with a seed
(stored, with the sample, so the draw can be shown and repeated); every voting member screens
each of them once; the round reports, per pair of reviewers, the records both rated, their raw
agreement and Cohen's kappa (``kappa.cohen_kappa``, the same statistic as the PRISMA page).

Calibration votes are practice: they live in their own table and never count as screening
votes, so a record of the sample is still screened normally afterwards. While a round is open
normal screening waits (``require_screening_open``); the owner closes the round, which opens it.

Blinding: while the round runs each reviewer sees only how many records everyone has rated;
decisions, agreement and kappa are shown once every voting member has rated every record, or
once the owner has closed the round.
"""

from __future__ import annotations

import itertools
import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import accounts
from postcart.literature import models as m
from postcart.literature.kappa import cohen_kappa

OWNER_ROLES = frozenset({"owner"})
#: Calibration is on titles and abstracts, where criteria are first applied.
STAGE = "title_abstract"
MIN_SIZE = 2
MAX_SIZE = 500


def current(session: Session, project: m.Project) -> m.Calibration | None:
    """The project's open round, if any."""
    query = select(m.Calibration).where(
        m.Calibration.project_id == project.id, m.Calibration.closed_at.is_(None)
    )
    return session.scalar(query.order_by(m.Calibration.id.desc()).limit(1))


def latest(session: Session, project: m.Project) -> m.Calibration | None:
    """The project's most recent round, open or closed."""
    query = select(m.Calibration).where(m.Calibration.project_id == project.id)
    return session.scalar(query.order_by(m.Calibration.id.desc()).limit(1))


def require_screening_open(session: Session, project: m.Project) -> None:
    """InputError while a calibration round is open: screening starts once it is closed."""
    if current(session, project) is not None:
        raise InputError(
            f"project {project.name!r}: a calibration round is open; screening starts when "
            "the owner closes it"
        )


def _eligible(session: Session, project: m.Project) -> list[int]:
    """Records that are screened (no duplicates) and hold no title/abstract vote yet."""
    voted = set(
        session.scalars(
            select(m.Vote.record_id)
            .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
            .where(m.LitRecord.project_id == project.id, m.Vote.stage == STAGE)
        )
    )
    roots = dict(
        session.execute(
            select(m.DuplicateGroup.id, m.DuplicateGroup.root_record_id).where(
                m.DuplicateGroup.project_id == project.id
            )
        ).all()
    )
    rows = session.execute(
        select(m.LitRecord.id, m.LitRecord.duplicate_group_id).where(
            m.LitRecord.project_id == project.id
        )
    )
    # A duplicate is a non-root member of a group (as in store.is_duplicate); never screened.
    return sorted(
        rid for rid, group in rows if rid not in voted and roots.get(group or 0) in (None, rid)
    )


def draw(ids: list[int], size: int, seed: int) -> list[int]:
    """``size`` of ``ids`` drawn with Python's Mersenne Twister seeded by ``seed``.

    ``ids`` are sorted first, so the same records and seed give the same sample anywhere.
    """
    return random.Random(seed).sample(sorted(ids), size)


def start(
    session: Session, actor: m.Reviewer, project: m.Project, size: int, *,
    when: datetime, seed: int | None = None,
) -> m.Calibration:  # fmt: skip
    """Open a round on ``size`` random records (owners only); the seed is stored with it."""
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    if current(session, project) is not None:
        raise InputError(f"project {project.name!r}: a calibration round is already open")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"calibration size {size}: give {MIN_SIZE} to {MAX_SIZE} records")
    eligible = _eligible(session, project)
    if size > len(eligible):
        raise InputError(
            f"calibration size {size}: only {len(eligible)} record(s) not yet screened"
        )
    seed = secrets.randbelow(2**31) if seed is None else seed
    if not 0 <= seed < 2**31:
        raise InputError(f"calibration seed {seed}: give 0 to {2**31 - 1}")
    sample = draw(eligible, size, seed)
    round_ = m.Calibration(project_id=project.id, stage=STAGE, seed=seed, record_ids=sample,
                           started_by=actor.id, started_at=when)  # fmt: skip
    session.add(round_)
    session.flush()
    accounts.audit(session, actor, "start", "calibration", round_.id, project=project,
                   after={"size": size, "seed": seed, "record_ids": sample,
                          "eligible": len(eligible)})  # fmt: skip
    return round_


def _open_round(session: Session, project: m.Project) -> m.Calibration:
    round_ = current(session, project)
    if round_ is None:
        raise InputError(f"project {project.name!r}: no calibration round is open")
    return round_


def _rated(session: Session, round_: m.Calibration) -> dict[int, dict[int, m.CalibrationVote]]:
    """Reviewer id -> record id -> their calibration vote."""
    found: dict[int, dict[int, m.CalibrationVote]] = {}
    query = select(m.CalibrationVote).where(m.CalibrationVote.calibration_id == round_.id)
    for vote in session.scalars(query):
        found.setdefault(vote.reviewer_id, {})[vote.record_id] = vote
    return found


def rate(
    session: Session, reviewer: m.Reviewer, project: m.Project, record_id: int, decision: str,
    *, when: datetime, reason: str = "",
) -> None:  # fmt: skip
    """Record ``reviewer``'s calibration decision on one sampled record (once; audited)."""
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    round_ = _open_round(session, project)
    if record_id not in round_.record_ids:
        raise AccessError(f"record {record_id}: not in the calibration sample")
    if decision not in m.DECISIONS:
        raise InputError(f"decision {decision!r}: expected one of {', '.join(m.DECISIONS)}")
    if len(reason) > 500:
        raise InputError("note: at most 500 characters")
    if session.get(m.CalibrationVote, (round_.id, record_id, reviewer.id)) is not None:
        raise InputError(f"record {record_id}: you have rated it in this round already")
    session.add(m.CalibrationVote(calibration_id=round_.id, record_id=record_id,
                                  reviewer_id=reviewer.id, decision=decision, reason=reason,
                                  cast_at=when))  # fmt: skip
    try:
        session.flush()
    except IntegrityError:  # the same vote sent twice at once: the first stands
        raise InputError(f"record {record_id}: you have rated it in this round already") from None
    accounts.audit(session, reviewer, "calibrate", "calibration_vote",
                   f"{round_.id}:{record_id}:{reviewer.id}", project=project,
                   after={"decision": decision, "reason": reason})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Upcoming:
    """The next sampled record for a reviewer (None when done) and how many are left."""

    record: m.LitRecord | None
    left: int
    size: int


def next_for(session: Session, reviewer: m.Reviewer, project: m.Project) -> Upcoming:
    """The first record of the open round's sample the reviewer has not rated."""
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    round_ = _open_round(session, project)
    mine = _rated(session, round_).get(reviewer.id, {})
    left = [rid for rid in round_.record_ids if rid not in mine]
    record = session.get(m.LitRecord, left[0]) if left else None
    return Upcoming(record, len(left), len(round_.record_ids))


@dataclass(frozen=True, slots=True)
class Pair:
    """Agreement of two reviewers over the sampled records both rated."""

    first: str
    second: str
    n: int
    #: Share of those records rated alike (None when they rated none in common).
    agreement: float | None
    kappa: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """Where a round stands; ``pairs`` only once it is complete or closed (blinding)."""

    round: m.Calibration
    #: (name, records rated) per voting member and anyone else who rated, by name.
    progress: tuple[tuple[str, int], ...]
    complete: bool
    closed: bool
    pairs: tuple[Pair, ...] | None


def _pair(first: str, second: str, a: dict[int, str], b: dict[int, str]) -> Pair:
    common = sorted(a.keys() & b.keys())
    if not common:
        return Pair(first, second, 0, None, None)
    left, right = [a[r] for r in common], [b[r] for r in common]
    agree = sum(x == y for x, y in zip(left, right, strict=True)) / len(common)
    return Pair(first, second, len(common), agree, cohen_kappa(left, right))


def report(
    session: Session, reader: m.Reviewer, project: m.Project, round_: m.Calibration | None = None
) -> Report | None:
    """The latest round (or ``round_``) as ``reader`` may see it; None if there never was one."""
    accounts.require_role(session, reader, project.id, m.PROJECT_ROLES)
    round_ = round_ or latest(session, project)
    if round_ is None:
        return None
    if round_.project_id != project.id:
        raise AccessError(f"calibration {round_.id}: not found in project {project.name!r}")
    rated = _rated(session, round_)
    names = dict(session.execute(select(m.Reviewer.id, m.Reviewer.name)).all())
    voters = {r.id for r, role in accounts.members(session, project)
              if role in accounts.VOTING_ROLES}  # fmt: skip
    size = len(round_.record_ids)
    complete = bool(voters) and all(len(rated.get(v, {})) == size for v in voters)
    everyone = sorted(voters | rated.keys(), key=lambda rid: names.get(rid, ""))
    progress = tuple((names.get(rid, str(rid)), len(rated.get(rid, {}))) for rid in everyone)
    closed = round_.closed_at is not None
    pairs = None
    if complete or closed:
        decided = {rid: {rec: v.decision for rec, v in rated.get(rid, {}).items()}
                   for rid in everyone}  # fmt: skip
        pairs = tuple(
            _pair(names.get(a, str(a)), names.get(b, str(b)), decided[a], decided[b])
            for a, b in itertools.combinations(everyone, 2)
        )
    return Report(round_, progress, complete, closed, pairs)


def close(session: Session, actor: m.Reviewer, project: m.Project, *, when: datetime) -> Report:
    """Close the open round (owners only), which opens normal screening; audited with results."""
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    round_ = _open_round(session, project)
    round_.closed_at = when
    session.flush()
    result = report(session, actor, project, round_)
    assert result is not None  # the round exists
    assert result.pairs is not None  # closed: pairs are given
    accounts.audit(session, actor, "close", "calibration", round_.id, project=project,
                   before={"open": True},
                   after={"open": False, "complete": result.complete,
                          "pairs": [{"first": p.first, "second": p.second, "n": p.n,
                                     "agreement": p.agreement, "kappa": p.kappa}
                                    for p in result.pairs]})  # fmt: skip
    return result


__all__ = [
    "MAX_SIZE",
    "MIN_SIZE",
    "STAGE",
    "Pair",
    "Report",
    "Upcoming",
    "close",
    "current",
    "draw",
    "latest",
    "next_for",
    "rate",
    "report",
    "require_screening_open",
    "start",
]
