"""Team screening over HTTP on SQLite and PostgreSQL: blinding, conflicts, isolation, keys.

Two browsers (alice, owner and designated resolver; bob, reviewer) screen the same project.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from tests.web.conftest import ALICE, BOB, WebClient, sign_in

from postcart.db import make_engine
from postcart.literature import accounts, screening, store
from postcart.literature import models as lm
from postcart.literature.records import Record
from postcart.web.routes import screening as screening_routes

WHEN = datetime(2026, 3, 4, 5, 6, 7)
CAROL = ("carol", "carol-pass-3")
#: What bob writes beside his vote; it must not reach alice before she has voted.
SECRET = "bobs-private-note-7f3a"
HTMX = {"HX-Request": "true"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@dataclass
class Setup:
    project_id: int
    record_ids: list[int]
    alice_id: int
    bob_id: int
    other_project_record: int


def _records(titles: list[str]) -> list[Record]:
    return [
        Record(
            title=title,
            source_file="made-up.ris",
            source_line=i + 1,
            source_format="ris",
            abstract=f"Made-up abstract {i} about relapse after CAR T.",
            journal="J Test",
            year=2024,
        )
        for i, title in enumerate(titles)
    ]


def _setup(url: str, titles: list[str] | None = None) -> Setup:
    """A project with alice (owner, resolver) and bob (reviewer); carol has an account only."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, *ALICE)
            bob = store.authenticate(session, *BOB)
            accounts.add_user(session, *CAROL)
            project = store.create_project(session, "cart19", [alice, bob], resolver=alice)
            session.get_one(lm.Membership, (project.id, alice.id)).role = "owner"
            rows = _records(titles or [f"Made-up study {i} of CD19 CAR T" for i in range(5)])
            store.import_records(
                session,
                project,
                rows,
                file="made-up.ris",
                format="ris",
                imported_at=WHEN,
                update_no=1,
            )
            other = store.create_project(session, "elsewhere", [alice, bob])
            store.import_records(
                session,
                other,
                _records(["Another project's record"]),
                file="o.ris",
                format="ris",
                imported_at=WHEN,
                update_no=1,
            )
            ids = [r.id for r in store.records_of(session, alice, project)]
            foreign = store.records_of(session, alice, other)[0].id
            return Setup(project.id, ids, alice.id, bob.id, foreign)
    finally:
        engine.dispose()


@pytest.fixture
def setup(web_url: str) -> Setup:
    return _setup(web_url)


@pytest.fixture
def bob_client(app: FastAPI) -> Iterator[WebClient]:
    """A second browser, for bob."""
    c = WebClient(app)
    yield c
    c.close()


def _vote(client: WebClient, token: str, pid: int, rid: int, decision: str, **form: str) -> str:
    data = {"decision": decision, "stage": "title_abstract", "csrf_token": token, **form}
    response = client.post(f"/projects/{pid}/records/{rid}/vote", data=data, headers=HTMX)
    assert response.status_code == 200, response.text
    return response.text


