"""Projects, roles and invitations in the browser (SQLite and PostgreSQL).

An owner creates a project, invites people with a role by a link that works once until it
expires, revokes links, changes roles and removes members; removal re-queues unfinished records
and never strands a conflict. Every step is audited; every owner page is 404 to anyone else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web._team import ALICE, BOB, CAROL, Team, make_team, shown_record, vote
from tests.web.conftest import WebClient, csrf_of, sign_in

from postcart.db import make_engine
from postcart.literature import accounts, invitations
from postcart.literature import models as lm

LINK = re.compile(r'value="(https?://[^"]+/invite/([^"]+))"')


@pytest.fixture
def team(web_url: str) -> Team:
    return make_team(web_url)


@pytest.fixture
def other(app: FastAPI) -> Iterator[WebClient]:
    """A second browser."""
    c = WebClient(app)
    yield c
    c.close()


def _invite(client: WebClient, token: str, pid: int, role: str, days: str = "7") -> str:
    """Make an invitation on the team page; returns the token read off the one-time link."""
    page = client.post(f"/projects/{pid}/invitations",
                       data={"role": role, "days": days, "note": "for a colleague",
                             "csrf_token": token})  # fmt: skip
    assert page.status_code == 200, page.text
    match = LINK.search(page.text)
    assert match, "the link is shown once, on the answer"
    return match.group(2)


def _events(url: str, action: str) -> list[lm.AuditEvent]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return [e for e in accounts.trail(session) if e.action == action]
    finally:
        engine.dispose()


def _role(url: str, pid: int, name: str) -> str | None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            reviewer = session.scalar(select(lm.Reviewer).where(lm.Reviewer.name == name))
            return None if reviewer is None else accounts.role_in(session, reviewer, pid)
    finally:
        engine.dispose()


def test_a_site_owner_creates_a_project_and_owns_it(
    client: WebClient, other: WebClient, web_url: str
) -> None:
    token = sign_in(client, *ALICE)
    assert 'href="/projects/new"' in client.get("/").text
    assert client.get("/projects/new").status_code == 200
    bad = client.post("/projects", data={"name": " ", "csrf_token": token})
    assert bad.status_code == 400
    assert "project name" in bad.text
    made = client.post(
        "/projects",
        data={"name": "<b>lbcl</b>", "reviewers_title_abstract": "2", "reviewers_full_text": "1",
              "exclusion_reasons": "not LBCL\n\ncase report\n", "csrf_token": token},
    )  # fmt: skip
    assert made.status_code == 303
    pid = int(made.headers["location"].split("/")[2])
    page = client.get(f"/projects/{pid}/team").text
    assert "&lt;b&gt;lbcl&lt;/b&gt;" in page
    assert "<b>lbcl</b>" not in page
    assert "designated resolver" in page
    assert _role(web_url, pid, ALICE[0]) == "owner"
    created = _events(web_url, "create")
    assert any(e.entity == "project" and e.after and e.after["exclusion_reasons"]
               == ["not LBCL", "case report"] for e in created)  # fmt: skip
    # bob is a member of the site, not an owner: no project creation, and it says "not found"
    bob_token = sign_in(other, *BOB)
    assert 'href="/projects/new"' not in other.get("/").text
    assert other.get("/projects/new").status_code == 404
    refused = other.post("/projects", data={"name": "bobs", "csrf_token": bob_token})
    assert refused.status_code == 404


def test_an_invitation_makes_an_account_once(
    client: WebClient, other: WebClient, app: FastAPI, team: Team, web_url: str
) -> None:
    token = sign_in(client, *ALICE)
    link = _invite(client, token, team.project_id, "reviewer")
    # Listed for the owner, link not shown again: only the hash is stored.
    listing = client.get(f"/projects/{team.project_id}/team").text
    assert "for a colleague" in listing
    assert link not in listing
    page = other.get(f"/invite/{link}")
    assert page.status_code == 200
    assert "cart19" in page.text
    assert "reviewer" in page.text
    form_token = csrf_of(page.text)
    short = other.post(
        f"/invite/{link}/register",
        data={
            "username": "dave",
            "password": "short",
            "repeated": "short",
            "csrf_token": form_token,
        },
    )
    assert short.status_code == 400
    assert "at least 10" in short.text
    joined = other.post(f"/invite/{link}/register", data={
        "username": "dave", "password": "dave-pass-44", "repeated": "dave-pass-44",
        "csrf_token": csrf_of(short.text)})  # fmt: skip
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/projects/{team.project_id}"
    assert "dave" in other.get(f"/projects/{team.project_id}").text  # signed in, a member
    assert _role(web_url, team.project_id, "dave") == "reviewer"
    # The link is used up: a second person gets no account out of it.
    third = WebClient(app)
    try:
        again = third.get(f"/invite/{link}")
        assert "accepted" in again.text
        refused = third.post(f"/invite/{link}/register", data={
            "username": "erin", "password": "erin-pass-55", "repeated": "erin-pass-55",
            "csrf_token": third.cookies.get("postcart_csrf") or ""})  # fmt: skip
        assert refused.status_code == 400
    finally:
        third.close()
    assert _role(web_url, team.project_id, "erin") is None
    engine = make_engine(web_url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(lm.Reviewer).where(lm.Reviewer.name == "erin")) is None
            stored = session.scalars(select(lm.Invitation)).one()
            assert link not in stored.token_digest  # the hash, never the token
    finally:
        engine.dispose()
    assert [e.entity for e in _events(web_url, "invite")] == ["invitation"]
    assert len(_events(web_url, "accept")) == 1
    joins = _events(web_url, "join")
    assert joins[0].after == {"role": "reviewer", "invitation": stored.id}


def test_a_signed_in_person_accepts_and_a_member_cannot(
    client: WebClient, other: WebClient, app: FastAPI, team: Team, web_url: str
) -> None:
    token = sign_in(client, *ALICE)
    link = _invite(client, token, team.project_id, "resolver")
    carol_token = sign_in(other, *CAROL)
    page = other.get(f"/invite/{link}").text
    assert "Join as carol" in page
    assert other.post(f"/invite/{link}/accept", data={"csrf_token": carol_token}).status_code == 303
    assert _role(web_url, team.project_id, CAROL[0]) == "resolver"
    # bob is already in the project: the invitation neither changes his role nor is used up.
    second = _invite(client, token, team.project_id, "owner")
    bob = WebClient(app)
    try:
        bob_token = sign_in(bob, *BOB)
        refused = bob.post(f"/invite/{second}/accept", data={"csrf_token": bob_token})
        assert refused.status_code == 400
        assert "already a member" in refused.text
    finally:
        bob.close()
    assert _role(web_url, team.project_id, BOB[0]) == "reviewer"
    anonymous = WebClient(app)
    try:
        assert (
            "You are invited as <strong>owner</strong>" in anonymous.get(f"/invite/{second}").text
        )
    finally:
        anonymous.close()


def test_revoked_expired_and_unknown_links_open_nothing(
    client: WebClient, other: WebClient, team: Team, web_url: str
) -> None:
    token = sign_in(client, *ALICE)
    link = _invite(client, token, team.project_id, "viewer")
    team_page = client.get(f"/projects/{team.project_id}/team").text
    iid = re.search(r"/invitations/(\d+)/revoke", team_page)
    assert iid
    revoked = client.post(f"/projects/{team.project_id}/invitations/{iid.group(1)}/revoke",
                          data={"csrf_token": token})  # fmt: skip
    assert revoked.status_code == 303
    carol_token = sign_in(other, *CAROL)
    assert "revoked" in other.get(f"/invite/{link}").text
    assert other.post(f"/invite/{link}/accept", data={"csrf_token": carol_token}).status_code == 400
    assert _role(web_url, team.project_id, CAROL[0]) is None
    # An invitation made 8 days ago with a 7-day life has expired.
    engine = make_engine(web_url)
    try:
        with Session(engine) as session, session.begin():
            alice = session.get_one(lm.Reviewer, team.alice_id)
            project = session.get_one(lm.Project, team.project_id)
            old = invitations.invite(session, alice, project, "reviewer",
                                     when=accounts.now() - timedelta(days=8))  # fmt: skip
    finally:
        engine.dispose()
    assert "expired" in other.get(f"/invite/{old.token}").text
    assert (
        other.post(f"/invite/{old.token}/accept", data={"csrf_token": carol_token}).status_code
        == 400
    )
    assert other.get("/invite/not-a-token").status_code == 404
    assert len(_events(web_url, "revoke")) == 1


def test_owner_pages_are_not_found_for_everyone_else(
    client: WebClient, other: WebClient, team: Team
) -> None:
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(other, *BOB)
    pid = team.project_id
    for who, token, project in ((other, bob_token, pid), (client, alice_token, team.hidden_project),
                                (client, alice_token, 987654)):  # fmt: skip
        assert who.get(f"/projects/{project}/team").status_code == 404
        for path, data in ((f"/projects/{project}/invitations", {"role": "owner"}),
                           (f"/projects/{project}/members/{team.bob_id}/role", {"role": "owner"}),
                           (f"/projects/{project}/resolver", {"reviewer_id": str(team.bob_id)}),
                           (f"/projects/{project}/invitations/1/revoke", {}),
                           (f"/projects/{project}/members/{team.carol_id}/remove",
                            {})):  # fmt: skip
            answer = who.post(path, data={**data, "csrf_token": token})
            assert answer.status_code == 404, (path, answer.text)
            assert "hidden" not in answer.text


def test_roles_change_the_last_owner_stays_and_the_resolver_duty_moves(
    client: WebClient, team: Team, web_url: str
) -> None:
    token = sign_in(client, *ALICE)
    pid = team.project_id

    def change(reviewer_id: int, role: str) -> int:
        data = {"role": role, "csrf_token": token}
        return client.post(f"/projects/{pid}/members/{reviewer_id}/role", data=data).status_code

    lone = client.post(f"/projects/{pid}/members/{team.alice_id}/role",
                       data={"role": "reviewer", "csrf_token": token})  # fmt: skip
    assert lone.status_code == 400
    assert "only owner" in lone.text
    assert change(team.bob_id, "resolver") == 303
    named = client.post(f"/projects/{pid}/resolver",
                        data={"reviewer_id": str(team.bob_id), "csrf_token": token})  # fmt: skip
    assert named.status_code == 303
    page = client.get(f"/projects/{pid}/conflicts").text
    assert "Only the designated resolver, bob" in page
    assert change(team.bob_id, "viewer") == 303  # bob can no longer resolve: alice takes over
    assert "You are the designated resolver" in client.get(f"/projects/{pid}/conflicts").text
    assert _role(web_url, pid, BOB[0]) == "viewer"
    roles = [(e.before, e.after) for e in _events(web_url, "set_role")]
    assert roles == [({"role": "reviewer"}, {"role": "resolver"}),
                     ({"role": "resolver"}, {"role": "viewer"})]  # fmt: skip
    moved = [(e.before, e.after) for e in _events(web_url, "set_resolver")]
    assert moved == [({"resolver_id": team.alice_id}, {"resolver_id": team.bob_id}),
                     ({"resolver_id": team.bob_id}, {"resolver_id": team.alice_id})]  # fmt: skip


def test_removing_a_reviewer_requeues_their_records_and_keeps_the_conflict(
    client: WebClient, other: WebClient, app: FastAPI, team: Team
) -> None:
    """bob half-screened one record and made a conflict on another; then bob is removed."""
    pid, (pending, conflict, *_rest) = team.project_id, team.record_ids
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(other, *BOB)
    vote(other, bob_token, pid, pending, "yes")
    vote(other, bob_token, pid, conflict, "no", reason="bob thinks not LBCL")
    vote(client, alice_token, pid, conflict, "yes")
    # Carol joins by invitation; while bob is in, his half-screened record is not hers to take.
    link = _invite(client, alice_token, pid, "reviewer")
    carol = WebClient(app)
    try:
        carol_token = sign_in(carol, *CAROL)
        assert (
            carol.post(f"/invite/{link}/accept", data={"csrf_token": carol_token}).status_code
            == 303
        )
        removed = client.post(f"/projects/{pid}/members/{team.bob_id}/remove",
                              data={"csrf_token": alice_token})  # fmt: skip
        assert removed.status_code == 303
        assert removed.headers["location"].endswith("requeued=1&kept=1")
        # The half-screened record is back, for carol as for anyone.
        seen = []
        screen = carol.get(f"/projects/{pid}/screen").text
        while (rid := shown_record(screen)) is not None:
            seen.append(rid)
            screen = vote(carol, carol_token, pid, rid, "maybe")
        assert pending in seen
        assert conflict not in seen  # its votes are complete: it waits for the resolver
    finally:
        carol.close()
    # The conflict keeps bob's vote, marked, and the resolver settles it.
    page = client.get(f"/projects/{pid}/conflicts").text
    assert "removed reviewer" in page
    assert "bob thinks not LBCL" in page
    settled = client.post(f"/projects/{pid}/records/{conflict}/resolve",
                          data={"decision": "yes", "stage": "title_abstract",
                                "csrf_token": alice_token})  # fmt: skip
    assert settled.status_code == 303
    assert "No open conflicts" in client.get(f"/projects/{pid}/conflicts").text
    assert other.get(f"/projects/{pid}").status_code == 404  # bob is out
