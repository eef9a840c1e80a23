"""Team screening in practice: whose turn a record is, who was assigned what, what is left.

``screening.py`` holds the rules of one vote (consensus, blinding, resolution). This module
holds the rules of a team working through a project together, for the web workbench:

* A reviewer's **queue** at a stage is every record still pending there that they have not
  voted on: the records assigned to them first, then the records nobody has claimed. A record
  whose required reviewers are already assigned (or have voted) belongs to them and is left out,
  so a team of four screening in pairs never casts a third vote on one record.
* Within each part the order is the active-learning order of ``prioritise.py`` once the stage
  has a settled inclusion and a settled exclusion, import order before that. The model is
  refitted in batches, as in ``simulate.py``: refitting after every vote would cost the screener
  a wait on each key press for a ranking that barely moves.
* The **second-vote queue** is the part of the queue that already holds another reviewer's
  vote and needs one more; it says only *that* someone voted, never what.
* A vote is taken only while the record is pending at that stage. Once the required votes are
  in, blinding is lifted, and a vote changed afterwards could copy the other reviewer's.
* **Removing a reviewer** withdraws their votes on records still pending, so the records go
  back to the others, and keeps the votes that settled a record or make a conflict. A conflict
  is never stranded: it keeps both votes, and if the reviewer was the designated resolver, the
  owner removing them takes that duty over.

Every write goes through :func:`accounts.audit` with the state before and after. Functions take
a session and never commit: one request is one transaction.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import accounts, prisma
from postcart.literature import models as m
from postcart.literature.candidates import candidates
from postcart.literature.kappa import stage_kappa
from postcart.literature.prioritise import Prioritiser, screening_text
from postcart.literature.screening import (
    FULL_TEXT,
    TITLE_ABSTRACT,
    Outcome,
    _consensus,
    _required,
    cast_vote,
    lock_record,
    outcome,
    resolve,
)

#: The key a reviewer presses for each decision; the screen shows them. Full-text exclusion
#: reasons take the number keys 1-9, in the order of the project's list.
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType({"yes": "y", "maybe": "m", "no": "n"})
#: Roles that may assign records and remove members.
OWNER_ROLES = frozenset({"owner"})

_SETTLED = (Outcome.ADVANCE, Outcome.EXCLUDE)


def _check_stage(stage: str) -> None:
    if stage not in m.STAGES:
        raise InputError(f"stage {stage!r}: expected one of {', '.join(m.STAGES)}")


@dataclass(frozen=True, slots=True)
class _Stage:
    """One stage of a project read in a handful of queries (not a few per record).

    ``ids`` are the records that are screened (duplicates left out), in import order;
    ``outcomes`` covers every record that has votes or a resolution as well.
    """

    stage: str
    required: int
    ids: tuple[int, ...]
    titles: tuple[str, ...]
    outcomes: dict[int, Outcome]
    votes: dict[int, list[m.Vote]]
    assignees: dict[int, frozenset[int]]
    open: frozenset[int]

    def voters(self, record_id: int) -> frozenset[int]:
        """Who has voted on the record at this stage."""
        return frozenset(v.reviewer_id for v in self.votes.get(record_id, ()))

    def waiting(self, record_id: int) -> bool:
        """Whether the record still needs votes here and can be screened at this stage."""
        return self.outcomes[record_id] is Outcome.PENDING and record_id in self.open


def _outcome(stage: str, required: int, votes: list[m.Vote], resolution: str | None) -> Outcome:
    """:func:`screening.outcome` over rows already loaded (a test holds the two equal)."""
    if resolution is not None:
        return Outcome.EXCLUDE if resolution == "no" else Outcome.ADVANCE
    if len(votes) < required:
        return Outcome.PENDING
    return _consensus(stage, votes)


def _stage(session: Session, project: m.Project, stage: str) -> _Stage:
    in_project = m.LitRecord.project_id == project.id
    rows = session.execute(
        select(m.LitRecord.id, m.LitRecord.title, m.LitRecord.duplicate_group_id)
        .where(in_project)
        .order_by(m.LitRecord.id)
    ).all()
    roots = dict(
        session.execute(
            select(m.DuplicateGroup.id, m.DuplicateGroup.root_record_id).where(
                m.DuplicateGroup.project_id == project.id
            )
        ).all()
    )
    # A duplicate is a non-root member of a group (store.is_duplicate); it is never screened.
    kept = [(rid, title) for rid, title, group in rows if roots.get(group or 0) in (None, rid)]
    votes: dict[int, list[m.Vote]] = {}
    query = (
        select(m.Vote)
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id)
        .where(in_project, m.Vote.stage == stage)
        .order_by(m.Vote.record_id, m.Vote.reviewer_id)
    )
    for vote in session.scalars(query):
        votes.setdefault(vote.record_id, []).append(vote)
    resolutions = dict(
        session.execute(
            select(m.Resolution.record_id, m.Resolution.decision)
            .join(m.LitRecord, m.LitRecord.id == m.Resolution.record_id)
            .where(in_project, m.Resolution.stage == stage)
        ).all()
    )
    required = _required(project, stage)
    outcomes = {
        rid: _outcome(stage, required, votes.get(rid, []), resolutions.get(rid))
        for rid in {rid for rid, _ in kept}.union(votes, resolutions)
    }
    if stage == TITLE_ABSTRACT:
        open_ids = frozenset(rid for rid, _ in kept)
    else:  # full text: a report exists (the record passed) and was not marked unobtainable
        reports = session.execute(
            select(m.Report.record_id, m.Report.retrieved).where(m.Report.project_id == project.id)
        )
        open_ids = frozenset(rid for rid, retrieved in reports if retrieved is not False)
    assignees: dict[int, set[int]] = {}
    for rid, reviewer_id in session.execute(
        select(m.Assignment.record_id, m.Assignment.reviewer_id).where(
            m.Assignment.project_id == project.id, m.Assignment.stage == stage
        )
    ):
        assignees.setdefault(rid, set()).add(reviewer_id)
    return _Stage(
        stage=stage,
        required=required,
        ids=tuple(rid for rid, _ in kept),
        titles=tuple(title for _, title in kept),
        outcomes=outcomes,
        votes=votes,
        assignees={rid: frozenset(who) for rid, who in assignees.items()},
        open=open_ids,
    )


def _waiting_for(snap: _Stage, reviewer_id: int) -> tuple[list[int], list[int]]:
    """Records waiting for ``reviewer_id``: (assigned to them, unclaimed), in import order."""
    mine: list[int] = []
    free: list[int] = []
    for rid in snap.ids:
        if not snap.waiting(rid):
            continue
        voters = snap.voters(rid)
        if reviewer_id in voters:
            continue
        assigned = snap.assignees.get(rid, frozenset())
        if reviewer_id in assigned:
            mine.append(rid)
        elif len(voters | assigned) < snap.required:
            free.append(rid)
    return mine, free


# --- active-learning order ------------------------------------------------------------------


@dataclass(slots=True)
class _Fit:
    prioritiser: Prioritiser
    labels: dict[int, bool]
    order: list[int]
    modelled: bool


def _both_classes(labels: Mapping[int, bool]) -> bool:
    values = set(labels.values())
    return values == {True, False}


class _Rankings:
    """Fitted prioritisers per project corpus and stage, refitted in batches.

    The tf-idf matrix of a 2000-record project takes most of a second and a cold fit seconds,
    so both are kept between requests. A refit happens when the model first becomes possible
    (an inclusion and an exclusion are settled) and then after max(5, 5 %) new labels, the batch
    rule of ``simulate.py``; records labelled in between simply drop out of the old order.
    """

    def __init__(self, capacity: int = 16) -> None:
        self._capacity = capacity
        self._fits: OrderedDict[tuple[object, ...], _Fit] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _stale(fit: _Fit, labels: Mapping[int, bool]) -> bool:
        if _both_classes(labels) != fit.modelled:
            return True
        if not fit.modelled:
            return False  # import order: nothing to learn, nothing to refit
        changed = len(set(labels.items()) ^ set(fit.labels.items()))
        return changed >= max(5, len(fit.labels) // 20)

    def order(
        self, key: tuple[object, ...], texts: Callable[[], list[str]], labels: Mapping[int, bool]
    ) -> list[int]:
        """Unlabelled row positions, most likely inclusions first."""
        with self._lock:
            fit = self._fits.get(key)
            if fit is None:
                fit = _Fit(Prioritiser(texts()), {}, [], modelled=False)
                self._fits[key] = fit
                stale = True
            else:
                self._fits.move_to_end(key)
                stale = self._stale(fit, labels)
            if stale:
                fit.order = fit.prioritiser.rank(labels)
                fit.labels = dict(labels)
                fit.modelled = _both_classes(labels)
            while len(self._fits) > self._capacity:
                self._fits.popitem(last=False)
            return list(fit.order)


_RANKINGS = _Rankings()


def _ranks(session: Session, project: m.Project, snap: _Stage) -> dict[int, int]:
    """Record id -> position in the prioritised order of ``snap``'s stage."""
    labels = {
        i: snap.outcomes[rid] is Outcome.ADVANCE
        for i, rid in enumerate(snap.ids)
        if snap.outcomes[rid] in _SETTLED
    }
    digest = hashlib.sha256()
    for rid, title in zip(snap.ids, snap.titles, strict=True):
        digest.update(f"{rid}\x1e{title}\x1f".encode())

    def texts() -> list[str]:
        rows = session.execute(
            select(m.LitRecord.id, m.LitRecord.title, m.LitRecord.abstract).where(
                m.LitRecord.project_id == project.id
            )
        )
        by_id = {rid: screening_text(title, abstract) for rid, title, abstract in rows}
        return [by_id[rid] for rid in snap.ids]

    key = (project.id, snap.stage, digest.hexdigest())
    order = _RANKINGS.order(key, texts, labels)
    return {snap.ids[position]: rank for rank, position in enumerate(order)}


