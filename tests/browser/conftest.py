"""A live workbench for the browser tests: uvicorn on a free port, a fresh SQLite database.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; nothing is downloaded.
axe-core is vendored beside these tests (``vendor/``, MPL-2.0) and injected into the page.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate
from postcart.literature import accounts

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AXE = HERE / "vendor" / "axe-4.14.1.min.js"
SHOTS = ROOT / "out" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Made-up accounts for the throw-away database (not real people).
ACCOUNTS = {"alice": ("alice-pass-1", "owner"), "bob": ("bob-pass-2", "member")}


@dataclass
class LiveServer:
    """Where the workbench listens, and its database URL for setting up test data."""

    url: str
    database_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app served by uvicorn in a thread, with alice (owner) and bob."""
    import uvicorn

    from postcart.web import create_app

    database_url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        for name, (password, role) in ACCOUNTS.items():
            accounts.add_user(session, name, password, site_role=role)
    engine.dispose()
    app = create_app(database_url)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("the workbench did not start")
    yield LiveServer(url, database_url)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Debian's Chromium through Playwright (module-wide; each test opens its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield instance
        instance.close()


class Page:
    """A Playwright page that records console errors and can run axe-core."""

    def __init__(self, browser: Any, base: str) -> None:
        # bypass_csp only so the test can inject axe-core; the app's own CSP stays on.
        self.base = base.rstrip("/")
        self.context = browser.new_context(base_url=base, bypass_csp=True)
        # A loaded 2-core CI machine can take longer than Playwright's 30 s default to render.
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def axe_serious(self) -> list[str]:
        """Serious or critical accessibility violations axe-core finds on the current page."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("async () => await axe.run(document)")
        return [
            f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def shot(self, name: str) -> None:
        """A screenshot under out/screenshots/."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)

    def sign_in(self, name: str) -> None:
        """Sign in through the form, by keyboard."""
        self.page.goto("/login")
        self.page.fill("#username", name)
        self.page.fill("#password", ACCOUNTS[name][0])
        self.page.press("#password", "Enter")
        self.page.wait_for_url(lambda url: url.rstrip("/").endswith(self.base))
        self.page.wait_for_load_state()

    def close(self) -> None:
        """Close the context."""
        self.context.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context on the live workbench."""
    p = Page(browser, live_server.url)
    yield p
    p.close()
