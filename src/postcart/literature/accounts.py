"""Accounts of a review team: site and project roles, browser sessions, and the audit log.

The web workbench and the CLI call these functions; neither keeps rules of its own. A session
token lives only in the browser's cookie; the table holds its SHA-256, so a copy of the database
opens no one's session. Every write a person makes goes through :func:`audit`, whose table
refuses UPDATE and DELETE (a trigger), so the trail cannot be edited after the fact.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import models as m
from postcart.literature.store import authenticate, create_reviewer

#: How long a browser stays signed in without signing in again.
SESSION_LIFETIME = timedelta(hours=12)
#: Roles allowed to write votes, and to settle conflicts.
VOTING_ROLES = frozenset({"owner", "reviewer", "resolver"})
RESOLVING_ROLES = frozenset({"owner", "resolver"})


def now() -> datetime:
    """Naive UTC (the DateTime columns carry no zone), one clock for every table."""
    return datetime.now(UTC).replace(tzinfo=None)


def audit(
    session: Session,
    actor: m.Reviewer | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
    project: m.Project | None = None,
) -> m.AuditEvent:
    """Append one event to the audit log (in the caller's transaction)."""
    event = m.AuditEvent(
        at=now(),
        actor_id=None if actor is None else actor.id,
        project_id=None if project is None else project.id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=None if before is None else dict(before),
        after=None if after is None else dict(after),
    )
    session.add(event)
    session.flush()
    return event


def trail(
    session: Session, *, project: m.Project | None = None, entity: str | None = None,
    entity_id: object | None = None,
) -> list[m.AuditEvent]:  # fmt: skip
    """Audit events, oldest first, filtered by project and/or entity."""
    query = select(m.AuditEvent).order_by(m.AuditEvent.id)
    if project is not None:
        query = query.where(m.AuditEvent.project_id == project.id)
    if entity is not None:
        query = query.where(m.AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(m.AuditEvent.entity_id == str(entity_id))
    return list(session.scalars(query))


def add_user(
    session: Session, name: str, password: str, *, site_role: str = "member",
    actor: m.Reviewer | None = None,
) -> m.Reviewer:  # fmt: skip
    """A new account (scrypt-hashed password); ``site_role`` owner manages the site."""
    if site_role not in m.SITE_ROLES:
        raise InputError(f"site role {site_role!r}: use one of {', '.join(m.SITE_ROLES)}")
    reviewer = create_reviewer(session, name, password)
    reviewer.site_role = site_role
    session.flush()
    audit(session, actor, "create", "user", reviewer.id,
          after={"name": name, "site_role": site_role})  # fmt: skip
    return reviewer


def role_in(session: Session, reviewer: m.Reviewer, project_id: int) -> str | None:
    """``reviewer``'s role in the project, or ``None`` when not a member."""
    membership = session.get(m.Membership, (project_id, reviewer.id))
    return None if membership is None else membership.role


def require_role(
    session: Session, reviewer: m.Reviewer, project_id: int, roles: Iterable[str]
) -> m.Project:
    """The project if ``reviewer`` holds one of ``roles`` in it; AccessError otherwise.

    A project the reviewer does not belong to and a project that does not exist give the same
    error, so ids cannot be probed.
    """
    role = role_in(session, reviewer, project_id)
    project = session.get(m.Project, project_id)
    if project is None or role is None:
        raise AccessError(f"project {project_id}: not found among {reviewer.name!r}'s projects")
    if role not in set(roles):
        raise AccessError(f"project {project.name!r}: role {role!r} may not do this")
    return project


def set_role(
    session: Session, actor: m.Reviewer, project: m.Project, reviewer: m.Reviewer, role: str
) -> None:
    """Add ``reviewer`` to the project with ``role``, or change their role (owners only)."""
    require_role(session, actor, project.id, {"owner"})
    if role not in m.PROJECT_ROLES:
        raise InputError(f"project role {role!r}: use one of {', '.join(m.PROJECT_ROLES)}")
    membership = session.get(m.Membership, (project.id, reviewer.id))
    before = None if membership is None else {"role": membership.role}
    if membership is None:
        membership = m.Membership(project_id=project.id, reviewer_id=reviewer.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    audit(session, actor, "set_role", "membership", f"{project.id}:{reviewer.id}",
          before=before, after={"role": role}, project=project)  # fmt: skip


@dataclass(frozen=True)
class Opened:
    """A new browser session: the token for the cookie and the CSRF token for forms."""

    token: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_session(session: Session, reviewer: m.Reviewer) -> Opened:
    """Sign ``reviewer`` in: a random cookie token (stored hashed) and a CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    started = now()
    session.add(
        m.WebSession(
            id=_digest(token),
            reviewer_id=reviewer.id,
            csrf_token=csrf,
            created_at=started,
            expires_at=started + SESSION_LIFETIME,
        )
    )
    session.flush()
    audit(session, reviewer, "sign_in", "user", reviewer.id)
    return Opened(token, csrf)


def find_session(session: Session, token: str | None) -> tuple[m.Reviewer, str] | None:
    """The signed-in reviewer and their CSRF token, or ``None`` (unknown or expired)."""
    if not token:
        return None
    row = session.get(m.WebSession, _digest(token))
    if row is None or row.expires_at <= now():
        return None
    reviewer = session.get(m.Reviewer, row.reviewer_id)
    return None if reviewer is None else (reviewer, row.csrf_token)


def close_session(session: Session, token: str | None) -> None:
    """Sign out: the session row is deleted, so the cookie opens nothing any more."""
    if token:
        session.execute(delete(m.WebSession).where(m.WebSession.id == _digest(token)))


def members(session: Session, project: m.Project) -> list[tuple[m.Reviewer, str]]:
    """The project's members with their roles, by name."""
    query = (
        select(m.Reviewer, m.Membership.role)
        .join(m.Membership, m.Membership.reviewer_id == m.Reviewer.id)
        .where(m.Membership.project_id == project.id)
        .order_by(m.Reviewer.name)
    )
    return [(reviewer, role) for reviewer, role in session.execute(query).all()]


__all__ = [
    "RESOLVING_ROLES",
    "SESSION_LIFETIME",
    "VOTING_ROLES",
    "Opened",
    "add_user",
    "audit",
    "close_session",
    "find_session",
    "local_reviewer",
    "members",
    "now",
    "open_session",
    "require_role",
    "role_in",
    "set_role",
    "trail",
]


def local_reviewer(session: Session, name: str, password: str, *, local: bool) -> m.Reviewer:
    """Who a command-line user is: passwords protect the server, not one person's own file.

    On a local SQLite database (``local``) with no password given: the sole account is used
    as is (any name it was given), and an empty database gets its first account with a random,
    unused password (set a real one later with ``postcart user add`` on a team server). With a
    password, or on a shared server (PostgreSQL), the account must authenticate.
    """
    if not password and not local:
        raise InputError("a shared database needs the account's password (POSTCART_PASSWORD)")
    if password:
        if session.scalar(select(m.Reviewer.id).limit(1)) is None:
            return add_user(session, name, password)
        return authenticate(session, name, password)
    everyone = list(session.scalars(select(m.Reviewer).limit(2)))
    if not everyone:
        return add_user(session, name, secrets.token_urlsafe(24))
    if len(everyone) == 1:
        return everyone[0]
    raise InputError(
        "several accounts share this database: give --reviewer and POSTCART_PASSWORD "
        "(or --password)"
    )