# --- queues ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queue:
    """A reviewer's queue at one stage, in the order the records will be shown."""

    stage: str
    ids: tuple[int, ...]
    #: Of these, the records assigned to the reviewer (shown first).
    assigned: frozenset[int]
    #: Of these, the records that hold another reviewer's vote and need one more.
    second: frozenset[int]


def _second(snap: _Stage, ids: Iterable[int]) -> frozenset[int]:
    return frozenset(rid for rid in ids if 0 < len(snap.votes.get(rid, ())) < snap.required)


def queue(session: Session, reviewer: m.Reviewer, project: m.Project, stage: str) -> Queue:
    """``reviewer``'s queue at ``stage``: assigned records first, each part prioritised."""
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    _check_stage(stage)
    snap = _stage(session, project, stage)
    mine, free = _waiting_for(snap, reviewer.id)
    if len(mine) + len(free) > 1:
        ranks = _ranks(session, project, snap)
        last = len(ranks)
        position = {rid: i for i, rid in enumerate(snap.ids)}

        def rank(rid: int) -> tuple[int, int]:
            return ranks.get(rid, last), position[rid]

        mine.sort(key=rank)
        free.sort(key=rank)
    ids = (*mine, *free)
    return Queue(stage, ids, frozenset(mine), _second(snap, ids))


