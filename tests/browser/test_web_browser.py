"""The workbench in Chromium: sign in by keyboard, no console errors, no serious axe findings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.browser.conftest import ACCOUNTS, SHOTS, LiveServer, Page

from postcart.db import make_engine
from postcart.literature import models as lm
from postcart.literature import screening, store
from postcart.literature.extraction import EXTRACTED_DIR_ENV
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


#: A made-up study (labelled as such in its citation), typed into the extraction form.
STUDY = "Invented real-world CAR T cohort (browser test data)"
C0 = "studies[0].cohorts[0]"
ORR = f"{C0}.outcomes[0]"
EXTRACTED = {
    "source.citation": "Invented B, et al. A real-world CD19 CAR T cohort "
    "(invented for tests; not clinical data). J Test 2025.",
    "source.first_author": "Inventedb",
    "source.year": "2025",
    "studies[0].name": STUDY,
    "studies[0].design": "real_world",
    "studies[0].region": "Testland",
    "studies[0].disease": "LBCL",
    f"{C0}.label": "Infused",
    f"{C0}.intervention": "axicabtagene ciloleucel",
    f"{C0}.products": "axi-cel",
    f"{C0}.role": "cart_all_comers",
    f"{C0}.denominator_basis": "treated",
    f"{C0}.n": "400",
    f"{C0}.n_provenance.kind": "primary",
    f"{C0}.n_provenance.locator": "Table 1",
    f"{ORR}.measure": "orr",
    f"{ORR}.value": "40.0",
    f"{ORR}.unit": "percent",
    f"{ORR}.events": "160",
    f"{ORR}.provenance.kind": "primary",
    f"{ORR}.provenance.locator": "Table 2",
}


def _included_record(live: LiveServer) -> tuple[int, int]:
    """A single-extractor project of alice's with one record included at full text."""
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, "alice", ACCOUNTS["alice"][0])
            project = store.create_project(
                session, "extraction e2e", [alice], resolver=alice,
                reviewers_title_abstract=1, reviewers_full_text=1,
            )  # fmt: skip
            session.get_one(lm.Membership, (project.id, alice.id)).role = "owner"
            made_up = Record(
                title="Made-up study to extract (browser test)", source_file="made-up.ris",
                source_line=1, source_format="ris", journal="J Test", year=2025,
            )  # fmt: skip
            store.import_records(
                session, project, [made_up], file="made-up.ris", format="ris",
                imported_at=datetime(2026, 12, 1), update_no=1,
            )  # fmt: skip
            (record,) = store.records_of(session, alice, project)
            when = datetime(2026, 12, 1)
            screening.cast_vote(session, alice, record.id, screening.TITLE_ABSTRACT, "yes", when)
            screening.set_retrieved(session, alice, record.id, True)
            screening.cast_vote(session, alice, record.id, screening.FULL_TEXT, "yes", when)
            return project.id, record.id
    finally:
        engine.dispose()


def _pooled_orr(page: Page) -> tuple[str, str]:
    """The real-world ORR analysis page: its printed pooled value and its whole text."""
    page.page.goto("/review/analyses/rw_orr")
    return page.page.locator("#pooled-value").inner_text(), page.page.locator("main").inner_text()


def test_extract_one_study_and_the_pooled_estimate_changes(
    page: Page,
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EXTRACTED_DIR_ENV, str(tmp_path / "extracted"))
    project_id, record_id = _included_record(live_server)
    page.sign_in("alice")
    value_before, before = _pooled_orr(page)
    assert STUDY not in before
    page.page.goto(f"/projects/{project_id}/extract/{record_id}")
    for name, value in EXTRACTED.items():
        field = page.page.locator(f'[name="{name}"]')
        if field.evaluate("(e) => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.shot("web_extraction_form")
    page.page.locator("button[value=accept]").click()
    page.page.wait_for_load_state()
    assert list((tmp_path / "extracted").glob("*.yaml")), "no evidence file was written"
    value_after, after = _pooled_orr(page)  # the review rebuilt with the accepted study
    assert STUDY in after
    # 160/400 = 40% pulls the pooled ORR (72.0% today) down
    assert float(value_after.rstrip("%")) < float(value_before.rstrip("%"))
    page.shot("web_review_after_extraction")
    assert page.errors == []
