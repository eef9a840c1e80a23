"""The team flow in Chromium: create a project, invite by link, join with a new account, set
one's own keys and screen by keyboard with them; no console errors, no serious axe findings."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.browser.conftest import LiveServer, Page

from postcart.db import make_engine
from postcart.literature import models as lm
from postcart.literature import store
from postcart.literature.records import Record

pytestmark = pytest.mark.browser

#: A made-up person who joins through the invitation (not a real account anywhere).
DANA = ("dana", "dana-pass-77")


def _records(live: LiveServer, project_id: int, n: int) -> None:
    """Made-up records for the project (the workbench has no import page)."""
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session, session.begin():
            project = session.get_one(lm.Project, project_id)
            made_up = [
                Record(title=f"Made-up team record {i}: CAR T relapse (browser test)",
                       source_file="made-up.ris", source_line=i + 1, source_format="ris",
                       abstract=f"Made-up abstract {i}; not a real study.", journal="J Test",
                       year=2025)
                for i in range(n)
            ]  # fmt: skip
            store.import_records(session, project, made_up, file="made-up.ris", format="ris",
                                 imported_at=datetime(2026, 12, 2), update_no=1)  # fmt: skip
    finally:
        engine.dispose()


def _votes_of(live: LiveServer, name: str) -> list[str]:
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session:
            query = (
                select(lm.Vote.decision)
                .join(lm.Reviewer, lm.Reviewer.id == lm.Vote.reviewer_id)
                .where(lm.Reviewer.name == name)
            )
            return list(session.scalars(query))
    finally:
        engine.dispose()


def test_invite_accept_and_screen_with_own_keys(browser: object, live_server: LiveServer) -> None:
    alice, dana = Page(browser, live_server.url), Page(browser, live_server.url)
    try:
        alice.sign_in("alice")
        new = alice.page.locator("a[href='/projects/new']")
        assert new.count() == 1, alice.page.content()[-3000:]  # site owners may create projects
        new.click()
        alice.page.fill("#project-name", "team e2e")
        alice.page.select_option("#project-ta", "1")  # one reviewer per record: dana alone
        alice.page.click("button:has-text('Create the project')")
        alice.page.wait_for_url("**/team")
        project_id = int(alice.page.url.split("/")[-2])
        _records(live_server, project_id, 3)
        alice.page.select_option("#invite-role", "reviewer")
        alice.page.fill("#invite-note", "dana, new screener")
        alice.page.click("button:has-text('Make an invitation link')")
        link = alice.page.locator("#invite-link").input_value()
        assert "/invite/" in link
        alice.shot("web_team_invitation")
        assert alice.axe_serious() == []

        dana.page.goto(link)
        assert "You are invited as" in dana.page.locator("main").inner_text()
        assert dana.axe_serious() == []
        dana.page.fill("#username", DANA[0])
        dana.page.fill("#password", DANA[1])
        dana.page.fill("#repeated", DANA[1])
        dana.page.press("#repeated", "Enter")
        dana.page.wait_for_url(f"**/projects/{project_id}")
        assert dana.page.locator("header .who").inner_text() == DANA[0]

        dana.page.goto("/settings/keys")
        assert dana.axe_serious() == []
        for field, key in (("#key-yes", "j"), ("#key-maybe", "k"), ("#key-no", "l")):
            dana.page.fill(field, key)
        dana.page.click("button:has-text('Save keys')")
        dana.page.wait_for_selector(".notice")

        dana.page.goto(f"/projects/{project_id}/screen")
        assert "<kbd>j</kbd>" in dana.page.inner_html("main")  # her keys, shown on screen
        for key in ("j", "l", "k"):
            title = dana.page.locator("#record-title").inner_text()
            dana.page.keyboard.press(key)
            dana.page.wait_for_function(
                "(t) => { const h = document.getElementById('record-title');"
                " const card = document.getElementById('screen-card');"
                " return card.getAttribute('aria-busy') === 'false'"
                " && (!h || h.innerText !== t); }",
                arg=title,
            )
        assert dana.page.locator("#record-title").count() == 0  # queue done
        dana.shot("web_team_screened_with_own_keys")
        assert sorted(_votes_of(live_server, DANA[0])) == ["maybe", "no", "yes"]

        alice.page.goto(f"/projects/{project_id}/team")
        assert "accepted by dana" in alice.page.locator("main").inner_text()
        assert alice.errors == []
        assert dana.errors == []
    finally:
        alice.close()
        dana.close()