@dataclass(frozen=True, slots=True)
class Next:
    """The record to show next (``None`` when the queue is empty) and where it stands."""

    record: m.LitRecord | None
    #: How many records are left in the queue being worked (all, or second votes only).
    left: int
    #: The record is assigned to this reviewer.
    assigned: bool = False
    #: The record holds another reviewer's vote and needs one more.
    second: bool = False


class _RankCache:
    """The prioritised order per project and stage, refreshed off the vote's path when large.

    Ranking needs the whole stage (every record's text and settled label) and, when the batch
    rule asks for it, a refit of the model: tens of milliseconds for a small project, seconds
    for 20,000 records. A small project is re-ranked on the request whenever its votes or
    records changed, as before. A large one answers with the order it has and re-ranks in a
    background thread, at most once per :data:`REFRESH_SECONDS`, so a vote never waits for a
    refit; the order a reviewer sees is then at most that old, which only changes which
    likely-relevant record comes first, never whether a record is offered.
    """

    #: From this many records, ranking happens in the background.
    BACKGROUND_FROM = 2_000
    REFRESH_SECONDS = 20.0

    def __init__(self) -> None:
        self._ranks: dict[tuple[int, str], tuple[tuple[object, ...], dict[int, int]]] = {}
        self._running: set[tuple[int, str]] = set()
        self._started: dict[tuple[int, str], float] = {}
        self._key_locks: dict[tuple[int, str], threading.Lock] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _version(session: Session, project: m.Project, stage: str) -> tuple[object, ...]:
        """Cheap signature of everything the order depends on: a few index lookups.

        Records arrive only in import batches and are grouped only by new duplicate groups,
        so the newest batch and group (with the group count) stand for the corpus; the newest
        vote and resolution stand for the labels. ``records`` is the project's size.
        """
        batch, records = session.execute(
            select(func.max(m.ImportBatch.id), func.sum(m.ImportBatch.count)).where(
                m.ImportBatch.project_id == project.id
            )
        ).one()
        groups = session.execute(
            select(func.count(), func.max(m.DuplicateGroup.id)).where(
                m.DuplicateGroup.project_id == project.id
            )
        ).one()
        votes = session.scalar(select(func.max(m.Vote.id)).where(m.Vote.stage == stage))
        settled = session.scalar(select(func.max(m.Resolution.id)))
        return (int(records or 0), batch, *groups, votes, settled)

    def ranks(self, session: Session, project: m.Project, stage: str) -> dict[int, int]:
        """Record id -> position in the prioritised order (absent: not ranked)."""
        key = (project.id, stage)
        version = self._version(session, project, stage)
        with self._lock:
            held = self._ranks.get(key)
        if held is not None and held[0] == version:
            return held[1]
        large = version[0] >= self.BACKGROUND_FROM  # type: ignore[operator]
        if large:
            # Never hold a request (and its database connection) for a large ranking: until
            # the first one is ready the queue is in import order, as before any vote.
            self._refresh_later(session, project.id, stage, key, version)
            return {} if held is None else held[1]
        with self._computing(key):  # one computation per key; the others wait and reuse it
            with self._lock:
                held = self._ranks.get(key)
            if held is not None and held[0] == version:
                return held[1]
            fresh = _ranks(session, project, _stage(session, project, stage))
            with self._lock:
                self._ranks[key] = (version, fresh)
            return fresh

    def _computing(self, key: tuple[int, str]) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _refresh_later(
        self, session: Session, project_id: int, stage: str, key: tuple[int, str],
        version: tuple[object, ...],
    ) -> None:  # fmt: skip
        with self._lock:
            recent = time.monotonic() - self._started.get(key, -1e9) < self.REFRESH_SECONDS
            if key in self._running or recent:
                return
            self._running.add(key)
            self._started[key] = time.monotonic()
        bind = session.get_bind()

        def work() -> None:
            try:
                with Session(bind) as own:
                    project = own.get_one(m.Project, project_id)
                    fresh = _ranks(own, project, _stage(own, project, stage))
                with self._lock:
                    self._ranks[key] = (version, fresh)
            finally:
                with self._lock:
                    self._running.discard(key)

        threading.Thread(target=work, name=f"rank-{project_id}-{stage}", daemon=True).start()