def _events(client: WebClient, pid: int) -> str:
    response = client.get(f"/projects/{pid}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return response.text


def _count(html: str, name: str) -> int:
    match = re.search(rf'data-count="{re.escape(name)}">(\d+)<', html)
    assert match, f"no {name} count on the page"
    return int(match.group(1))


def _shown_record(html: str) -> int:
    match = re.search(r'action="/projects/\d+/records/(\d+)/vote"', html)
    assert match, "no record on the screen"
    return int(match.group(1))


def test_two_reviewers_blinded_then_conflict_then_resolution(
    app: FastAPI, client: WebClient, bob_client: WebClient, setup: Setup
) -> None:
    app.state.sse_lifetime = 0  # one event, then the stream ends (the browser would reconnect)
    pid, first = setup.project_id, setup.record_ids[0]
    alice_token = sign_in(client, *ALICE)
    bob_token = sign_in(bob_client, *BOB)

    bob_page = bob_client.get(f"/projects/{pid}/screen?stage=title_abstract")
    assert _shown_record(bob_page.text) == first
    after_bob = _vote(bob_client, bob_token, pid, first, "no", reason=SECRET)
    assert _shown_record(after_bob) == setup.record_ids[1]  # the next record, no reload

    # Alice has not voted on the record: nothing of bob's vote reaches her.
    alice_views = {
        "screen": client.get(f"/projects/{pid}/screen?stage=title_abstract").text,
        "second votes": client.get(
            f"/projects/{pid}/screen?stage=title_abstract&queue=second"
        ).text,
        "events": _events(client, pid),
    }
    assert _shown_record(alice_views["screen"]) == first
    assert _shown_record(alice_views["second votes"]) == first
    assert "another reviewer has voted" in alice_views["second votes"]
    for name, text in alice_views.items():
        assert SECRET not in text, name
        assert "bob" not in text.lower(), name
    assert _count(alice_views["events"], "second-title_abstract") == 1
    assert "event: counts" in alice_views["events"]

    # Alice votes the other way: now both votes are in and she may see bob's.
    after_alice = _vote(client, alice_token, pid, first, "yes")
    assert SECRET in after_alice
    assert "bob" in after_alice

    project_page = client.get(f"/projects/{pid}").text
    assert _count(project_page, "conflicts") == 1
    assert _count(project_page, "records_excluded") == 0
    assert _count(project_page, "records_awaiting") == 5

    conflicts = client.get(f"/projects/{pid}/conflicts")
    assert conflicts.status_code == 200
    assert "Made-up study 0" in conflicts.text
    assert SECRET in conflicts.text
    assert "bob" in conflicts.text
    assert bob_client.get(f"/projects/{pid}/conflicts").status_code == 404  # reviewers: no

    resolved = client.post(
        f"/projects/{pid}/records/{first}/resolve",
        data={"decision": "no", "stage": "title_abstract", "csrf_token": alice_token},
        headers=HTMX,
    )
    assert resolved.status_code == 200, resolved.text
    assert "Settled" in resolved.text
    after = client.get(f"/projects/{pid}").text
    assert _count(after, "conflicts") == 0
    assert _count(after, "records_excluded") == 1
    assert _count(after, "records_screened") == 1
    assert _count(after, "records_awaiting") == 4
    assert _count(_events(client, pid), "records_excluded") == 1
    assert "No open conflicts" in client.get(f"/projects/{pid}/conflicts").text

    engine = app.state.engine  # the app's own pool: kept open
    with Session(engine) as session:
        actions = [e.action for e in accounts.trail(session, entity="vote")]
        assert actions == ["vote", "vote"]
        (resolution,) = accounts.trail(session, entity="resolution")
        assert resolution.before is not None
        assert resolution.before["outcome"] == "conflict"
        assert resolution.after == {"decision": "no", "reason": "", "outcome": "exclude"}


def _project_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in screening_routes.router.routes:
        assert isinstance(route, APIRoute)
        for method in route.methods or set():
            found.append((method, route.path))
    return sorted(found)


def _fill(path: str, setup: Setup, record_id: int) -> str:
    return (
        path.replace("{project_id}", str(setup.project_id))
        .replace("{record_id}", str(record_id))
        .replace("{reviewer_id}", str(setup.bob_id))
    )


FORM = {
    "decision": "no",
    "stage": "title_abstract",
    "mode": "split",
    "reviewer_id": "1",
    "count": "1",
}


def test_every_project_route_is_404_for_a_non_member(
    app: FastAPI, client: WebClient, setup: Setup
) -> None:
    routes = _project_routes(app)
    assert len(routes) == 8
    token = sign_in(client, *CAROL)
    for method, path in routes:
        url = _fill(path, setup, setup.record_ids[0])
        response = client.request(method, url, data={**FORM, "csrf_token": token})
        assert response.status_code == 404, (method, url, response.text)
        assert "cart19" not in response.text
    for method, path in routes:  # a project id that does not exist looks the same
        url = _fill(path, setup, setup.record_ids[0]).replace(
            f"/projects/{setup.project_id}", "/projects/9999"
        )
        assert client.request(method, url, data={**FORM, "csrf_token": token}).status_code == 404


def test_a_record_from_another_project_is_404(
    client: WebClient, bob_client: WebClient, setup: Setup
) -> None:
    token = sign_in(client, *ALICE)
    pid, foreign = setup.project_id, setup.other_project_record
    vote = client.post(
        f"/projects/{pid}/records/{foreign}/vote",
        data={"decision": "yes", "stage": "title_abstract", "csrf_token": token},
    )
    assert vote.status_code == 404
    resolve = client.post(
        f"/projects/{pid}/records/{foreign}/resolve",
        data={"decision": "yes", "stage": "title_abstract", "csrf_token": token},
    )
    assert resolve.status_code == 404
    bob_token = sign_in(bob_client, *BOB)  # a member, but not an owner: owner routes are 404
    for path in (f"/projects/{pid}/assign", f"/projects/{pid}/members/{setup.alice_id}/remove"):
        assert bob_client.post(path, data={**FORM, "csrf_token": bob_token}).status_code == 404


def test_voting_with_a_wrong_csrf_token_is_refused(client: WebClient, setup: Setup) -> None:
    sign_in(client, *ALICE)
    pid, rid = setup.project_id, setup.record_ids[0]
    for token in ("", "not-the-token"):
        response = client.post(
            f"/projects/{pid}/records/{rid}/vote",
            data={"decision": "yes", "stage": "title_abstract", "csrf_token": token},
            headers=HTMX,
        )
        assert response.status_code == 403
    page = client.get(f"/projects/{pid}/screen").text
    assert _shown_record(page) == rid  # nothing was recorded


def test_a_script_title_renders_inert(web_url: str, client: WebClient) -> None:
    evil = "<script>alert(1)</script>"
    setup = _setup(web_url, [evil, "A harmless second title"])
    token = sign_in(client, *ALICE)
    pid, rid = setup.project_id, setup.record_ids[0]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    page = client.get(f"/projects/{pid}/screen").text
    assert evil not in page
    assert escaped in page
    flash = _vote(client, token, pid, rid, "no", reason=evil)
    assert evil not in flash
    assert escaped in flash
    assert not INLINE_SCRIPT.search(page)


def test_the_screen_is_keyboard_driven_without_inline_script(
    app: FastAPI, client: WebClient, setup: Setup
) -> None:
    token = sign_in(client, *ALICE)
    pid = setup.project_id
    page = client.get(f"/projects/{pid}/screen?stage=title_abstract").text
    for key in ("y", "m", "n"):
        assert f'data-key="{key}"' in page
    assert 'src="/static/screen.js"' in page
    assert 'id="record" class="record" tabindex="-1"' in page
    assert 'hx-post="/projects/' in page
    assert not INLINE_SCRIPT.search(page)
    script = client.get("/static/screen.js")
    assert script.status_code == 200
    assert "data-key" in script.text
    assert "input, textarea, select" in script.text
    # Full text: the record reaches it, its report is retrieved, exclusion reasons take numbers.
    rid = setup.record_ids[0]
    _vote(client, token, pid, rid, "yes")
    engine = app.state.engine  # the app's own pool: kept open
    with Session(engine) as session, session.begin():
        bob = session.get_one(lm.Reviewer, setup.bob_id)
        screening.cast_vote(session, bob, rid, "title_abstract", "yes", WHEN)
        alice = session.get_one(lm.Reviewer, setup.alice_id)
        screening.set_retrieved(session, alice, rid, True)
    full = client.get(f"/projects/{pid}/screen?stage=full_text").text
    assert _shown_record(full) == rid
    for number, reason in enumerate(lm.DEFAULT_EXCLUSION_REASONS, start=1):
        assert f'data-key="{number}"' in full
        assert reason in full
    # a full-text exclusion without a reason is refused and nothing is stored
    refused = client.post(
        f"/projects/{pid}/records/{rid}/vote",
        data={"decision": "no", "stage": "full_text", "csrf_token": token},
        headers=HTMX,
    )
    assert refused.status_code == 409  # refused, nothing stored; htmx still swaps it in
    assert "needs a reason" in refused.text
    assert _shown_record(refused.text) == rid
    done = client.post(
        f"/projects/{pid}/records/{rid}/vote",
        data={"decision": "no", "reason": "case report", "stage": "full_text", "csrf_token": token},
        headers=HTMX,
    )
    assert "Nothing is waiting for you" in done.text


def test_a_plain_form_post_redirects_back_to_the_screen(client: WebClient, setup: Setup) -> None:
    token = sign_in(client, *ALICE)
    pid, rid = setup.project_id, setup.record_ids[0]
    response = client.post(
        f"/projects/{pid}/records/{rid}/vote",
        data={"decision": "maybe", "stage": "title_abstract", "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/projects/{pid}/screen?stage=title_abstract&queue=all"
    assert _shown_record(client.get(response.headers["location"]).text) == setup.record_ids[1]


def test_assignment_and_removal_from_the_project_page(
    app: FastAPI, client: WebClient, bob_client: WebClient, setup: Setup
) -> None:
    token = sign_in(client, *ALICE)
    bob_token = sign_in(bob_client, *BOB)
    pid, ids = setup.project_id, setup.record_ids
    assigned = client.post(
        f"/projects/{pid}/assign",
        data={
            "stage": "title_abstract",
            "mode": "count",
            "reviewer_id": str(setup.bob_id),
            "count": "2",
            "csrf_token": token,
        },
    )
    assert assigned.status_code == 303
    assert "2 assignment(s) made" in client.get(assigned.headers["location"]).text
    bob_page = bob_client.get(f"/projects/{pid}").text
    assert _count(bob_page, "assigned-title_abstract") == 2
    assert "bob" in bob_page  # the member list; the live counts never name anyone
    bad = client.post(
        f"/projects/{pid}/assign",
        data={
            "stage": "title_abstract",
            "mode": "count",
            "reviewer_id": "",
            "count": "",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 400
    split = client.post(
        f"/projects/{pid}/assign",
        data={"stage": "title_abstract", "mode": "split", "csrf_token": token},
    )
    assert split.status_code == 303

    _vote(bob_client, bob_token, pid, ids[0], "yes")  # pending: goes back on removal
    _vote(bob_client, bob_token, pid, ids[1], "no", reason=SECRET)
    _vote(client, token, pid, ids[1], "yes")  # a conflict: kept
    removed = client.post(
        f"/projects/{pid}/members/{setup.bob_id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    notice = client.get(removed.headers["location"]).text
    assert "1 record(s) back in the queue, 1 conflict(s) keep their vote" in notice
    assert bob_client.get(f"/projects/{pid}").status_code == 404
    conflicts = client.get(f"/projects/{pid}/conflicts").text
    assert "removed reviewer" in conflicts
    assert SECRET in conflicts
    assert _shown_record(client.get(f"/projects/{pid}/screen").text) == ids[0]
    self_removal = client.post(
        f"/projects/{pid}/members/{setup.alice_id}/remove", data={"csrf_token": token}
    )
    assert self_removal.status_code == 400
    engine = app.state.engine  # the app's own pool: kept open
    with Session(engine) as session:
        entities = {e.entity for e in accounts.trail(session, project=session.get(lm.Project, pid))}
        assert {"assignment", "vote", "membership"} <= entities


def test_the_event_stream_sends_counts_again_when_they_change(
    app: FastAPI, client: WebClient, setup: Setup
) -> None:
    app.state.sse_lifetime = 2.0
    app.state.sse_interval = 0.05
    sign_in(client, *ALICE)
    pid, rid = setup.project_id, setup.record_ids[0]

    def bob_votes() -> None:
        with Session(app.state.engine) as session, session.begin():
            bob = session.get_one(lm.Reviewer, setup.bob_id)
            screening.cast_vote(session, bob, rid, "title_abstract", "no", WHEN, SECRET)

    timer = threading.Timer(0.5, bob_votes)
    timer.start()
    try:
        text = _events(client, pid)
    finally:
        timer.join()
    chunks = [c for c in text.split("\n\n") if c.startswith("event: counts")]
    assert len(chunks) == 2
    assert _count(chunks[0], "second-title_abstract") == 0
    assert _count(chunks[1], "second-title_abstract") == 1
    assert SECRET not in text
    assert "bob" not in text.lower()
