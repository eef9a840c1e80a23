"""Team screening in the browser: project page, keyboard screening, conflicts, assignment.

Every route checks the reviewer's role in the project with ``accounts.require_role`` before it
reads anything, so an id from another project answers 404 exactly like an id that does not
exist. The rules live in ``literature/workflow.py``; a route reads the form, makes one core
call and renders. Votes and resolutions come back as htmx partials, so screening needs no page
reload; without JavaScript the same forms post and redirect.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from postcart.db import retry_in_session
from postcart.errors import AccessError, InputError
from postcart.literature import accounts, calibration, fulltext, screen_keys, screening, workflow
from postcart.literature import models as lm
from postcart.literature.screening import Outcome
from postcart.web.app import DB, TEMPLATES, Viewer, Who, render, signed_in
from postcart.web.security import SESSION_COOKIE

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
Stage = Literal["title_abstract", "full_text"]
QueueKind = Literal["all", "second"]
STAGE_NAMES = {"title_abstract": "Title/abstract", "full_text": "Full text"}
DECISION_NAMES = {"yes": "Include", "maybe": "Maybe", "no": "Exclude"}
#: One event stream lasts this long (seconds) and polls the database this often. The browser's
#: EventSource reconnects by itself, so a bounded stream frees its worker without the page
#: noticing; tests shorten both through ``app.state.sse_lifetime`` / ``app.state.sse_interval``.
SSE_LIFETIME = 60.0
SSE_INTERVAL = 1.0


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _common(**context: Any) -> dict[str, Any]:
    context.update(stage_names=STAGE_NAMES, decision_names=DECISION_NAMES)
    return context


# --- project page and its live counts -----------------------------------------------------------


def _project_page(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    *, error: str = "", notice: str = "", status: int = 200,
) -> Response:  # fmt: skip
    counts = workflow.counts(session, me, project)
    owner = counts.role in workflow.OWNER_ROLES
    return render(
        request, who, "project.html", status,
        **_common(project=project, counts=counts, members=accounts.members(session, project),
                  workload=workflow.workload(session, me, project) if owner else {},
                  owner=owner, me=me, stages=lm.STAGES, error=error, notice=notice),
    )  # fmt: skip


@router.get("/projects/{project_id}")
def project_page(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    assigned: int | None = None, requeued: int | None = None, kept: int | None = None,
) -> Response:  # fmt: skip
    """Members and roles, the reviewer's queues, conflicts, PRISMA counts and kappa (live).

    The notice after a redirect is built from numbers only, never from text in the URL, so a
    crafted link cannot put words on the page.
    """
    project = accounts.require_role(session, me, project_id, lm.PROJECT_ROLES)
    notice = ""
    if assigned is not None:
        notice = f"{assigned} assignment(s) made."
    if requeued is not None and kept is not None:
        notice = (
            f"Member removed: {requeued} record(s) back in the queue, "
            f"{kept} conflict(s) keep their vote."
        )
    return _project_page(request, session, who, me, project, notice=notice)


def _render_counts(session: Session, token: str, reviewer_id: int, project_id: int) -> str | None:
    """The counts partial for a still-valid session and membership, else None (stop)."""
    found = accounts.find_session(session, token)
    if found is None or found[0].id != reviewer_id:
        return None
    reviewer = found[0]
    try:
        project = accounts.require_role(session, reviewer, project_id, lm.PROJECT_ROLES)
    except AccessError:
        return None
    counts = workflow.counts(session, reviewer, project)
    template = TEMPLATES.get_template("_counts.html")
    return template.render(_common(project=project, counts=counts, stages=lm.STAGES))


def _poll(
    engine: Engine, token: str, reviewer_id: int, project_id: int, seen: tuple[object, ...] | None
) -> tuple[tuple[object, ...] | None, str | None, bool]:
    """One look at the database: (fingerprint, new partial or None if unchanged, go on?)."""
    with Session(engine) as session:
        project = session.get(lm.Project, project_id)
        if project is None:
            return None, None, False
        now = workflow.fingerprint(session, project)
        if now == seen:
            # Still check the session and membership, so signing out or removal ends the stream.
            found = accounts.find_session(session, token)
            ok = found is not None and found[0].id == reviewer_id
            ok = ok and session.get(lm.Membership, (project_id, reviewer_id)) is not None
            return now, None, ok
        html = _render_counts(session, token, reviewer_id, project_id)
        return now, html, html is not None


def _event(name: str, html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n"


@router.get("/projects/{project_id}/events")
def events(request: Request, session: DB, me: Me, project_id: int) -> Response:
    """Server-sent events: the counts partial, sent again whenever a number changes.

    Only counts are sent (no names, no decisions), so a stream never breaks blinding. The
    request's own database session is closed before streaming; each poll opens a short one.
    """
    accounts.require_role(session, me, project_id, lm.PROJECT_ROLES)
    reviewer_id = me.id
    session.close()
    engine: Engine = request.app.state.engine
    token = request.cookies.get(SESSION_COOKIE, "")
    lifetime = float(getattr(request.app.state, "sse_lifetime", SSE_LIFETIME))
    interval = float(getattr(request.app.state, "sse_interval", SSE_INTERVAL))

    async def stream() -> AsyncIterator[str]:
        deadline = time.monotonic() + lifetime
        seen: tuple[object, ...] | None = None
        while not await request.is_disconnected():
            seen, html, go_on = await anyio.to_thread.run_sync(
                _poll, engine, token, reviewer_id, project_id, seen
            )
            if html is not None:
                yield _event("counts", html)
            if not go_on or time.monotonic() >= deadline:
                return
            await anyio.sleep(interval)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


# --- screening ---------------------------------------------------------------------------------


def _card(
    session: Session, me: lm.Reviewer, project: lm.Project, stage: str, queue: str,
    **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """What the record card shows: the next record, its blinded votes, keys and reasons."""
    upcoming = workflow.next_record(session, me, project, stage, second_only=queue == "second")
    record = upcoming.record
    votes = [] if record is None else screening.visible_votes(session, me, record.id, stage)
    return _common(
        project=project, stage=stage, queue=queue, record=record, votes=votes,
        left=upcoming.left, assigned=upcoming.assigned, second=upcoming.second,
        keys=screen_keys.keys_of(session, me), reasons=list(project.exclusion_reasons), **extra,
    )  # fmt: skip


@router.get("/projects/{project_id}/screen")
def screen(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    stage: Stage = "title_abstract", queue: QueueKind = "all",
) -> Response:  # fmt: skip
    """The next record of the reviewer's queue, screened with single keys (screen.js)."""
    project = accounts.require_role(session, me, project_id, accounts.VOTING_ROLES)
    if calibration.current(session, project) is not None:  # screening waits for the round
        return RedirectResponse(f"/projects/{project.id}/calibration", status_code=303)
    return render(request, who, "screen.html", **_card(session, me, project, stage, queue))