_RANK_CACHE = _RankCache()


def next_record(
    session: Session,
    reviewer: m.Reviewer,
    project: m.Project,
    stage: str,
    *,
    second_only: bool = False,
) -> Next:
    """The first record of ``reviewer``'s queue (or of its second-vote part), found in SQL.

    The same record :func:`queue` puts first: assigned records before unclaimed ones, each in
    the prioritised order, then import order; only the eligible records are read
    (``candidates``), not the whole project.
    """
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    _check_stage(stage)
    waiting = candidates(session, reviewer.id, project, stage)
    if second_only:
        waiting = [c for c in waiting if c.votes > 0]
    if not waiting:
        return Next(None, 0)
    ranks = _RANK_CACHE.ranks(session, project, stage) if len(waiting) > 1 else {}
    last = len(ranks)
    best = min(waiting, key=lambda c: (not c.mine, ranks.get(c.record_id, last), c.record_id))
    record = session.get(m.LitRecord, best.record_id)
    return Next(record, len(waiting), best.mine, best.votes > 0)


def _record(session: Session, project: m.Project, record_id: int) -> m.LitRecord:
    """The record if it belongs to ``project``, locked for this transaction (``lock_record``)."""
    record = lock_record(session, record_id)
    if record is None or record.project_id != project.id:
        raise AccessError(f"record {record_id}: not found in project {project.name!r}")
    return record


def _own_vote(session: Session, reviewer_id: int, record_id: int, stage: str) -> m.Vote | None:
    return session.scalar(
        select(m.Vote).where(
            m.Vote.record_id == record_id, m.Vote.reviewer_id == reviewer_id, m.Vote.stage == stage
        )
    )


