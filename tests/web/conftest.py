"""A fresh workbench per test (SQLite file, or the test PostgreSQL server) with two accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate
from postcart.literature import accounts

#: Made-up accounts (not real people); passwords only for these throw-away databases.
ALICE = ("alice", "alice-pass-1")
BOB = ("bob", "bob-pass-2")


@pytest.fixture
def web_url(database_url: str) -> str:
    """An empty database with the schema and two accounts, alice (owner) and bob (member)."""
    url = database_url
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        accounts.add_user(session, *ALICE, site_role="owner")
        accounts.add_user(session, *BOB)
    engine.dispose()
    return url


@pytest.fixture
def app(web_url: str) -> Iterator[FastAPI]:
    """The workbench on the test database (its engine closed afterwards)."""
    from postcart.web import create_app

    application = create_app(web_url)
    yield application
    application.state.engine.dispose()


class WebClient:
    """httpx against the ASGI app, driven synchronously through an anyio portal.

    Cookies persist across requests like a browser's; redirects are not followed unless asked.
    """

    def __init__(self, app: FastAPI, base_url: str = "http://testserver") -> None:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookie jar."""
        return self._client.cookies

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, as a browser on this site would send it."""
        return self._portal.call(lambda: self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET ``url``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST ``url``."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Close the client and its event loop."""
        self._portal.call(self._client.aclose)
        self._portal_cm.__exit__(None, None, None)


@pytest.fixture
def client(app: FastAPI) -> Iterator[WebClient]:
    """A browser-like client (same-origin requests, cookies kept)."""
    c = WebClient(app)
    yield c
    c.close()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: WebClient, name: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token (read off the home page)."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