def _names(session: Session, votes: list[lm.Vote]) -> list[tuple[str, lm.Vote]]:
    named = []
    for vote in votes:
        reviewer = session.get(lm.Reviewer, vote.reviewer_id)
        named.append(("" if reviewer is None else reviewer.name, vote))
    return named


@router.post("/projects/{project_id}/records/{record_id}/vote")
def vote(
    request: Request, session: DB, who: Who, me: Me, project_id: int, record_id: int,
    decision: Annotated[str, Form()], stage: Annotated[Stage, Form()],
    reason: Annotated[str, Form()] = "", queue: Annotated[QueueKind, Form()] = "all",
) -> Response:  # fmt: skip
    """Cast a vote; htmx gets the next record's card, a plain form post a redirect."""
    project = accounts.require_role(session, me, project_id, accounts.VOTING_ROLES)

    def cast(s: Session) -> Outcome:
        calibration.require_screening_open(s, project)
        return workflow.vote(s, me, project, record_id, stage, decision, when=accounts.now(),
                             reason=reason)  # fmt: skip

    try:
        result = retry_in_session(session, cast)  # a transient conflict is rerun, not a 500
    except InputError as error:
        session.rollback()
        context = _card(session, me, project, stage, queue, error=str(error))
        if _is_htmx(request):  # 409: refused, not stored (htmx swaps it: see base.html)
            return render(request, who, "_card.html", 409, **context)
        return render(request, who, "screen.html", 400, **context)
    if not _is_htmx(request):
        return RedirectResponse(
            f"/projects/{project.id}/screen?stage={stage}&queue={queue}", status_code=303
        )
    voted = session.get(lm.LitRecord, record_id)
    # Blinding: visible_votes gives the others' votes only now that this reviewer has voted
    # and only once every required vote is in.
    seen = screening.visible_votes(session, me, record_id, stage)
    saved = {"record": voted, "decision": decision, "reason": reason,
             "outcome": result.value, "votes": _names(session, seen)}  # fmt: skip
    return render(request, who, "_card.html", **_card(session, me, project, stage, queue,
                                                      saved=saved))  # fmt: skip