def vote(
    session: Session,
    reviewer: m.Reviewer,
    project: m.Project,
    record_id: int,
    stage: str,
    decision: str,
    *,
    when: datetime,
    reason: str = "",
) -> Outcome:
    """Cast ``reviewer``'s vote (audited) and return the record's outcome at ``stage``.

    Taken only while the record is pending: once the required votes are in each reviewer sees
    the other's, so a later change of mind would no longer be blind.
    """
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    _check_stage(stage)
    record = _record(session, project, record_id)
    if outcome(session, record, stage) is not Outcome.PENDING:
        raise InputError(
            f"record {record_id}: its {stage} votes are complete; conflicts go to the resolver"
        )
    earlier = _own_vote(session, reviewer.id, record_id, stage)
    before = None if earlier is None else {"decision": earlier.decision, "reason": earlier.reason}
    result = cast_vote(session, reviewer, record_id, stage, decision, when, reason)
    accounts.audit(
        session, reviewer, "vote", "vote", f"{record_id}:{stage}:{reviewer.id}", before=before,
        after={"decision": decision, "reason": reason, "outcome": result.value}, project=project,
    )  # fmt: skip
    return result


def settle(
    session: Session,
    resolver: m.Reviewer,
    project: m.Project,
    record_id: int,
    stage: str,
    decision: str,
    *,
    when: datetime,
    reason: str = "",
) -> Outcome:
    """Resolve a conflict (the core rule: only the designated resolver, only a conflict).

    At full text a reason belongs to an exclusion only; one sent with an inclusion (the form
    offers the list beside both buttons) is dropped rather than stored as if it meant something.
    """
    accounts.require_role(session, resolver, project.id, accounts.RESOLVING_ROLES)
    _check_stage(stage)
    if stage == FULL_TEXT and decision != "no":
        reason = ""
    record = _record(session, project, record_id)
    votes = session.scalars(
        select(m.Vote)
        .where(m.Vote.record_id == record.id, m.Vote.stage == stage)
        .order_by(m.Vote.reviewer_id)
    )
    before = {
        "outcome": outcome(session, record, stage).value,
        "votes": [
            {"reviewer_id": v.reviewer_id, "decision": v.decision, "reason": v.reason}
            for v in votes
        ],
    }
    result = resolve(session, resolver, record_id, stage, decision, when, reason)
    accounts.audit(
        session, resolver, "resolve", "resolution", f"{record_id}:{stage}", before=before,
        after={"decision": decision, "reason": reason, "outcome": result.value}, project=project,
    )  # fmt: skip
    return result


def _voting_member(session: Session, project: m.Project, reviewer_id: int) -> m.Reviewer:
    reviewer = session.get(m.Reviewer, reviewer_id)
    role = accounts.role_in(session, reviewer, project.id) if reviewer is not None else None
    if reviewer is None or role not in accounts.VOTING_ROLES:
        raise InputError(f"reviewer {reviewer_id}: not a voting member of {project.name!r}")
    return reviewer


def _assign(
    session: Session, actor: m.Reviewer, project: m.Project, stage: str,
    reviewer_id: int, record_ids: list[int], when: datetime,
) -> None:  # fmt: skip
    held = select(m.Assignment.record_id).where(
        m.Assignment.project_id == project.id,
        m.Assignment.reviewer_id == reviewer_id,
        m.Assignment.stage == stage,
    )
    before = sorted(session.scalars(held))
    session.add_all(
        m.Assignment(
            record_id=rid,
            reviewer_id=reviewer_id,
            stage=stage,
            project_id=project.id,
            assigned_at=when,
            assigned_by=actor.id,
        )
        for rid in record_ids
    )
    session.flush()
    accounts.audit(
        session, actor, "assign", "assignment", f"{project.id}:{reviewer_id}:{stage}",
        before={"records": before}, after={"records": sorted([*before, *record_ids])},
        project=project,
    )  # fmt: skip


def assign(
    session: Session,
    actor: m.Reviewer,
    project: m.Project,
    reviewer_id: int,
    stage: str,
    count: int,
    *,
    when: datetime,
) -> list[int]:
    """Hand up to ``count`` unclaimed waiting records to one reviewer (owners only).

    Records are taken in import order, so an owner can tell which ones; returns their ids.
    """
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    _check_stage(stage)
    if count < 1:
        raise InputError(f"assign: {count} records; give a number of at least 1")
    target = _voting_member(session, project, reviewer_id)
    _, free = _waiting_for(_stage(session, project, stage), target.id)
    chosen = free[:count]
    if chosen:
        _assign(session, actor, project, stage, target.id, chosen, when)
    return chosen


