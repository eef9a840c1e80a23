"""A project's team from the owner's side: creating a project, changing roles, the resolver.

``store.create_project`` makes the rows; this module adds the rules a team needs on top, for the
web workbench (removing a member lives in ``workflow.remove_member``, with the queue rules):

* Only a site owner creates projects; the creator becomes the project's owner and its
  designated resolver, so the first conflict already has someone to settle it.
* A project always keeps an owner: the last owner cannot be demoted.
* A conflict is never stranded: when the designated resolver loses the right to resolve (a new
  role of reviewer or viewer), the owner making the change takes the duty over, as on removal.

Every change is audited with the state before and after.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import accounts, store
from postcart.literature import models as m

OWNER_ROLES = frozenset({"owner"})


def create_project(
    session: Session,
    actor: m.Reviewer,
    name: str,
    *,
    reviewers_title_abstract: int = 2,
    reviewers_full_text: int = 2,
    exclusion_reasons: Sequence[str] = m.DEFAULT_EXCLUSION_REASONS,
) -> m.Project:
    """A new project owned by ``actor`` (a site owner), who is also its designated resolver."""
    if actor.site_role != "owner":
        raise AccessError(f"{actor.name!r} may not create projects (site owners only)")
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("project name: give between 1 and 200 characters")
    for field, value in (("title/abstract", reviewers_title_abstract),
                         ("full text", reviewers_full_text)):  # fmt: skip
        if value not in (1, 2):
            raise InputError(f"reviewers per record at {field}: 1 or 2, not {value}")
    reasons = [r.strip() for r in exclusion_reasons if r.strip()]
    if not reasons:
        raise InputError("exclusion reasons: give at least one (one per line)")
    if len(set(reasons)) != len(reasons):
        raise InputError("exclusion reasons: each reason once")
    if any(len(r) > 200 for r in reasons):
        raise InputError("exclusion reasons: at most 200 characters each")
    project = store.create_project(
        session, name, [actor], reviewers_title_abstract=reviewers_title_abstract,
        reviewers_full_text=reviewers_full_text, exclusion_reasons=reasons, resolver=actor,
    )  # fmt: skip
    session.get_one(m.Membership, (project.id, actor.id)).role = "owner"
    session.flush()
    accounts.audit(session, actor, "create", "project", project.id, project=project,
                   after={"name": name, "reviewers_title_abstract": reviewers_title_abstract,
                          "reviewers_full_text": reviewers_full_text, "exclusion_reasons": reasons,
                          "owner": actor.id, "resolver_id": actor.id})  # fmt: skip
    return project


def _owners(session: Session, project: m.Project) -> int:
    query = select(func.count()).where(
        m.Membership.project_id == project.id, m.Membership.role == "owner"
    )
    return int(session.scalar(query) or 0)


def change_role(
    session: Session, actor: m.Reviewer, project: m.Project, reviewer_id: int, role: str
) -> str | None:
    """Give a member a new role (owners only); returns the new resolver's name if it moved.

    The last owner cannot be demoted. If the member was the designated resolver and the new
    role cannot resolve, ``actor`` becomes the resolver, so no conflict waits for nobody.
    """
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    if role not in m.PROJECT_ROLES:
        raise InputError(f"project role {role!r}: use one of {', '.join(m.PROJECT_ROLES)}")
    membership = session.get(m.Membership, (project.id, reviewer_id))
    reviewer = session.get(m.Reviewer, reviewer_id)
    if membership is None or reviewer is None:
        raise AccessError(f"reviewer {reviewer_id}: not a member of project {project.name!r}")
    if membership.role == role:
        return None
    if membership.role == "owner" and _owners(session, project) == 1:
        raise InputError(f"{reviewer.name!r} is the project's only owner; make another first")
    losing_duty = project.resolver_id == reviewer_id and role not in accounts.RESOLVING_ROLES
    if losing_duty and reviewer_id == actor.id:
        raise InputError("you are the designated resolver; name another resolver first")
    accounts.set_role(session, actor, project, reviewer, role)
    if losing_duty:
        _set_resolver(session, actor, project, actor)
        return actor.name
    return None


def _set_resolver(
    session: Session, actor: m.Reviewer, project: m.Project, resolver: m.Reviewer
) -> None:
    before = project.resolver_id
    project.resolver_id = resolver.id
    session.flush()
    accounts.audit(session, actor, "set_resolver", "project", project.id, project=project,
                   before={"resolver_id": before}, after={"resolver_id": resolver.id})  # fmt: skip


def set_resolver(session: Session, actor: m.Reviewer, project: m.Project, reviewer_id: int) -> None:
    """Name the designated resolver (owners only): a member whose role may resolve."""
    accounts.require_role(session, actor, project.id, OWNER_ROLES)
    reviewer = session.get(m.Reviewer, reviewer_id)
    role = None if reviewer is None else accounts.role_in(session, reviewer, project.id)
    if reviewer is None or role is None:
        raise AccessError(f"reviewer {reviewer_id}: not a member of project {project.name!r}")
    if role not in accounts.RESOLVING_ROLES:
        raise InputError(f"{reviewer.name!r} is a {role}; make them resolver or owner first")
    if project.resolver_id != reviewer.id:
        _set_resolver(session, actor, project, reviewer)


__all__ = ["change_role", "create_project", "set_resolver"]