# --- assignment and members ----------------------------------------------------------------------


@router.post("/projects/{project_id}/assign")
def assign(
    request: Request, session: DB, who: Who, me: Me, project_id: int,
    stage: Annotated[Stage, Form()], mode: Annotated[Literal["count", "split"], Form()] = "count",
    reviewer_id: Annotated[str, Form()] = "", count: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Assign N unclaimed records to one reviewer, or split all of them evenly (owners)."""
    project = accounts.require_role(session, me, project_id, workflow.OWNER_ROLES)
    when = accounts.now()
    try:
        if mode == "split":
            added = workflow.split_evenly(session, me, project, stage, when=when)
            n = sum(len(ids) for ids in added.values())
        else:
            if not reviewer_id.isdigit() or not count.isdigit():
                raise InputError("assign: choose a reviewer and a number of records")
            n = len(workflow.assign(session, me, project, int(reviewer_id), stage, int(count),
                                    when=when))  # fmt: skip
    except InputError as error:
        session.rollback()
        return _project_page(request, session, who, me, project, error=str(error), status=400)
    return RedirectResponse(f"/projects/{project.id}?assigned={n}", status_code=303)


@router.post("/projects/{project_id}/members/{reviewer_id}/remove")
def remove_member(
    request: Request, session: DB, who: Who, me: Me, project_id: int, reviewer_id: int
) -> Response:
    """Remove a member (owners): pending votes go back in the queue, conflicts keep theirs."""
    project = accounts.require_role(session, me, project_id, workflow.OWNER_ROLES)
    try:
        removal = workflow.remove_member(session, me, project, reviewer_id, when=accounts.now())
    except InputError as error:
        session.rollback()
        return _project_page(request, session, who, me, project, error=str(error), status=400)
    counts = f"requeued={len(removal.requeued)}&kept={len(removal.kept_conflicts)}"
    return RedirectResponse(f"/projects/{project.id}?{counts}", status_code=303)


# --- conflicts -----------------------------------------------------------------------------------


@router.get("/projects/{project_id}/conflicts")
def conflicts(request: Request, session: DB, who: Who, me: Me, project_id: int) -> Response:
    """Every open conflict with all its votes and reasons (resolvers and owners)."""
    project = accounts.require_role(session, me, project_id, accounts.RESOLVING_ROLES)
    found = workflow.conflicts(session, me, project)
    context = _common(project=project, conflicts=found, **_resolver(session, me, project, found))
    return render(request, who, "conflicts.html", **context)


def _resolver(
    session: Session, me: lm.Reviewer, project: lm.Project, found: list[workflow.Conflict]
) -> dict[str, Any]:
    """Who may settle, the reasons, and the full-text links of each conflict's record."""
    designated = session.get(lm.Reviewer, project.resolver_id) if project.resolver_id else None
    return {
        "fulltexts": {c.record.id: fulltext.of(session, c.record) for c in found},
        "can_settle": project.resolver_id == me.id,
        "resolver_name": "" if designated is None else designated.name,
        "reasons": list(project.exclusion_reasons),
    }


@router.post("/projects/{project_id}/records/{record_id}/resolve")
def resolve(
    request: Request, session: DB, who: Who, me: Me, project_id: int, record_id: int,
    decision: Annotated[str, Form()], stage: Annotated[Stage, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Settle one conflict (the designated resolver); htmx swaps the conflict for the result."""
    project = accounts.require_role(session, me, project_id, accounts.RESOLVING_ROLES)
    try:
        result = workflow.settle(
            session, me, project, record_id, stage, decision, when=accounts.now(), reason=reason
        )
    except InputError as error:
        session.rollback()
        found = [c for c in workflow.conflicts(session, me, project)
                 if c.record.id == record_id and c.stage == stage]  # fmt: skip
        context = _common(project=project, conflicts=found, error=str(error),
                          **_resolver(session, me, project, found))  # fmt: skip
        if _is_htmx(request) and found:
            return render(request, who, "_conflict.html", conflict=found[0], **context)
        return render(request, who, "conflicts.html", 400, **context)
    if not _is_htmx(request):
        return RedirectResponse(f"/projects/{project.id}/conflicts", status_code=303)
    record = session.get(lm.LitRecord, record_id)
    return render(request, who, "_resolved.html",
                  **_common(project=project, record=record, stage=stage, decision=decision,
                            reason=reason, outcome=result.value))  # fmt: skip