def _open_load(snap: _Stage) -> dict[int, int]:
    """Per reviewer, assigned records still waiting for their vote."""
    load: dict[int, int] = {}
    for rid, assigned in snap.assignees.items():
        if rid not in snap.outcomes or not snap.waiting(rid):
            continue
        for reviewer_id in assigned - snap.voters(rid):
            load[reviewer_id] = load.get(reviewer_id, 0) + 1
    return load


def split_evenly(
    session: Session, actor: m.Reviewer, project: m.Project, stage: str, *, when: datetime
) -> dict[int, list[int]]:
    """Give every unclaimed waiting record the reviewers it still needs, least loaded first.

    Each record gets as many assignees as it lacks votes, so dual screening stays dual; the
    voting member with the fewest open assignments takes the next one (ties: lowest id), which
    evens out the work including what was assigned before. Returns reviewer id -> new records.
    """
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    _check_stage(stage)
    voters = sorted(r.id for r, role in accounts.members(session, project)
                    if role in accounts.VOTING_ROLES)  # fmt: skip
    if not voters:
        raise InputError(f"project {project.name!r}: no voting member to assign records to")
    snap = _stage(session, project, stage)
    load = _open_load(snap)
    added: dict[int, list[int]] = {r: [] for r in voters}
    for rid in snap.ids:
        if not snap.waiting(rid):
            continue
        taken = snap.voters(rid) | snap.assignees.get(rid, frozenset())
        need = snap.required - len(taken)
        if need <= 0:
            continue
        eligible = sorted((r for r in voters if r not in taken), key=lambda r: (load.get(r, 0), r))
        for reviewer_id in eligible[:need]:
            added[reviewer_id].append(rid)
            load[reviewer_id] = load.get(reviewer_id, 0) + 1
    for reviewer_id, records in added.items():
        if records:
            _assign(session, actor, project, stage, reviewer_id, records, when)
    return {r: ids for r, ids in added.items() if ids}


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing a reviewer did, for the page and the audit log."""

    reviewer: str
    #: (record id, stage) of the votes withdrawn: those records are back in the queue.
    requeued: tuple[tuple[int, str], ...]
    #: (record id, stage) of conflicts that keep the removed reviewer's vote.
    kept_conflicts: tuple[tuple[int, str], ...]
    released_assignments: int
    #: The new designated resolver when the removed reviewer was it, else None.
    resolver_now: str | None


def remove_member(
    session: Session, actor: m.Reviewer, project: m.Project, reviewer_id: int, *, when: datetime
) -> Removal:
    """Take a reviewer off the project (owners only), re-queueing their unfinished records.

    Votes on records still pending are withdrawn, so the records go back to the others; votes
    that settled a record, or that make a conflict, stay: the decision or the conflict rests
    on them. Their assignments are released. An owner cannot remove themselves, which keeps
    at least one owner on every project.
    """
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    if reviewer_id == actor.id:
        raise InputError("an owner cannot remove themselves; ask another owner")
    membership = session.get(m.Membership, (project.id, reviewer_id))
    reviewer = session.get(m.Reviewer, reviewer_id)
    if membership is None or reviewer is None:
        raise AccessError(f"reviewer {reviewer_id}: not a member of project {project.name!r}")
    withdrawn: list[dict[str, object]] = []
    requeued: list[tuple[int, str]] = []
    kept: list[tuple[int, str]] = []
    for stage in m.STAGES:
        snap = _stage(session, project, stage)
        for rid, votes in snap.votes.items():
            for cast in votes:
                if cast.reviewer_id != reviewer_id:
                    continue
                if snap.outcomes[rid] is Outcome.PENDING:
                    withdrawn.append(
                        {
                            "record_id": rid,
                            "stage": stage,
                            "decision": cast.decision,
                            "reason": cast.reason,
                        }
                    )
                    requeued.append((rid, stage))
                    session.delete(cast)
                elif snap.outcomes[rid] is Outcome.CONFLICT:
                    kept.append((rid, stage))
    assignments = list(
        session.scalars(
            select(m.Assignment).where(
                m.Assignment.project_id == project.id, m.Assignment.reviewer_id == reviewer_id
            )
        )
    )
    for row in assignments:
        session.delete(row)
    role = membership.role
    session.delete(membership)
    resolver_now = None
    if project.resolver_id == reviewer_id:
        project.resolver_id = actor.id
        resolver_now = actor.name
    session.flush()
    accounts.audit(
        session, actor, "remove_member", "membership", f"{project.id}:{reviewer_id}",
        before={"role": role, "withdrawn_votes": withdrawn, "assignments": len(assignments),
                "resolver": resolver_now is not None},
        after={"member": False, "kept_conflicts": [list(k) for k in kept],
               "resolver_id": project.resolver_id},
        project=project,
    )  # fmt: skip
    return Removal(reviewer.name, tuple(requeued), tuple(kept), len(assignments), resolver_now)


# --- reading conflicts and counts ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CastVote:
    """One vote of a conflict, as the resolver sees it."""

    reviewer: str
    #: The reviewer has since left the project; their vote still makes the conflict.
    removed: bool
    decision: str
    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A record whose votes at a stage disagree, with every vote and reason."""

    record: m.LitRecord
    stage: str
    votes: tuple[CastVote, ...]


