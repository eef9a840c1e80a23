"""The web workbench: one FastAPI app over the same core the CLI calls.

Routes stay as thin as commands: read the request, make one core call, render a template.
Pages are server-rendered Jinja2 (autoescaped) with htmx, vendored in ``static/`` and pinned.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate
from postcart.errors import AccessError
from postcart.literature import accounts
from postcart.literature import models as lm
from postcart.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    LoginThrottle,
    check_origin,
    submitted_token,
    tokens_match,
)

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
#: The vendored htmx build (pinned: file name carries the version; licence beside it).
HTMX = "htmx-2.0.11.min.js"
HTMX_SSE = "htmx-ext-sse-2.2.4.min.js"
TEMPLATES.env.globals.update(htmx=HTMX, htmx_sse=HTMX_SSE)


class Viewer:
    """Who is asking: a signed-in reviewer with their CSRF token, or an anonymous reader."""

    def __init__(self, reviewer: lm.Reviewer | None, csrf_token: str) -> None:
        self.reviewer = reviewer
        self.csrf_token = csrf_token

    @property
    def signed_in(self) -> bool:
        """Whether a reviewer is signed in."""
        return self.reviewer is not None


def db(request: Request) -> Iterator[Session]:
    """One database session per request, committed when the route returns normally."""
    engine: Engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


DB = Annotated[Session, Depends(db)]


async def viewer(request: Request, session: DB) -> Viewer:
    """The signed-in reviewer (from the session cookie), checked for CSRF on unsafe requests."""
    found = accounts.find_session(session, request.cookies.get(SESSION_COOKIE))
    reviewer, token = found if found is not None else (None, request.cookies.get(CSRF_COOKIE, ""))
    if request.method in UNSAFE_METHODS:
        check_origin(request)
        if not tokens_match(token, await submitted_token(request)):
            raise HTTPException(403, "missing or wrong CSRF token")
    return Viewer(reviewer, token or "")


Who = Annotated[Viewer, Depends(viewer)]


def signed_in(who: Who) -> lm.Reviewer:
    """The reviewer, or 401 for an anonymous request (pages redirect to /login instead)."""
    if who.reviewer is None:
        raise HTTPException(401, "sign in first")
    return who.reviewer


def render(request: Request, who: Viewer, name: str, status: int = 200, **context: Any) -> Response:
    """A template with the viewer and CSRF token every form needs."""
    context.update(request=request, who=who, csrf_token=who.csrf_token)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def create_app(database_url: str | None = None, *, https: bool = False) -> FastAPI:
    """The workbench on ``database_url`` (default: ``DATABASE_URL`` or the SQLite file).

    ``https`` marks cookies Secure; set it when the app is served over TLS (docs/web.md).
    """
    from postcart.web.routes import (
        advise,
        auth,
        calibration,
        evidence,
        extraction,
        health,
        pages,
        records,
        review,
        screening,
        settings,
        team,
    )

    engine = make_engine(database_url)
    migrate(engine)
    app = FastAPI(title="postcart workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.https = https
    app.state.throttle = LoginThrottle()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    #: Kept on the app so tests can walk every route (security checks over all of them).
    app.state.routers = (
        health.router,
        auth.router,
        pages.router,
        review.router,
        evidence.router,
        advise.router,
        team.router,  # before screening: "/projects/new" must not read as a project id
        settings.router,
        calibration.router,
        records.router,
        screening.router,
        extraction.router,
    )
    for router in app.state.routers:
        app.include_router(router)

    @app.exception_handler(AccessError)
    async def _access(request: Request, error: AccessError) -> Response:
        # Not "forbidden": a project one may not see and one that does not exist look alike.
        return JSONResponse({"detail": "not found"}, status_code=404)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if error.status_code == 401 and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(status_code=303, headers={"location": "/login"})
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        # Server time in ms, for proxies and the load benchmark (benchmarks/web_votes.py).
        response.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - started):.1f}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    return app


__all__ = ["DB", "Viewer", "Who", "create_app", "render", "signed_in"]
