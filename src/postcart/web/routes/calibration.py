"""The calibration round in the browser: start, screen the sample by keyboard, read agreement.

Rules in ``literature/calibration.py``; each route makes one core call. Screening the sample
reuses ``static/screen.js`` (a key clicks the button carrying it) and the reviewer's own keys.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import accounts, calibration, screen_keys
from postcart.literature import models as lm
from postcart.web.app import DB, Viewer, Who, render, signed_in

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
OWNER = frozenset({"owner"})
DECISION_NAMES = {"yes": "Include", "maybe": "Maybe", "no": "Exclude"}


def _page(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    *, status: int = 200, **extra: Any,
) -> Response:  # fmt: skip
    role = accounts.role_in(session, me, project.id) or ""
    return render(request, who, "calibration.html", status, project=project,
                  report=calibration.report(session, me, project), owner=role in OWNER,
                  voter=role in accounts.VOTING_ROLES, max_size=calibration.MAX_SIZE,
                  **extra)  # fmt: skip


@router.get("/projects/{project_id}/calibration")
def calibration_page(request: Request, session: DB, who: Who, me: Me, project_id: int) -> Response:
    """The round: progress (counts only), then agreement and kappa per pair of reviewers."""
    project = accounts.require_role(session, me, project_id, lm.PROJECT_ROLES)
    return _page(request, session, who, me, project)


@router.post("/projects/{project_id}/calibration/start")
def start(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    size: Annotated[str, Form()] = "", seed: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Open a round on a random sample (owners); the seed is drawn unless given."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        if not size.strip().isdigit():
            raise InputError("calibration size: give a whole number of records")
        if seed.strip() and not seed.strip().isdigit():
            raise InputError("calibration seed: a whole number, or leave it empty")
        calibration.start(session, me, project, int(size), when=accounts.now(),
                          seed=int(seed) if seed.strip() else None)  # fmt: skip
    except InputError as error:
        session.rollback()
        return _page(request, session, who, me, project, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}/calibration", status_code=303)


@router.post("/projects/{project_id}/calibration/close")
def close(request: Request, session: DB, who: Who, me: Me, project_id: int) -> Response:
    """Close the round (owners), which opens normal screening."""
    project = accounts.require_role(session, me, project_id, OWNER)
    try:
        calibration.close(session, me, project, when=accounts.now())
    except InputError as error:
        session.rollback()
        return _page(request, session, who, me, project, status=400, error=str(error))
    return RedirectResponse(f"/projects/{project.id}/calibration", status_code=303)


def _card(session: Session, me: lm.Reviewer, project: lm.Project, **extra: Any) -> dict[str, Any]:
    upcoming = calibration.next_for(session, me, project)
    return {"project": project, "record": upcoming.record, "left": upcoming.left,
            "size": upcoming.size, "keys": screen_keys.keys_of(session, me),
            "decision_names": DECISION_NAMES, **extra}  # fmt: skip


@router.get("/projects/{project_id}/calibration/screen")
def screen(request: Request, session: DB, who: Who, me: Me, project_id: int) -> Response:
    """The next sampled record this reviewer has not rated."""
    project = accounts.require_role(session, me, project_id, accounts.VOTING_ROLES)
    try:
        context = _card(session, me, project)
    except InputError as error:  # no round open
        return _page(request, session, who, me, project, status=409, error=str(error))
    return render(request, who, "calibration_screen.html", **context)


@router.post("/projects/{project_id}/calibration/records/{record_id}/vote")
def vote(
    request: Request, session: DB, who: Who, me: Me, project_id: int, record_id: int,
    decision: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Rate one sampled record; htmx gets the next card, a plain post a redirect."""
    project = accounts.require_role(session, me, project_id, accounts.VOTING_ROLES)
    htmx = request.headers.get("hx-request") == "true"
    try:
        calibration.rate(session, me, project, record_id, decision, when=accounts.now(),
                         reason=reason)  # fmt: skip
    except InputError as error:
        session.rollback()
        try:
            context = _card(session, me, project, error=str(error))
        except InputError:  # the round was closed meanwhile
            return _page(request, session, who, me, project, status=409, error=str(error))
        if htmx:
            return render(request, who, "_calibration_card.html", 409, **context)
        return render(request, who, "calibration_screen.html", 400, **context)
    if not htmx:
        return RedirectResponse(f"/projects/{project.id}/calibration/screen", status_code=303)
    context = _card(session, me, project, saved=DECISION_NAMES.get(decision, ""))
    return render(request, who, "_calibration_card.html", **context)
