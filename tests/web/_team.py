"""A small team project for the team, keys, audit and calibration tests (made-up records)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from tests.web.conftest import ALICE, BOB, WebClient

from postcart.db import make_engine
from postcart.literature import accounts, store
from postcart.literature import models as lm
from postcart.literature.records import Record

WHEN = datetime(2026, 3, 4, 5, 6, 7)
#: Made-up accounts (not real people).
CAROL = ("carol", "carol-pass-3")
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Team:
    project_id: int
    record_ids: list[int]
    alice_id: int
    bob_id: int
    carol_id: int
    #: A project alice and bob do not belong to (carol's), with one record.
    hidden_project: int
    hidden_record: int


def record(title: str, i: int, **fields: object) -> Record:
    """A made-up record."""
    base: dict[str, object] = {
        "title": title, "source_file": "made-up.ris", "source_line": i + 1,
        "source_format": "ris", "abstract": f"Made-up abstract {i} about relapse after CAR T.",
        "journal": "J Test", "year": 2024,
    }  # fmt: skip
    base.update(fields)
    return Record(**base)  # type: ignore[arg-type]


def make_team(url: str, rows: Sequence[Record] | None = None, *, n: int = 5) -> Team:
    """cart19: alice (owner, designated resolver) and bob (reviewer); carol has an account."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            alice = store.authenticate(session, *ALICE)
            bob = store.authenticate(session, *BOB)
            carol = accounts.add_user(session, *CAROL)
            project = store.create_project(session, "cart19", [alice, bob], resolver=alice)
            session.get_one(lm.Membership, (project.id, alice.id)).role = "owner"
            items = list(rows) if rows else [record(f"Made-up study {i}", i) for i in range(n)]
            store.import_records(session, project, items, file="made-up.ris", format="ris",
                                 imported_at=WHEN, update_no=1)  # fmt: skip
            hidden = store.create_project(session, "hidden", [carol], resolver=carol)
            session.get_one(lm.Membership, (hidden.id, carol.id)).role = "owner"
            store.import_records(session, hidden, [record("Carol's own record", 0)],
                                 file="c.ris", format="ris", imported_at=WHEN,
                                 update_no=1)  # fmt: skip
            ids = [r.id for r in store.records_of(session, alice, project)]
            hidden_record = store.records_of(session, carol, hidden)[0].id
            return Team(project.id, ids, alice.id, bob.id, carol.id, hidden.id, hidden_record)
    finally:
        engine.dispose()


def vote(
    client: WebClient, token: str, pid: int, rid: int, decision: str,
    stage: str = "title_abstract", reason: str = "",
) -> str:  # fmt: skip
    """Cast a vote through the screening route (htmx), asserting it was taken."""
    data = {"decision": decision, "stage": stage, "csrf_token": token, "reason": reason}
    response = client.post(f"/projects/{pid}/records/{rid}/vote", data=data, headers=HTMX)
    assert response.status_code == 200, response.text
    return response.text


def shown_record(html: str) -> int | None:
    """The record the screening card offers, or None when the queue is empty."""
    match = re.search(r'action="/projects/\d+/(?:calibration/)?records/(\d+)/vote"', html)
    return int(match.group(1)) if match else None


__all__ = ["ALICE", "BOB", "CAROL", "HTMX", "WHEN", "Team", "make_team", "record",
           "shown_record", "vote"]  # fmt: skip
