"""Persist projects, reviewers, imports and duplicate links; every read is scoped to a reviewer.

Isolation is enforced here, not in the callers: functions that return project data take the
reviewer and only see projects that reviewer is a member of. Functions take a session and never
commit, so the caller's ``session_scope`` makes each command one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import models as m
from postcart.literature.dedup import find_duplicates
from postcart.literature.records import Record

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 64}


def hash_password(password: str, salt: bytes | None = None) -> tuple[str, str]:
    """``(salt_hex, scrypt_hash_hex)``; a fresh random salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return salt.hex(), digest.hex()


#: Longest reviewer or project name (the width of their name columns).
MAX_NAME_CHARS = 200

#: Hashed against when a login names nobody, so an unknown name takes as long as a known one.
_TIMING_SALT = bytes(16)


def check_name(kind: str, name: str) -> str:
    """``name`` if it can name a reviewer or project: 1–200 characters, no control characters."""
    if not name.strip():
        raise InputError(f"{kind} name: empty")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"{kind} name: {len(name)} characters, at most {MAX_NAME_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError(f"{kind} name {name[:40]!r}: contains a control character")
    return name


def _is_name(name: str) -> bool:
    try:
        check_name("reviewer", name)
    except InputError:
        return False
    return True


def create_reviewer(session: Session, name: str, password: str) -> m.Reviewer:
    """A new reviewer; the name must be unused and the password non-empty."""
    check_name("reviewer", name)
    if not password:
        raise InputError(f"reviewer {name!r}: empty password")
    if session.scalar(select(m.Reviewer).where(m.Reviewer.name == name)) is not None:
        raise InputError(f"reviewer {name!r} already exists")
    salt, digest = hash_password(password)
    reviewer = m.Reviewer(name=name, password_salt=salt, password_hash=digest)
    session.add(reviewer)
    session.flush()
    return reviewer


def authenticate(session: Session, name: str, password: str) -> m.Reviewer:
    """The reviewer called ``name`` if ``password`` matches; otherwise InputError (no hint why).

    An unknown name costs the same scrypt hash as a known one, so response time does not tell
    which names exist; a name that could never exist (a NUL byte, say) is never sent to SQL.
    """
    known = _is_name(name)
    reviewer = session.scalar(select(m.Reviewer).where(m.Reviewer.name == name)) if known else None
    salt = _TIMING_SALT if reviewer is None else bytes.fromhex(reviewer.password_salt)
    _, digest = hash_password(password, salt)
    if reviewer is not None and hmac.compare_digest(digest, reviewer.password_hash):
        return reviewer
    raise InputError(f"reviewer {name!r}: unknown name or wrong password")


def create_project(
    session: Session,
    name: str,
    members: Sequence[m.Reviewer],
    *,
    reviewers_title_abstract: int = 2,
    reviewers_full_text: int = 2,
    exclusion_reasons: Sequence[str] = m.DEFAULT_EXCLUSION_REASONS,
    resolver: m.Reviewer | None = None,
) -> m.Project:
    """A project whose members are ``members``; the resolver, if any, must be one of them."""
    check_name("project", name)
    for stage, count in (("title/abstract", reviewers_title_abstract),
                         ("full text", reviewers_full_text)):  # fmt: skip
        if count not in (1, 2):
            raise InputError(f"project {name!r}: {count} reviewers per record at {stage}; "
                             "choose 1 (single) or 2 (dual screening)")  # fmt: skip
    if session.scalar(select(m.Project).where(m.Project.name == name)) is not None:
        raise InputError(f"project {name!r} already exists")
    if resolver is not None and resolver.id not in {r.id for r in members}:
        raise InputError(f"project {name!r}: resolver {resolver.name!r} is not a member")
    project = m.Project(
        name=name,
        reviewers_title_abstract=reviewers_title_abstract,
        reviewers_full_text=reviewers_full_text,
        exclusion_reasons=list(exclusion_reasons),
        resolver_id=None if resolver is None else resolver.id,
    )
    session.add(project)
    session.flush()
    session.add_all(m.Membership(project_id=project.id, reviewer_id=r.id) for r in members)
    session.flush()
    return project


def projects_of(session: Session, reviewer: m.Reviewer) -> list[m.Project]:
    """Projects ``reviewer`` belongs to, by name."""
    query = (
        select(m.Project)
        .join(m.Membership, m.Membership.project_id == m.Project.id)
        .where(m.Membership.reviewer_id == reviewer.id)
        .order_by(m.Project.name)
    )
    return list(session.scalars(query))


def project_or_new(
    session: Session, reviewer: m.Reviewer, name: str, *, reviewers: int = 1
) -> m.Project:
    """``reviewer``'s project ``name``, or a new one they own and resolve, with ``reviewers``
    per record at both stages (the first import of a living review creates its project)."""
    found = _own_project(session, reviewer, name)
    if found is not None:
        return found
    return create_project(session, name, [reviewer], reviewers_title_abstract=reviewers,
                          reviewers_full_text=reviewers, resolver=reviewer)  # fmt: skip


def _own_project(session: Session, reviewer: m.Reviewer, name: str) -> m.Project | None:
    return next((p for p in projects_of(session, reviewer) if p.name == name), None)


