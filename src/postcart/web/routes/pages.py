"""The home page: what the reader can open, and the signed-in reviewer's projects."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from postcart.literature import accounts, store
from postcart.web.app import DB, Who, render

router = APIRouter()


@router.get("/")
def home(request: Request, session: DB, who: Who) -> Response:
    """Links to the living review and the decision aid; projects with roles when signed in."""
    projects = []
    if who.reviewer is not None:
        for project in store.projects_of(session, who.reviewer):
            projects.append((project, accounts.role_in(session, who.reviewer, project.id)))
    return render(request, who, "home.html", projects=projects)
