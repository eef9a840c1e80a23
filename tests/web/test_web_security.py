"""Sign-in, sessions, CSRF on every unsafe route, cookie flags, throttling, the audit log."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.web.conftest import ALICE, BOB, WebClient, csrf_of, sign_in

from postcart.db import make_engine
from postcart.literature import accounts, store
from postcart.literature import models as lm


def test_healthz_answers_ok(client: WebClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_login_form_posts_username_password_and_a_token(client: WebClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'action="/login"' in page.text
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in page.text
    assert csrf_of(page.text)


def test_sign_in_sets_a_session_cookie_with_the_flags(client: WebClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": ALICE[0], "password": ALICE[1], "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if "postcart_session" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    assert ALICE[0] in client.get("/").text


def test_cookies_are_secure_behind_https(web_url: str) -> None:
    from postcart.web import create_app

    app = create_app(web_url, https=True)
    c = WebClient(app, base_url="https://testserver")
    try:
        assert "Secure" in c.get("/login").headers["set-cookie"]
    finally:
        c.close()
        app.state.engine.dispose()


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"origin": "null"},
    ],
)
def test_cross_origin_login_is_refused(client: WebClient, headers: dict[str, str]) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": ALICE[0], "password": ALICE[1], "csrf_token": token},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 403


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_login_without_the_right_token_is_refused(client: WebClient, token: str | None) -> None:
    client.get("/login")
    data = {"username": ALICE[0], "password": ALICE[1]}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/login", data=data).status_code == 403


def _unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for router in app.state.routers:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
                path = re.sub(r"\{[a-z_]+\}", "1", route.path)
                found.append((method, path))
    return sorted(found)


def test_every_unsafe_route_refuses_cross_origin_and_missing_tokens(
    app: FastAPI, client: WebClient
) -> None:
    routes = _unsafe_routes(app)
    assert ("POST", "/login") in routes
    assert ("POST", "/logout") in routes
    token = sign_in(client, *ALICE)
    for method, path in routes:
        missing = client.request(method, path, data={"x": "1"})
        assert missing.status_code == 403, (method, path, "missing token")
        wrong = client.request(method, path, data={"csrf_token": "not-the-token"})
        assert wrong.status_code == 403, (method, path, "wrong token")
        cross = client.request(
            method, path, data={"csrf_token": token}, headers={"origin": "https://evil.example"}
        )
        assert cross.status_code == 403, (method, path, "cross origin")


def test_sign_out_ends_the_session_server_side(client: WebClient) -> None:
    token = sign_in(client, *ALICE)
    cookie = client.cookies.get("postcart_session")
    assert cookie
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set("postcart_session", cookie)  # replaying the old cookie opens nothing
    assert ALICE[0] not in client.get("/").text


def test_failed_sign_ins_are_throttled(client: WebClient) -> None:
    for _ in range(5):
        token = csrf_of(client.get("/login").text)
        bad = {"username": BOB[0], "password": "guess", "csrf_token": token}
        assert client.post("/login", data=bad).status_code == 401
    token = csrf_of(client.get("/login").text)
    good = {"username": BOB[0], "password": BOB[1], "csrf_token": token}
    assert client.post("/login", data=good).status_code == 429


def test_sign_in_is_audited_and_the_log_is_append_only(client: WebClient, web_url: str) -> None:
    sign_in(client, *ALICE)
    engine = make_engine(web_url)
    try:
        with Session(engine) as session:
            events = accounts.trail(session, entity="user")
            assert [e.action for e in events][-1] == "sign_in"
            assert {e.action for e in events} >= {"create", "sign_in"}
        for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_passwords_are_stored_hashed(web_url: str) -> None:
    engine = make_engine(web_url)
    try:
        with Session(engine) as session:
            alice = store.authenticate(session, *ALICE)
            assert ALICE[1] not in (alice.password_hash, alice.password_salt)
            assert len(alice.password_hash) == 128  # scrypt, 64 bytes hex
    finally:
        engine.dispose()


def test_names_render_inert(client: WebClient, web_url: str) -> None:
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, *ALICE)
            store.create_project(session, "<script>alert(1)</script>", [alice])
    finally:
        engine.dispose()
    sign_in(client, *ALICE)
    page = client.get("/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_non_member_cannot_see_a_project_by_id(web_url: str) -> None:
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, *ALICE)
            bob = store.authenticate(session, *BOB)
            project = store.create_project(session, "alice only", [alice])
            with pytest.raises(Exception, match="not found"):
                accounts.require_role(session, bob, project.id, lm.PROJECT_ROLES)
            with pytest.raises(Exception, match="not found"):
                accounts.require_role(session, bob, project.id + 999, lm.PROJECT_ROLES)
    finally:
        engine.dispose()