def conflicts(session: Session, reviewer: m.Reviewer, project: m.Project) -> list[Conflict]:
    """The project's open conflicts, title/abstract first, in import order (resolvers, owners).

    Every required vote of a conflict is in, so showing them all breaks no one's blinding.
    """
    accounts.require_role(session, reviewer, project.id, accounts.RESOLVING_ROLES)
    members = {r.id for r, _ in accounts.members(session, project)}
    found: list[Conflict] = []
    for stage in m.STAGES:
        snap = _stage(session, project, stage)
        for rid in snap.ids:
            if snap.outcomes[rid] is not Outcome.CONFLICT:
                continue
            record = session.get(m.LitRecord, rid)
            assert record is not None  # listed by the query above
            votes = tuple(
                CastVote(
                    _name(session, v.reviewer_id),
                    v.reviewer_id not in members,
                    v.decision,
                    v.reason,
                )
                for v in snap.votes[rid]
            )
            found.append(Conflict(record, stage, votes))
    return found


def _name(session: Session, reviewer_id: int) -> str:
    reviewer = session.get(m.Reviewer, reviewer_id)
    return "" if reviewer is None else reviewer.name


@dataclass(frozen=True, slots=True)
class Counts:
    """The live numbers of a project page, as one reviewer may see them.

    Only counts: nothing here names a reviewer or gives anyone's decision on a record, so the
    page can stream them to every member without breaking blinding.
    """

    role: str
    #: The reviewer's own queue per stage (empty for a viewer, who does not vote).
    queue: Mapping[str, int]
    assigned: Mapping[str, int]
    second: Mapping[str, int]
    #: Open conflicts per stage, for resolvers and owners only (None for the others).
    conflicts: Mapping[str, int] | None
    prisma: prisma.PrismaCounts | None
    #: Why the PRISMA counts could not be given (a box that does not add up), else "".
    prisma_error: str
    #: Cohen's kappa and the number of records with two votes, per stage (None: no pairs).
    kappa: Mapping[str, tuple[float, int] | None]


@dataclass(frozen=True, slots=True)
class _ProjectWide:
    prisma: prisma.PrismaCounts | None
    prisma_error: str
    kappa: dict[str, tuple[float, int] | None]


