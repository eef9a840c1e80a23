"""A project's team in the browser: new projects, roles, the resolver, invitations.

The rules live in ``literature/membership.py`` and ``literature/invitations.py``; each route
reads the form, makes one core call and renders or redirects. Owner-only pages check the role
first, so a member who is not an owner, and anyone outside the project, gets the same 404.

An invitation's link is shown once, in the answer to the POST that made it: only its hash is
stored, so it cannot be shown again (the owner revokes it and makes a new one instead).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import accounts, invitations, membership
from postcart.literature import models as lm
from postcart.web.app import DB, Viewer, Who, render, signed_in
from postcart.web.security import CSRF_COOKIE, SESSION_COOKIE

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
Role = Literal["owner", "reviewer", "resolver", "viewer"]
OWNER = frozenset({"owner"})
#: What each role may do, shown beside the role choices.
ROLE_HELP = {
    "owner": "settings, members, invitations, assignment; votes",
    "reviewer": "screens and extracts",
    "resolver": "screens, settles conflicts when designated",
    "viewer": "reads the project, never writes",
}


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax",
        secure=bool(request.app.state.https), path="/",
    )  # fmt: skip


# --- a new project -------------------------------------------------------------------------------


def _site_owner(me: lm.Reviewer) -> None:
    if me.site_role != "owner":
        raise AccessError(f"{me.name!r}: only site owners create projects")


@router.get("/projects/new")
def new_project_form(request: Request, who: Who, me: Me) -> Response:
    """The form for a new project (site owners)."""
    _site_owner(me)
    return render(request, who, "project_new.html", form={}, reasons=lm.DEFAULT_EXCLUSION_REASONS)


@router.post("/projects")
def create_project(
    request: Request, session: DB, who: Who, me: Me,
    name: Annotated[str, Form()] = "", reviewers_title_abstract: Annotated[str, Form()] = "2",
    reviewers_full_text: Annotated[str, Form()] = "2",
    exclusion_reasons: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Create the project; its creator is owner and designated resolver."""
    _site_owner(me)
    form = {"name": name, "reviewers_title_abstract": reviewers_title_abstract,
            "reviewers_full_text": reviewers_full_text,
            "exclusion_reasons": exclusion_reasons}  # fmt: skip
    try:
        counts = []
        for label, value in (("title/abstract", reviewers_title_abstract),
                             ("full text", reviewers_full_text)):  # fmt: skip
            if value not in ("1", "2"):
                raise InputError(f"reviewers per record at {label}: 1 or 2")
            counts.append(int(value))
        project = membership.create_project(
            session, me, name, reviewers_title_abstract=counts[0], reviewers_full_text=counts[1],
            exclusion_reasons=exclusion_reasons.splitlines(),
        )  # fmt: skip
    except InputError as error:
        session.rollback()
        return render(request, who, "project_new.html", 400, form=form, error=str(error),
                      reasons=lm.DEFAULT_EXCLUSION_REASONS)  # fmt: skip
    return RedirectResponse(f"/projects/{project.id}/team", status_code=303)


# --- the team page -------------------------------------------------------------------------------


def _team_page(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    *, status: int = 200, **extra: Any,
) -> Response:  # fmt: skip
    now = accounts.now()
    listed = [(i, invitations.state(i, now)) for i in invitations.listed(session, me, project)]
    names = {r.id: r.name for r, _ in accounts.members(session, project)}
    for invitation, _ in listed:
        if invitation.accepted_by is not None and invitation.accepted_by not in names:
            other = session.get(lm.Reviewer, invitation.accepted_by)
            names[invitation.accepted_by] = "" if other is None else other.name
    return render(
        request, who, "team.html", status, project=project, me=me,
        members=accounts.members(session, project), roles=lm.PROJECT_ROLES, role_help=ROLE_HELP,
        invitations=listed, names=names, resolving=accounts.RESOLVING_ROLES, **extra,
    )  # fmt: skip


@router.get("/projects/{project_id}/team")
def team(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    changed: int | None = None, revoked: int | None = None,
) -> Response:  # fmt: skip
    """Members with their roles, the resolver, invitations (owners)."""
    project = accounts.require_role(session, me, project_id, OWNER)
    notice = ""
    if changed is not None:
        notice = "Role changed."
    if revoked is not None:
        notice = "Invitation revoked: its link opens nothing any more."
    return _team_page(request, session, who, me, project, notice=notice)


