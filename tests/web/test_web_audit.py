"""The audit trail per record, exports of who decided what and why, and the full text beside a
conflict: blinding holds in all of them, CSV cells cannot become formulas, links cannot run code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web._team import ALICE, BOB, Team, make_team, record, vote
from tests.web.conftest import WebClient, sign_in

from postcart.db import make_engine
from postcart.literature import models as lm
from postcart.web.routes import calibration as calibration_routes
from postcart.web.routes import records as records_routes
from postcart.web.routes import team as team_routes

#: What bob writes beside his vote; alice must not read it before she has voted.
SECRET = "bobs-private-note-91c2"
FORMULA = '=HYPERLINK("http://evil.example/x","click")'
SCRIPT = "<script>alert(1)</script> relapse"
EXPORTS = ("audit.csv", "audit.json", "decisions.csv", "decisions.json")


@pytest.fixture
def team(web_url: str) -> Team:
    rows = [
        record("Plain study of CD19 CAR T", 0),
        record(FORMULA, 1),
        record(SCRIPT, 2, doi="10.1000/xyz(1)", pmid="12345", raw=(("PMC", "PMC777"),)),
        record("Study with a hostile location", 3),
        record("Study with a PDF on the web", 4),
    ]
    return make_team(web_url, rows)


@pytest.fixture
def bob(app: FastAPI) -> Iterator[WebClient]:
    c = WebClient(app)
    yield c
    c.close()


def _exports(client: WebClient, pid: int) -> dict[str, str]:
    found = {}
    for name in EXPORTS:
        response = client.get(f"/projects/{pid}/exports/{name}")
        assert response.status_code == 200, name
        assert "attachment" in response.headers["content-disposition"]
        found[name] = response.text
    return found


def test_the_trail_and_exports_keep_a_vote_blind_until_all_votes_are_in(
    client: WebClient, bob: WebClient, team: Team
) -> None:
    pid, rid = team.project_id, team.record_ids[0]
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(bob, *BOB)
    vote(bob, bob_token, pid, rid, "no", reason=SECRET)
    page = client.get(f"/projects/{pid}/records/{rid}").text
    assert "withheld until every required vote is in" in page
    assert SECRET not in page
    assert "bob" in page  # who acted and when are not secret; what they decided is
    for name, text in _exports(client, pid).items():
        assert SECRET not in text, name
    decided = list(csv.DictReader(io.StringIO(_exports(client, pid)["decisions.csv"])))
    assert decided == []  # not even a row: the number of votes would tell
    assert SECRET in bob.get(f"/projects/{pid}/records/{rid}").text  # his own vote
    vote(client, alice_token, pid, rid, "yes", reason="alice includes")
    page = client.get(f"/projects/{pid}/records/{rid}").text
    assert SECRET in page
    assert "withheld" not in page.split("Audit trail", 1)[1].split("append-only", 1)[0]
    rows = list(csv.DictReader(io.StringIO(_exports(client, pid)["decisions.csv"])))
    assert [(r["reviewer"], r["decision"], r["reason"], r["outcome"]) for r in rows] == [
        ("alice", "yes", "alice includes", "conflict"),
        ("bob", "no", SECRET, "conflict"),
    ]
    client.post(f"/projects/{pid}/records/{rid}/resolve",
                data={"decision": "yes", "stage": "title_abstract", "reason": "fits PICO",
                      "csrf_token": alice_token})  # fmt: skip
    document = json.loads(_exports(client, pid)["decisions.json"])
    (only,) = document["records"]
    assert [(d["kind"], d["reviewer"], d["decision"], d["reason"]) for d in only["decisions"]] == [
        ("vote", "alice", "yes", "alice includes"),
        ("vote", "bob", "no", SECRET),
        ("resolution", "alice", "yes", "fits PICO"),
    ]
    assert {d["outcome"] for d in only["decisions"]} == {"advance"}
    trail = json.loads(_exports(client, pid)["audit.json"])["events"]
    resolution = next(e for e in trail if e["action"] == "resolve")
    assert resolution["actor"] == "alice"
    assert resolution["before"]["outcome"] == "conflict"
    assert resolution["after"] == {"decision": "yes", "reason": "fits PICO", "outcome": "advance"}


def test_csv_cells_cannot_become_formulas(client: WebClient, bob: WebClient, team: Team) -> None:
    pid, rid = team.project_id, team.record_ids[1]
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(bob, *BOB)
    vote(bob, bob_token, pid, rid, "no", reason="+SUM(A1:A9)")
    vote(client, alice_token, pid, rid, "no", reason="@cmd|' /C calc'!A0")
    exported = _exports(client, pid)
    rows = list(csv.DictReader(io.StringIO(exported["decisions.csv"])))
    assert {r["title"] for r in rows} == {"'" + FORMULA}
    assert sorted(r["reason"] for r in rows) == ["'+SUM(A1:A9)", "'@cmd|' /C calc'!A0"]
    for row in csv.reader(io.StringIO(exported["audit.csv"])):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    # JSON is data, not a spreadsheet: the text is kept exactly.
    (item,) = json.loads(exported["decisions.json"])["records"]
    assert item["title"] == FORMULA


def _full_text_conflict(
    client: WebClient, alice_token: str, bob: WebClient, bob_token: str, pid: int, rid: int
) -> None:
    for who, token in ((client, alice_token), (bob, bob_token)):
        vote(who, token, pid, rid, "yes")
    vote(client, alice_token, pid, rid, "yes", stage="full_text")
    vote(bob, bob_token, pid, rid, "no", stage="full_text", reason="not LBCL")


def test_the_conflict_shows_the_paper_beside_both_votes(
    client: WebClient, bob: WebClient, team: Team, web_url: str
) -> None:
    pid = team.project_id
    scripted, hostile, pdf = team.record_ids[2:5]
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(bob, *BOB)
    vote(bob, bob_token, pid, scripted, "no", reason="bob: wrong population")
    vote(client, alice_token, pid, scripted, "yes", reason="alice: CD19 CAR T relapse")
    for rid in (hostile, pdf):
        _full_text_conflict(client, alice_token, bob, bob_token, pid, rid)
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            for rid, where in ((hostile, "javascript:alert(1)"),
                               (pdf, "https://files.example.org/paper.pdf")):  # fmt: skip
                report = session.scalars(select(lm.Report).where(lm.Report.record_id == rid)).one()
                report.location = where
    finally:
        engine.dispose()
    page = client.get(f"/projects/{pid}/conflicts").text
    # Title/abstract conflict: the paper's links and abstract beside both votes and reasons.
    assert 'href="https://doi.org/10.1000/xyz(1)"' in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/12345/"' in page
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC777/"' in page
    assert "Made-up abstract 2 about relapse" in page
    assert "bob: wrong population" in page
    assert "alice: CD19 CAR T relapse" in page
    # Full text: the exclusion reason given, the project's list, and the stored location.
    assert "— not LBCL" in page
    assert "Full-text exclusion reasons of this project: case report; clinical trial" in page
    assert 'href="https://files.example.org/paper.pdf"' in page
    assert "<code>javascript:alert(1)</code>" in page
    assert 'href="javascript:' not in page
    # The record titled <script> is text on every page that shows it.
    for html in (page, client.get(f"/projects/{pid}/records/{scripted}").text):
        assert "&lt;script&gt;alert(1)&lt;/script&gt; relapse" in html
        assert "<script>alert(1)" not in html


def test_records_and_exports_of_another_project_are_not_found(
    client: WebClient, team: Team
) -> None:
    sign_in(client, *ALICE)
    pid = team.project_id
    for path in (f"/projects/{team.hidden_project}/records/{team.hidden_record}",
                 f"/projects/{pid}/records/{team.hidden_record}",
                 f"/projects/987654/records/{team.hidden_record}",
                 *(f"/projects/{team.hidden_project}/exports/{n}" for n in EXPORTS)):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Carol" not in response.text


def test_every_new_project_page_is_not_found_outside_the_project(
    app: FastAPI, client: WebClient, team: Team
) -> None:
    """Walk every GET route of the team, records and calibration routers with carol's project."""
    sign_in(client, *ALICE)
    paths = []
    for router in (team_routes.router, records_routes.router, calibration_routes.router):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if "GET" in (route.methods or set()) and "{project_id}" in route.path:
                path = route.path.replace("{project_id}", str(team.hidden_project))
                path = path.replace("{record_id}", str(team.hidden_record))
                paths.append(re.sub(r"\{name\}", "audit.csv", path))
    assert len(paths) >= 5
    for path in paths:
        assert client.get(path).status_code == 404, path
