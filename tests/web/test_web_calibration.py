"""The calibration round in the browser: screening waits, the sample is screened by keys, kappa
shows only when everyone is done, and closing the round opens screening."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from tests.web._team import ALICE, BOB, HTMX, Team, make_team, shown_record
from tests.web.conftest import WebClient, sign_in


@pytest.fixture
def team(web_url: str) -> Team:
    return make_team(web_url, n=6)


@pytest.fixture
def bob(app: FastAPI) -> Iterator[WebClient]:
    c = WebClient(app)
    yield c
    c.close()


def _rate_all(client: WebClient, token: str, pid: int, decision: str) -> list[int]:
    rated = []
    card = client.get(f"/projects/{pid}/calibration/screen").text
    while (rid := shown_record(card)) is not None:
        response = client.post(f"/projects/{pid}/calibration/records/{rid}/vote",
                               data={"decision": decision, "csrf_token": token},
                               headers=HTMX)  # fmt: skip
        assert response.status_code == 200, response.text
        rated.append(rid)
        card = response.text
    assert "You have rated every record of the sample" in card
    return rated


def test_a_round_gates_screening_and_reports_agreement_when_done(
    client: WebClient, bob: WebClient, team: Team
) -> None:
    pid = team.project_id
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(bob, *BOB)
    # Only the owner starts a round; bob is told "not found".
    form = {"size": "3", "seed": "5"}
    refused = bob.post(f"/projects/{pid}/calibration/start", data={**form, "csrf_token": bob_token})
    assert refused.status_code == 404
    bad = client.post(f"/projects/{pid}/calibration/start",
                      data={"size": "99", "csrf_token": alice_token})  # fmt: skip
    assert bad.status_code == 400
    assert "only 6 record(s) not yet screened" in bad.text
    started = client.post(f"/projects/{pid}/calibration/start",
                          data={**form, "csrf_token": alice_token})  # fmt: skip
    assert started.status_code == 303
    page = client.get(f"/projects/{pid}/calibration").text
    assert "3 records drawn with seed <code>5</code>" in page
    # Screening waits for the round: the page sends reviewers to it, a vote is refused.
    waiting = bob.get(f"/projects/{pid}/screen")
    assert waiting.status_code == 303
    assert waiting.headers["location"] == f"/projects/{pid}/calibration"
    refused_vote = bob.post(f"/projects/{pid}/records/{team.record_ids[0]}/vote",
                            data={"decision": "yes", "stage": "title_abstract",
                                  "csrf_token": bob_token}, headers=HTMX)  # fmt: skip
    assert refused_vote.status_code == 409
    assert "calibration round is open" in refused_vote.text
    # bob screens the sample with his own keys.
    keys = {"yes": "j", "maybe": "k", "no": "l", "csrf_token": bob_token}
    assert bob.post("/settings/keys", data=keys).status_code == 303
    assert 'data-key="j"' in bob.get(f"/projects/{pid}/calibration/screen").text
    bob_rated = _rate_all(bob, bob_token, pid, "yes")
    assert len(bob_rated) == 3
    # Alice has rated nothing: counts only, no decisions, no kappa.
    page = client.get(f"/projects/{pid}/calibration").text
    assert "3 of 3" in page
    assert "0 of 3" in page
    assert "calibration-pairs" not in page
    assert "stay hidden" in page
    # Nor does the audit log tell bob's practice decisions while the round is open.
    exported = client.get(f"/projects/{pid}/exports/audit.json").json()["events"]
    practice = [e for e in exported if e["entity"] == "calibration_vote"]
    assert len(practice) == 3
    assert all(e["withheld"] and e["after"] is None for e in practice)
    alice_rated = _rate_all(client, alice_token, pid, "yes")
    assert sorted(alice_rated) == sorted(bob_rated)
    page = bob.get(f"/projects/{pid}/calibration").text
    pairs = re.search(r'id="calibration-pairs".*?</table>', page, re.S)
    assert pairs
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pairs.group(0)))
    # Both included all three: agreement 100 %, kappa 1 (one category: p_e = 1, defined as 1).
    assert "alice · bob 3 100.0 % 1.00" in row
    closed = client.post(f"/projects/{pid}/calibration/close", data={"csrf_token": alice_token})
    assert closed.status_code == 303
    assert "closed" in client.get(f"/projects/{pid}/calibration").text
    screen = bob.get(f"/projects/{pid}/screen")
    assert screen.status_code == 200
    assert shown_record(screen.text) is not None  # the sample is screened normally as well


def test_a_calibration_vote_outside_the_sample_or_project_is_not_found(
    client: WebClient, team: Team
) -> None:
    pid = team.project_id
    token = sign_in(client, *ALICE)
    client.post(f"/projects/{pid}/calibration/start",
                data={"size": "2", "seed": "1", "csrf_token": token})  # fmt: skip
    card = client.get(f"/projects/{pid}/calibration/screen").text
    inside = shown_record(card)
    assert inside is not None
    data = {"decision": "yes", "csrf_token": token}
    for project, rid in ((pid, team.hidden_record), (team.hidden_project, team.hidden_record),
                         (team.hidden_project, inside)):  # fmt: skip
        answer = client.post(f"/projects/{project}/calibration/records/{rid}/vote", data=data)
        assert answer.status_code == 404, (project, rid)
