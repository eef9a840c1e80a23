"""Extraction in the browser on SQLite and PostgreSQL: access, CSRF, blinding, problems shown at
their fields, and the living loop from two extractions to a pooled estimate on /review.

alice owns the project and resolves; bob and carol extract; dave has an account but is not a
member; erin is a viewer. The study extracted is made up (invented for tests; not clinical data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import httpx
import lxml.html
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from lxml.html import HtmlElement
from sqlalchemy.orm import Session
from tests.web.conftest import ALICE, BOB, WebClient, csrf_of, sign_in

from postcart.db import make_engine
from postcart.literature import accounts, extraction, screening, store
from postcart.literature import models as lm
from postcart.literature.records import Record
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT
from postcart.web.routes import extraction as extraction_routes

WHEN = datetime(2026, 3, 4, 5, 6, 7)
CAROL = ("carol", "carol-pass-3")
DAVE = ("dave", "dave-pass-4")
ERIN = ("erin", "erin-pass-5")
STUDY = "Invented real-world CAR T cohort (test data)"
C0 = "studies[0].cohorts[0]"
ORR = f"{C0}.outcomes[0]"
#: The made-up study as bob types it; carol reads a different ORR (70.0%, 84 of 120).
ANSWERS = {
    "source.citation": "Invented A, et al. A real-world CD19 CAR T cohort "
    "(invented for tests; not clinical data). J Test 2025.",
    "source.first_author": "Invented",
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
    f"{C0}.n": "120",
    f"{C0}.n_provenance.kind": "primary",
    f"{C0}.n_provenance.locator": "Table 1",
    f"{ORR}.measure": "orr",
    f"{ORR}.value": "68.3",
    f"{ORR}.unit": "percent",
    f"{ORR}.events": "82",
    f"{ORR}.provenance.kind": "primary",
    f"{ORR}.provenance.locator": "Table 2",
}
CAROLS = {**ANSWERS, f"{ORR}.value": "70.0", f"{ORR}.events": "84"}


@dataclass
class Setup:
    project_id: int
    record_id: int
    excluded_id: int
    other_record_id: int


def _include(session: Session, voters: list[lm.Reviewer], record_id: int) -> None:
    for voter in voters:
        screening.cast_vote(session, voter, record_id, TITLE_ABSTRACT, "yes", WHEN)
    screening.set_retrieved(session, voters[0], record_id, True)
    for voter in voters:
        screening.cast_vote(session, voter, record_id, FULL_TEXT, "yes", WHEN)


def _records(prefix: str, n: int) -> list[Record]:
    return [
        Record(title=f"{prefix} made-up study {i} of CAR T", source_file="made-up.ris",
               source_line=i + 1, source_format="ris", journal="J Test", year=2025,
               authors=("Invented A", "Madeup B"), first_author="Invented")
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def setup(web_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """One project with an included record (and one not included); another project's record."""
    monkeypatch.setenv(extraction.EXTRACTED_DIR_ENV, str(tmp_path / "extracted"))
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, *ALICE)
            bob = store.authenticate(session, *BOB)
            carol = accounts.add_user(session, *CAROL)
            accounts.add_user(session, *DAVE)
            erin = accounts.add_user(session, *ERIN)
            project = store.create_project(session, "cart19", [alice, bob, carol, erin],
                                           resolver=alice)  # fmt: skip
            session.get_one(lm.Membership, (project.id, alice.id)).role = "owner"
            session.get_one(lm.Membership, (project.id, erin.id)).role = "viewer"
            store.import_records(session, project, _records("Ours", 2), file="made-up.ris",
                                 format="ris", imported_at=WHEN, update_no=1)  # fmt: skip
            ours = store.records_of(session, alice, project)
            _include(session, [bob, carol], ours[0].id)
            other = store.create_project(session, "elsewhere", [alice, bob, carol])
            store.import_records(session, other, _records("Theirs", 1), file="made-up.ris",
                                 format="ris", imported_at=WHEN, update_no=1)  # fmt: skip
            theirs = store.records_of(session, alice, other)
            _include(session, [bob, carol], theirs[0].id)
            return Setup(project.id, ours[0].id, ours[1].id, theirs[0].id)
    finally:
        engine.dispose()


@dataclass
class Browser:
    """A signed-in browser and the CSRF token its forms carry."""

    client: WebClient
    token: str

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.post(url, **kwargs)

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        return self.client.request(method, url, **kwargs)


@pytest.fixture
def browsers(app: FastAPI) -> Iterator[dict[str, Browser]]:
    """One signed-in browser per person, keyed by name."""
    opened: dict[str, Browser] = {}
    try:
        for name, password in (ALICE, BOB, CAROL, DAVE, ERIN):
            client = WebClient(app)
            opened[name] = Browser(client, sign_in(client, name, password))
        yield opened
    finally:
        for browser in opened.values():
            browser.client.close()


