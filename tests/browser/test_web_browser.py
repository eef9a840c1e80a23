"""The workbench in Chromium: sign in by keyboard, no console errors, no serious axe findings."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session
from tests.browser.conftest import ACCOUNTS, SHOTS, LiveServer, Page

from postcart.db import make_engine
from postcart.literature import models as lm
from postcart.literature import store
from postcart.literature.records import Record

pytestmark = pytest.mark.browser


def test_sign_in_by_keyboard_and_home_is_accessible(page: Page) -> None:
    page.sign_in("alice")
    assert page.page.locator("header .who").inner_text() == "alice"
    page.shot("web_home")
    assert page.axe_serious() == []
    assert page.errors == []


def test_login_page_is_accessible_and_refuses_a_wrong_password(page: Page) -> None:
    page.page.goto("/login")
    assert page.axe_serious() == []
    page.page.fill("#username", "alice")
    page.page.fill("#password", "not-her-password")
    page.page.press("#password", "Enter")
    page.page.wait_for_selector(".error")
    assert "wrong password" in page.page.locator(".error").inner_text()
    # 401 answers show in the console as a failed resource load; nothing else may.
    assert [e for e in page.errors if "401" not in e] == []


def _project(live: LiveServer, records: int) -> int:
    """A dual-screening project of alice (owner, resolver) and bob with made-up records."""
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, "alice", ACCOUNTS["alice"][0])
            bob = store.authenticate(session, "bob", ACCOUNTS["bob"][0])
            project = store.create_project(session, "browser e2e", [alice, bob], resolver=alice)
            session.get_one(lm.Membership, (project.id, alice.id)).role = "owner"
            made_up = [
                Record(
                    title=f"Made-up record {i}: salvage after CD19 CAR T (browser test)",
                    source_file="made-up.ris", source_line=i + 1, source_format="ris",
                    abstract=f"Made-up abstract {i}; not a real study.", journal="J Test",
                    year=2024,
                )
                for i in range(records)
            ]  # fmt: skip
            store.import_records(
                session, project, made_up, file="made-up.ris", format="ris",
                imported_at=datetime(2026, 12, 1), update_no=1,
            )  # fmt: skip
            return project.id
    finally:
        engine.dispose()


def _screen_by_keyboard(page: Page, project_id: int, keys: list[str]) -> None:
    """Vote with single key presses only; each vote swaps in the next record (no reload)."""
    page.page.goto(f"/projects/{project_id}/screen?stage=title_abstract")
    loads = {"n": 0}

    page.page.on("load", lambda _: loads.__setitem__("n", loads["n"] + 1))
    for key in keys:
        title = page.page.locator("#record-title").inner_text()
        page.page.keyboard.press(key)
        # the next record is in and settled (screen.js clears aria-busy): the next key lands
        page.page.wait_for_function(
            "(t) => { const h = document.getElementById('record-title');"
            " const card = document.getElementById('screen-card');"
            " return card.getAttribute('aria-busy') === 'false' && (!h || h.innerText !== t); }",
            arg=title,
        )
    assert loads["n"] == 0, "a vote reloaded the page"
    assert page.page.locator("#record-title").count() == 0  # the queue is empty


def _wait_count(page: Page, name: str, value: str) -> None:
    page.page.wait_for_function(
        "([n, v]) => { const c = document.querySelector(`[data-count=${n}]`);"
        " return c && c.innerText.trim() === v; }",
        arg=[name, value],
        timeout=15_000,
    )


def test_two_reviewers_screen_by_keyboard_the_resolver_settles_prisma_updates_live(
    browser: object, live_server: LiveServer
) -> None:
    records = 20
    project_id = _project(live_server, records)
    alice, bob = Page(browser, live_server.url), Page(browser, live_server.url)
    try:
        alice.sign_in("alice")
        watch = alice.context.new_page()  # alice's project page stays open: counts arrive live
        watch.goto(f"/projects/{project_id}")
        assert watch.locator("[data-count=records_awaiting]").first.inner_text() == str(records)
        bob.sign_in("bob")
        _screen_by_keyboard(bob, project_id, ["n"] + ["y"] * (records - 1))
        bob.shot("web_screening_bob_done")
        _screen_by_keyboard(alice, project_id, ["y"] * records)
        watcher = Page.__new__(Page)
        watcher.page, watcher.errors = watch, []
        _wait_count(watcher, "records_screened", str(records - 1))  # one conflict left
        _wait_count(watcher, "conflicts", "1")
        alice.page.goto(f"/projects/{project_id}/conflicts")
        assert "bob" in alice.page.locator(".conflict").inner_text()  # both votes shown now
        alice.shot("web_conflict")
        alice.page.locator(".conflict button[value=yes]").click()
        alice.page.wait_for_selector(".conflict form", state="detached")
        _wait_count(watcher, "records_screened", str(records))
        _wait_count(watcher, "conflicts", "0")
        watch.screenshot(path=str(SHOTS / "web_project_live.png"))
        assert alice.axe_serious() == []
        assert bob.errors == []
        assert alice.errors == []
    finally:
        alice.close()
        bob.close()


def test_decision_aid_form_gives_tiers_and_is_accessible(page: Page) -> None:
    page.page.goto("/advise")
    page.page.select_option("select[name=histology]", "DLBCL")
    page.page.select_option("select[name=cd19_status]", "negative")
    page.page.fill("input[name=days_to_progression]", "75")
    page.page.locator("#profile-form button[type=submit]").first.click()
    page.page.wait_for_selector("#advice .tier")
    assert page.page.locator("#advice .tier").count() >= 1
    assert "research and education" in page.page.content()
    page.shot("web_decision_aid")
    assert page.axe_serious() == []
    assert page.errors == []


def test_living_review_analysis_page_shows_its_population_and_plot(page: Page) -> None:
    page.page.goto("/review/analyses/rw_orr")
    assert "all-comers" in page.page.content()
    plot = page.page.locator("img").first
    assert page.page.evaluate("(i) => i.naturalWidth > 0", plot.element_handle())
    page.shot("web_review_analysis")
    assert page.axe_serious() == []
    assert page.errors == []
