"""Invitations: how an owner brings a person into a project with a role, by a link.

Review tools lose teams at the invite: links that never arrive, links that work twice, links
that cannot be withdrawn. Here an invitation is a random token shown to the owner once (to send
however the team talks), valid until it expires, accepted once, and revocable until then. Only
the token's SHA-256 is stored, like a browser session's, so reading the database accepts nothing.

The person accepting may already have an account (signed in) or create one on the spot; either
way they join with the invited role. Accepting is a conditional UPDATE on "not yet accepted, not
revoked, not expired", so two clicks (or two people holding the link) cannot both succeed.
Every step (invite, revoke, accept, the account made for it) is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import accounts
from postcart.literature import models as m

#: How long a link works unless the owner says otherwise, and the longest it may work.
DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)
OWNER_ROLES = frozenset({"owner"})


class State(StrEnum):
    """Where an invitation stands; only ``open`` can be accepted or revoked."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def state(invitation: m.Invitation, when: datetime) -> State:
    """The invitation's state at ``when`` (accepted and revoked win over expiry)."""
    if invitation.accepted_at is not None:
        return State.ACCEPTED
    if invitation.revoked_at is not None:
        return State.REVOKED
    if invitation.expires_at <= when:
        return State.EXPIRED
    return State.OPEN


@dataclass(frozen=True, slots=True)
class Issued:
    """A new invitation and its token: the token is shown now and never again."""

    invitation: m.Invitation
    token: str


def invite(
    session: Session,
    actor: m.Reviewer,
    project: m.Project,
    role: str,
    *,
    when: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
    note: str = "",
) -> Issued:
    """A new invitation to ``project`` with ``role`` (owners only), valid for ``lifetime``.

    ``note`` is the owner's own reminder of whom it is for (shown to owners, never to the
    invited person), since the link itself names no one.
    """
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    if role not in m.PROJECT_ROLES:
        raise InputError(f"invitation role {role!r}: use one of {', '.join(m.PROJECT_ROLES)}")
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise InputError(
            f"invitation lifetime {lifetime}: give between 1 hour and {MAX_LIFETIME.days} days"
        )
    note = note.strip()
    if len(note) > 200:
        raise InputError(f"invitation note: {len(note)} characters; at most 200")
    token = secrets.token_urlsafe(32)
    invitation = m.Invitation(
        project_id=project.id, role=role, token_digest=_digest(token), note=note,
        created_by=actor.id, created_at=when, expires_at=when + lifetime,
    )  # fmt: skip
    session.add(invitation)
    session.flush()
    accounts.audit(session, actor, "invite", "invitation", invitation.id, project=project,
                   after={"role": role, "note": note,
                          "expires_at": invitation.expires_at.isoformat()})  # fmt: skip
    return Issued(invitation, token)


def listed(session: Session, actor: m.Reviewer, project: m.Project) -> list[m.Invitation]:
    """The project's invitations, newest first (owners only)."""
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    query = select(m.Invitation).where(m.Invitation.project_id == project.id)
    return list(session.scalars(query.order_by(m.Invitation.id.desc())))


def revoke(
    session: Session, actor: m.Reviewer, project: m.Project, invitation_id: int, *, when: datetime
) -> m.Invitation:
    """Withdraw an open invitation (owners only); its link then opens nothing."""
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    invitation = session.get(m.Invitation, invitation_id)
    if invitation is None or invitation.project_id != project.id:
        raise AccessError(f"invitation {invitation_id}: not found in project {project.name!r}")
    now_state = state(invitation, when)
    if now_state is not State.OPEN:
        raise InputError(f"invitation {invitation_id} is {now_state.value}; nothing to revoke")
    invitation.revoked_at = when
    session.flush()
    accounts.audit(session, actor, "revoke", "invitation", invitation.id, project=project,
                   before={"state": "open"}, after={"state": "revoked"})  # fmt: skip
    return invitation


@dataclass(frozen=True, slots=True)
class Pending:
    """What the invitation page may show before accepting: project name, role, state."""

    invitation: m.Invitation
    project: m.Project
    state: State


def look_up(session: Session, token: str, *, when: datetime) -> Pending:
    """The invitation behind ``token``; AccessError (a 404) for a token that matches none."""
    if not token:
        raise AccessError("invitation: not found")
    invitation = session.scalar(
        select(m.Invitation).where(m.Invitation.token_digest == _digest(token))
    )
    project = None if invitation is None else session.get(m.Project, invitation.project_id)
    if invitation is None or project is None:
        raise AccessError("invitation: not found")
    return Pending(invitation, project, state(invitation, when))


def accept(session: Session, token: str, reviewer: m.Reviewer, *, when: datetime) -> m.Project:
    """``reviewer`` joins the invited project with the invited role; the link is then used up.

    Someone already in the project is refused (an invitation never changes an existing role:
    that is the owner's decision on the project page) and the link stays open for its person.
    """
    pending = look_up(session, token, when=when)
    invitation, project = pending.invitation, pending.project
    if pending.state is not State.OPEN:
        raise InputError(f"this invitation is {pending.state.value}; ask the owner for a new one")
    if accounts.role_in(session, reviewer, project.id) is not None:
        raise InputError(f"{reviewer.name!r} is already a member of project {project.name!r}")
    taken = session.execute(
        update(m.Invitation)
        .where(
            m.Invitation.id == invitation.id,
            m.Invitation.accepted_at.is_(None),
            m.Invitation.revoked_at.is_(None),
            m.Invitation.expires_at > when,
        )
        .values(accepted_at=when, accepted_by=reviewer.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise InputError("this invitation was used or withdrawn a moment ago")
    session.add(m.Membership(project_id=project.id, reviewer_id=reviewer.id, role=invitation.role))
    session.flush()
    session.refresh(invitation)
    accounts.audit(session, reviewer, "accept", "invitation", invitation.id, project=project,
                   before={"state": "open"},
                   after={"state": "accepted", "reviewer_id": reviewer.id})  # fmt: skip
    accounts.audit(session, reviewer, "join", "membership", f"{project.id}:{reviewer.id}",
                   after={"role": invitation.role, "invitation": invitation.id},
                   project=project)  # fmt: skip
    return project


def register_and_accept(
    session: Session, token: str, name: str, password: str, repeated: str, *, when: datetime
) -> tuple[m.Reviewer, m.Project]:
    """A new account made from an open invitation, which it then accepts (one transaction).

    The invitation is checked first, so a used or expired link creates no stray account.
    """
    pending = look_up(session, token, when=when)
    if pending.state is not State.OPEN:
        raise InputError(f"this invitation is {pending.state.value}; ask the owner for a new one")
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("name: give between 1 and 200 characters")
    if len(password) < 10:
        raise InputError("password: use at least 10 characters")
    if password != repeated:
        raise InputError("password: the two passwords differ")
    reviewer = accounts.add_user(session, name, password)
    return reviewer, accept(session, token, reviewer, when=when)


__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "Issued",
    "Pending",
    "State",
    "accept",
    "invite",
    "listed",
    "look_up",
    "register_and_accept",
    "revoke",
    "state",
]