@router.post("/projects/{project_id}/members/{reviewer_id}/role")
def change_role(
    request: Request, session: DB, who: Who, me: Me, project_id: int, reviewer_id: int,
    role: Annotated[str, Form()],
) -> Response:  # fmt: skip
    """Give a member another role (owners); the resolver duty moves if it must."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        membership.change_role(session, me, project, reviewer_id, role)
    except InputError as error:
        session.rollback()
        return _team_page(request, session, who, me, project, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}/team?changed=1", status_code=303)


@router.post("/projects/{project_id}/resolver")
def set_resolver(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    reviewer_id: Annotated[str, Form()],
) -> Response:  # fmt: skip
    """Name the designated resolver (owners)."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        if not reviewer_id.isdigit():
            raise InputError("resolver: choose a member")
        membership.set_resolver(session, me, project, int(reviewer_id))
    except InputError as error:
        session.rollback()
        return _team_page(request, session, who, me, project, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}/team?changed=1", status_code=303)


@router.post("/projects/{project_id}/invitations")
def invite(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    role: Annotated[str, Form()], days: Annotated[str, Form()] = "7",
    note: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Make an invitation (owners); the answer shows its link, once."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        if not days.isdigit() or not 1 <= int(days) <= invitations.MAX_LIFETIME.days:
            raise InputError(
                f"invitation: valid for 1 to {invitations.MAX_LIFETIME.days} days, not {days!r}"
            )
        issued = invitations.invite(session, me, project, role, when=accounts.now(),
                                    lifetime=timedelta(days=int(days)), note=note)  # fmt: skip
    except InputError as error:
        session.rollback()
        return _team_page(request, session, who, me, project, status=400, error=str(error))
    # Behind a TLS proxy the app itself sees plain http; --https says what the browser uses.
    scheme = "https" if request.app.state.https else request.url.scheme
    link = f"{scheme}://{request.headers.get('host', 'localhost')}/invite/{issued.token}"
    return _team_page(request, session, who, me, project, link=link, issued=issued.invitation)


@router.post("/projects/{project_id}/invitations/{invitation_id}/revoke")
def revoke(
    request: Request, session: DB, who: Who, me: Me, project_id: int, invitation_id: int
) -> Response:
    """Withdraw an open invitation (owners)."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        invitations.revoke(session, me, project, invitation_id, when=accounts.now())
    except InputError as error:
        session.rollback()
        return _team_page(request, session, who, me, project, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}/team?revoked=1", status_code=303)


# --- accepting an invitation ---------------------------------------------------------------------


def _invite_page(
    request: Request, session: Session, who: Viewer, token: str, *, status: int = 200,
    **extra: Any,
) -> Response:  # fmt: skip
    pending = invitations.look_up(session, token, when=accounts.now())
    member = who.reviewer is not None and (
        accounts.role_in(session, who.reviewer, pending.project.id) is not None
    )
    return render(request, who, "invite.html", status, pending=pending, token=token,
                  member=member, role_help=ROLE_HELP, **extra)  # fmt: skip


@router.get("/invite/{token}")
def invitation(request: Request, session: DB, who: Who, token: str) -> Response:
    """What the link invites to; accept (signed in) or create an account (not signed in)."""
    if who.signed_in:
        return _invite_page(request, session, who, token)
    who.csrf_token = secrets.token_urlsafe(32)  # the registration form's double submit
    response = _invite_page(request, session, who, token)
    _cookie(request, response, CSRF_COOKIE, who.csrf_token, 3600)
    return response


@router.post("/invite/{token}/accept")
def accept(request: Request, session: DB, who: Who, me: Me, token: str) -> Response:
    """Join the project with the invited role (the signed-in person)."""
    try:
        project = invitations.accept(session, token, me, when=accounts.now())
    except InputError as error:
        session.rollback()
        return _invite_page(request, session, who, token, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.post("/invite/{token}/register")
def register(
    request: Request, session: DB, who: Who, token: str,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    repeated: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Create an account from the invitation, join, and sign in."""
    if who.signed_in:
        return RedirectResponse(f"/invite/{token}", status_code=303)
    try:
        reviewer, project = invitations.register_and_accept(
            session, token, username, password, repeated, when=accounts.now()
        )
    except InputError as error:
        session.rollback()
        return _invite_page(request, session, who, token, status=400, error=str(error),
                            username=username)  # fmt: skip
    opened = accounts.open_session(session, reviewer)
    response = RedirectResponse(f"/projects/{project.id}", status_code=303)
    _cookie(request, response, SESSION_COOKIE, opened.token,
            int(accounts.SESSION_LIFETIME.total_seconds()))  # fmt: skip
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
