"""Sign in and sign out: scrypt-checked passwords, throttled failures, server-side sessions."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from postcart.errors import InputError
from postcart.literature import accounts, store
from postcart.web.app import DB, Who, render
from postcart.web.security import CSRF_COOKIE, SESSION_COOKIE

router = APIRouter()


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax",
        secure=bool(request.app.state.https), path="/",
    )  # fmt: skip


@router.get("/login")
def login_form(request: Request, who: Who) -> Response:
    """The sign-in form; its CSRF token is also set as a cookie (checked on submit)."""
    token = who.csrf_token if who.signed_in else secrets.token_urlsafe(32)
    who.csrf_token = token
    response = render(request, who, "login.html")
    if not who.signed_in:
        _cookie(request, response, CSRF_COOKIE, token, 3600)
    return response


@router.post("/login")
def login(
    request: Request,
    session: DB,
    who: Who,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Check the password; on success open a session and go home, else show the form again."""
    throttle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    if throttle.blocked(username, address):
        return render(request, who, "login.html", 429,
                      error="Too many failed attempts; wait a few minutes.")  # fmt: skip
    try:
        reviewer = store.authenticate(session, username, password)
    except InputError:
        throttle.failed(username, address)
        return render(request, who, "login.html", 401, error="Unknown name or wrong password.")
    throttle.succeeded(username)
    opened = accounts.open_session(session, reviewer)
    response = RedirectResponse("/", status_code=303)
    lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
    _cookie(request, response, SESSION_COOKIE, opened.token, lifetime)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: DB, who: Who) -> Response:
    """Close the session (the row is deleted) and clear the cookie."""
    accounts.close_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