def parse(html: str) -> HtmlElement:
    return cast(HtmlElement, lxml.html.fromstring(html))


def form_of(answers: dict[str, str], csrf: str, action: str = "save") -> dict[str, str]:
    return {**answers, "csrf_token": csrf, "action": action}


def _routes(s: Setup, record_id: int | None = None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in extraction_routes.router.routes:
        assert isinstance(route, APIRoute)
        path = route.path.replace("{project_id}", str(s.project_id))
        path = path.replace("{record_id}", str(record_id or s.record_id))
        found.extend((method, path) for method in sorted(route.methods or ()))
    return found


def test_every_route_answers_404_to_non_members_and_viewers(
    setup: Setup, browsers: dict[str, Browser], client: WebClient
) -> None:
    routes = _routes(setup)
    assert len(routes) == 5
    for name in ("dave", "erin"):
        browser = browsers[name]
        for method, path in routes:
            response = browser.request(method, path, data=form_of(ANSWERS, browser.token))
            assert response.status_code == 404, (name, method, path)
    # Members, but a record of another project, or one not included: 404 alike.
    for record_id in (setup.other_record_id, setup.excluded_id, 99_999):
        for method, path in _routes(setup, record_id):
            if path.endswith("/extract"):
                continue
            response = browsers["alice"].request(
                method, path, data=form_of(ANSWERS, browsers["alice"].token)
            )
            assert response.status_code == 404, (method, path)
    # Reviewers neither compare nor accept when the project has two extractors.
    for method, path in routes:
        if "/compare" in path or path.endswith("/accept"):
            response = browsers["bob"].request(
                method, path, data={"csrf_token": browsers["bob"].token}
            )
            assert response.status_code == 404, (method, path)
    # Anonymous readers are sent to sign in.
    first = client.get(routes[0][1], headers={"accept": "text/html"})
    assert first.status_code == 303
    assert first.headers["location"] == "/login"


def test_posts_without_the_right_csrf_token_are_refused(
    setup: Setup, browsers: dict[str, Browser]
) -> None:
    bob = browsers["bob"]
    for method, path in _routes(setup):
        if method != "POST":
            continue
        for bad in (None, "not-the-token", browsers["carol"].token):
            data = dict(ANSWERS)
            if bad is not None:
                data["csrf_token"] = bad
            assert bob.post(path, data=data).status_code == 403, (path, bad)
    # Nothing was saved.
    page = bob.get(f"/projects/{setup.project_id}/extract/{setup.record_id}")
    assert "last saved" not in page.text


def test_a_problem_is_shown_next_to_the_field_it_names(
    setup: Setup, browsers: dict[str, Browser]
) -> None:
    bob = browsers["bob"]
    url = f"/projects/{setup.project_id}/extract/{setup.record_id}"
    broken = {**ANSWERS, f"{ORR}.events": "500", f"{C0}.n_provenance.kind": "",
              f"{C0}.n_provenance.locator": ""}  # fmt: skip
    response = bob.post(url, data=form_of(broken, bob.token))
    assert response.status_code == 200
    doc = parse(response.text)
    events = doc.get_element_by_id(extraction_routes.input_id(f"{ORR}.events"))
    assert events.get("aria-invalid") == "true"
    problem = doc.get_element_by_id(events.get("aria-describedby"))
    assert "500 exceeds n=120" in problem.text_content()
    # A missing block's problem sits at its first question.
    kind = doc.get_element_by_id(extraction_routes.input_id(f"{C0}.n_provenance.kind"))
    assert "no provenance" in doc.get_element_by_id(kind.get("aria-describedby")).text_content()
    links = doc.xpath("//div[@class='error-summary']//a/@href")
    assert f"#{events.get('id')}" in links
    # Saved anyway (a draft), and the spare rows are offered again.
    again = parse(bob.get(url).text)
    assert again.xpath(f"//input[@name='{ORR}.events']/@value") == ["500"]
    assert again.xpath("//input[@name='studies[0].cohorts[1].label']")


def test_text_typed_into_the_form_stays_inert(setup: Setup, browsers: dict[str, Browser]) -> None:
    bob = browsers["bob"]
    url = f"/projects/{setup.project_id}/extract/{setup.record_id}"
    hostile = {**ANSWERS, "studies[0].region": '"><script>alert(1)</script>',
               f"{ORR}.measure": "<b>orr</b>"}  # fmt: skip
    response = bob.post(url, data=form_of(hostile, bob.token))
    assert "<script>alert(1)</script>" not in response.text
    assert "<b>orr</b>" not in response.text
    assert "&lt;b&gt;orr&lt;/b&gt; (not in the list)" in response.text


def test_two_extractions_become_a_study_of_the_living_review(
    setup: Setup, app: FastAPI, browsers: dict[str, Browser], tmp_path: Path
) -> None:
    url = f"/projects/{setup.project_id}/extract/{setup.record_id}"
    alice, bob, carol = browsers["alice"], browsers["bob"], browsers["carol"]
    form = parse(bob.get(url).text)  # prefilled from the imported record
    assert form.xpath("//input[@name='source.first_author']/@value") == ["Invented"]
    assert form.xpath("//input[@name='source.year']/@value") == ["2025"]

    saved = bob.post(url, data=form_of(ANSWERS, bob.token))
    assert saved.status_code == 200
    assert "Saved." in saved.text, saved.text[-3000:]
    assert 'class="error-summary"' not in saved.text
    # Blinding: carol's form shows her prefill, never bob's numbers; the comparison waits.
    assert "68.3" not in carol.get(url).text
    waiting = alice.get(f"{url}/compare")
    assert "1 of 2 extraction(s) saved" in waiting.text
    assert "68.3" not in waiting.text
    assert carol.post(url, data=form_of(CAROLS, carol.token)).status_code == 200

    page = alice.get(f"{url}/compare")
    assert page.status_code == 200
    doc = parse(page.text)
    rows = doc.xpath("//table[@class='unmatched']/tbody/tr")
    fields = [row.xpath("string(th/code)") for row in rows]
    assert fields == [f"{ORR}.value", f"{ORR}.events"]
    assert [c.text_content().strip() for c in rows[0].xpath("td")] == ["68.3", "70.0"]
    bob_version = rows[0].xpath("td[1]//input/@value")[0]

    folder = tmp_path / "extracted"
    refused = alice.post(f"{url}/accept", data={"csrf_token": alice.token,
                                                f"choice:{ORR}.value": bob_version})  # fmt: skip
    assert refused.status_code == 422
    assert "choose a version of" in refused.text
    assert not folder.exists()

    before = parse(browsers["dave"].get("/review").text)  # warm: the version readers see now
    assert before.xpath("//section[@id='changes']") == []
    accepted = alice.post(f"{url}/accept", data={
        "csrf_token": alice.token, f"choice:{ORR}.value": bob_version,
        f"choice:{ORR}.events": bob_version,
    }, follow_redirects=False)  # fmt: skip
    assert accepted.status_code == 303, accepted.text[-2000:]
    written = list(folder.glob("*.yaml"))
    assert [p.name for p in written] == [f"invented2025_r{setup.record_id}.yaml"]
    assert "value: 68.3" in written[0].read_text(encoding="utf-8")
    assert app.state.evidence is None
    assert app.state.report is None
    assert "Accepted into the evidence base" in alice.get(f"{url}/compare").text
    assert "the form is closed" in bob.get(url).text
    assert bob.post(url, data=form_of(ANSWERS, bob.token)).status_code == 400

    # The living review rebuilds (once) from the curated files plus the accepted one.
    review = parse(browsers["dave"].get("/review").text)
    changed = [li.text_content() for li in review.xpath("//section[@id='changes']//li")]
    assert f"Trigger: study accepted from record {setup.record_id}: " in changed[0]
    assert any(line.startswith("New study: ") for line in changed), changed
    table3 = review.get_element_by_id("table3")
    assert any(STUDY in row.text_content() for row in table3.xpath(".//tbody/tr"))
    analysis = parse(browsers["dave"].get("/review/analyses/rw_orr").text)
    used = [row.text_content() for row in analysis.xpath("//table[@data-table='used']//tbody/tr")]
    assert any(STUDY in row and "82" in row for row in used), used[:3]


def test_a_single_extractor_project_adds_the_study_directly(
    setup: Setup, browsers: dict[str, Browser], web_url: str, tmp_path: Path
) -> None:
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            session.get_one(lm.Project, setup.project_id).reviewers_full_text = 1
    finally:
        engine.dispose()
    bob = browsers["bob"]
    url = f"/projects/{setup.project_id}/extract/{setup.record_id}"
    assert 'value="accept"' in bob.get(url).text
    broken = {**ANSWERS, f"{ORR}.events": "500"}
    refused = bob.post(url, data=form_of(broken, bob.token, action="accept"))
    assert refused.status_code == 422
    assert "500 exceeds n=120" in refused.text
    assert not (tmp_path / "extracted").exists()
    assert re.search(r"last saved", bob.get(url).text)  # the draft was kept
    done = bob.post(url, data=form_of(ANSWERS, bob.token, action="accept"),
                    follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    assert (tmp_path / "extracted" / f"invented2025_r{setup.record_id}.yaml").exists()
    listing = bob.get(f"/projects/{setup.project_id}/extract").text
    assert f"invented2025_r{setup.record_id}.yaml" in listing
    assert csrf_of(listing)