def project_for(session: Session, reviewer: m.Reviewer, name: str) -> m.Project:
    """The project ``name`` if ``reviewer`` is a member; otherwise AccessError."""
    found = _own_project(session, reviewer, name)
    if found is not None:
        return found
    raise AccessError(f"project {name!r}: not found among {reviewer.name!r}'s projects")


def records_of(session: Session, reviewer: m.Reviewer, project: m.Project) -> list[m.LitRecord]:
    """Records of ``project`` in import order, or AccessError if ``reviewer`` is not a member."""
    project_for(session, reviewer, project.name)
    query = select(m.LitRecord).where(m.LitRecord.project_id == project.id)
    return list(session.scalars(query.order_by(m.LitRecord.id)))


def record_for(session: Session, reviewer: m.Reviewer, record_id: int) -> m.LitRecord:
    """Record ``record_id`` if it belongs to one of ``reviewer``'s projects."""
    record = session.get(m.LitRecord, record_id)
    member = {p.id for p in projects_of(session, reviewer)}
    if record is None or record.project_id not in member:
        raise AccessError(f"record {record_id}: not found in {reviewer.name!r}'s projects")
    return record


def next_update_no(session: Session, project: m.Project) -> int:
    """Number of the next living-review update (1 for the first import)."""
    query = select(func.max(m.ImportBatch.update_no)).where(m.ImportBatch.project_id == project.id)
    return int(session.scalar(query) or 0) + 1


def _row(record: Record, project_id: int, batch_id: int) -> m.LitRecord:
    """The row for a record: every field copied by name, tuples stored as JSON lists."""
    values = {field.name: getattr(record, field.name) for field in fields(Record)}
    values["authors"] = list(record.authors)
    values["keywords"] = list(record.keywords)
    values["raw"] = [list(pair) for pair in record.raw]
    return m.LitRecord(project_id=project_id, batch_id=batch_id, **values)


def import_records(
    session: Session,
    project: m.Project,
    records: Iterable[Record],
    *,
    file: str,
    format: str,
    imported_at: datetime,
    update_no: int,
    source: str = "",
    search_run: m.SearchRun | None = None,
) -> m.ImportBatch:
    """Add ``records`` as one batch of update ``update_no``; existing rows and votes stay."""
    batch = m.ImportBatch(
        project_id=project.id,
        update_no=update_no,
        source=source or file,
        file=file,
        format=format,
        count=0,
        imported_at=imported_at,
        search_run_id=None if search_run is None else search_run.id,
    )
    session.add(batch)
    session.flush()
    rows = [_row(record, project.id, batch.id) for record in records]
    session.add_all(rows)
    batch.count = len(rows)
    session.flush()
    return batch


def save_search_run(
    session: Session,
    project: m.Project,
    *,
    database: str,
    query: str,
    run_at: datetime,
    pmids: Sequence[str],
    count: int,
    mindate: str = "",
    maxdate: str = "",
) -> m.SearchRun:
    """Keep what a search asked and returned (PMIDs, not a WebEnv, which expires)."""
    run = m.SearchRun(
        project_id=project.id,
        database=database,
        query=query,
        mindate=mindate,
        maxdate=maxdate,
        run_at=run_at,
        count=count,
        pmids=list(pmids),
    )
    session.add(run)
    session.flush()
    return run


def as_record(row: m.LitRecord) -> Record:
    """The stored row as the readers' :class:`Record`, for dedup and export."""
    values = {field.name: getattr(row, field.name) for field in fields(Record)}
    values["authors"] = tuple(row.authors)
    values["keywords"] = tuple(row.keywords)
    values["raw"] = tuple((key, value) for key, value in row.raw)
    return Record(**values)


def link_duplicates(session: Session, reviewer: m.Reviewer, project: m.Project) -> int:
    """Group duplicates among all the project's records; returns how many records were linked.

    Earlier groups are kept; the oldest record of a new group is its root, so a record already
    screened stays the one screened when a living update brings in its duplicate.
    """
    rows = records_of(session, reviewer, project)
    result = find_duplicates([as_record(row) for row in rows])
    members: dict[int, list[int]] = {}
    for link in result.links:
        members.setdefault(link.root, []).append(link.index)
    linked = 0
    for root, others in members.items():
        group_rows = sorted([rows[root], *(rows[i] for i in others)], key=lambda r: r.id)
        existing = next((r.duplicate_group_id for r in group_rows if r.duplicate_group_id), None)
        if existing is None:
            group = m.DuplicateGroup(
                project_id=project.id, root_record_id=group_rows[0].id, method="auto"
            )
            session.add(group)
            session.flush()
            existing = group.id
        for row in group_rows:
            if row.duplicate_group_id is None:
                row.duplicate_group_id = existing
                linked += 1
    session.flush()
    return linked


def is_duplicate(session: Session, row: m.LitRecord) -> bool:
    """Whether ``row`` is a non-root member of a duplicate group (removed before screening)."""
    if row.duplicate_group_id is None:
        return False
    group = session.get(m.DuplicateGroup, row.duplicate_group_id)
    return group is not None and group.root_record_id != row.id