class _Shared:
    """Project-wide counts by fingerprint: every member's stream shares one computation."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[object, ...], _ProjectWide] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], make: Callable[[], _ProjectWide]) -> _ProjectWide:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = make()
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return made


_SHARED = _Shared()


def _project_wide(session: Session, project: m.Project) -> _ProjectWide:
    try:
        _, cumulative = prisma.flow(session, project)
        counts, error = cumulative, ""
    except InputError as problem:
        counts, error = None, str(problem)
    kappa = {stage: stage_kappa(session, project, stage) for stage in m.STAGES}
    return _ProjectWide(counts, error, kappa)


def fingerprint(session: Session, project: m.Project) -> tuple[object, ...]:
    """A cheap summary that changes whenever a number on the project page may have changed.

    Polled once a second per open page, so it is a few aggregate queries, never the PRISMA
    walk over every record.
    """
    pid = project.id
    in_project = m.LitRecord.project_id == pid
    parts: list[object] = [
        project.reviewers_title_abstract,
        project.reviewers_full_text,
        project.resolver_id,
        tuple(project.exclusion_reasons),
    ]
    statements = (
        select(func.count(), func.max(m.LitRecord.id), func.count(m.LitRecord.duplicate_group_id))
        .where(in_project),
        select(func.count(), func.max(m.ImportBatch.id)).where(m.ImportBatch.project_id == pid),
        select(func.count(), func.max(m.DuplicateGroup.id),
               func.sum(m.DuplicateGroup.root_record_id))
        .where(m.DuplicateGroup.project_id == pid),
        select(func.count(), func.max(m.Vote.id), func.max(m.Vote.cast_at))
        .join(m.LitRecord, m.LitRecord.id == m.Vote.record_id).where(in_project),
        select(func.count(), func.max(m.Resolution.id))
        .join(m.LitRecord, m.LitRecord.id == m.Resolution.record_id).where(in_project),
        select(func.count(), func.count(m.Report.study_id),
               func.sum(case((m.Report.retrieved.is_(True), 1), else_=0)),
               func.sum(case((m.Report.retrieved.is_(False), 1), else_=0)))
        .where(m.Report.project_id == pid),
        select(func.count(), func.max(m.Assignment.assigned_at))
        .where(m.Assignment.project_id == pid),
    )  # fmt: skip
    for statement in statements:
        parts.append(tuple(session.execute(statement).one()))
    members = select(m.Membership.reviewer_id, m.Membership.role).where(
        m.Membership.project_id == pid
    )
    parts.append(tuple(session.execute(members.order_by(m.Membership.reviewer_id))))
    return tuple(parts)


def counts(session: Session, reviewer: m.Reviewer, project: m.Project) -> Counts:
    """Queue sizes for ``reviewer``, conflicts if they may resolve, PRISMA and kappa."""
    accounts.require_role(session, reviewer, project.id, m.PROJECT_ROLES)
    role = accounts.role_in(session, reviewer, project.id) or ""
    queue_sizes: dict[str, int] = {}
    assigned: dict[str, int] = {}
    second: dict[str, int] = {}
    conflict_counts: dict[str, int] = {}
    for stage in m.STAGES:
        snap = _stage(session, project, stage)
        if role in accounts.VOTING_ROLES:
            mine, free = _waiting_for(snap, reviewer.id)
            queue_sizes[stage] = len(mine) + len(free)
            assigned[stage] = len(mine)
            second[stage] = len(_second(snap, (*mine, *free)))
        conflict_counts[stage] = sum(
            1 for rid in snap.ids if snap.outcomes[rid] is Outcome.CONFLICT
        )
    bind = session.get_bind()
    engine_key = str(bind.engine.url)
    wide = _SHARED.get(
        (engine_key, project.id, fingerprint(session, project)),
        lambda: _project_wide(session, project),
    )
    return Counts(
        role=role,
        queue=queue_sizes,
        assigned=assigned,
        second=second,
        conflicts=conflict_counts if role in accounts.RESOLVING_ROLES else None,
        prisma=wide.prisma,
        prisma_error=wide.prisma_error,
        kappa=wide.kappa,
    )


def workload(session: Session, owner: m.Reviewer, project: m.Project) -> dict[int, dict[str, int]]:
    """Per member and stage, assigned records still waiting for their vote (owners only)."""
    accounts.require_role(session, owner, project.id, OWNER_ROLES)
    found: dict[int, dict[str, int]] = {}
    for stage in m.STAGES:
        for reviewer_id, n in _open_load(_stage(session, project, stage)).items():
            found.setdefault(reviewer_id, {})[stage] = n
    return found


__all__ = [
    "DEFAULT_KEYS",
    "FULL_TEXT",
    "OWNER_ROLES",
    "TITLE_ABSTRACT",
    "CastVote",
    "Conflict",
    "Counts",
    "Next",
    "Queue",
    "Removal",
    "assign",
    "conflicts",
    "counts",
    "fingerprint",
    "next_record",
    "queue",
    "remove_member",
    "settle",
    "split_evenly",
    "vote",
    "workload",
]
