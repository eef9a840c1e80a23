"""Load on a real PostgreSQL server: 50 reviewers voting at once on a 20,000-record project.

Target: p95 server time per vote ≤ 100 ms (read from each response's ``Server-Timing``), and
no vote lost or counted twice (every vote the server accepted is in the database exactly once,
and the database holds no other). The app runs in its own process under uvicorn, as it would in
production; the reviewers are threads, each with its own session cookie, voting through the
same HTTP routes a browser uses (sign in, open the screening page, vote, next record).

Needs ``POSTCART_TEST_PG_URL`` (``make bench`` starts a throw-away server). Prints the figures
and ``MISSED`` when the target is not met; exits non-zero only when votes are lost or doubled.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate
from postcart.literature import accounts, store, workflow
from postcart.literature import models as m
from postcart.literature.records import Record

TARGET_P95_MS = 100.0
ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VOTE = re.compile(r"/projects/(\d+)/records/(\d+)/vote")


def _reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _setup(url: str, reviewers: int, records: int) -> int:
    """A project with ``records`` made-up records and ``reviewers`` voting members."""
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        people = [
            accounts.add_user(session, f"reviewer{i:02d}", f"pw-{i:02d}") for i in range(reviewers)
        ]
        project = store.create_project(session, "load", people)
        owner = session.get(m.Membership, (project.id, people[0].id))
        assert owner is not None
        owner.role = "owner"
        made_up = (
            Record(
                title=f"Made-up record {i} on relapse after CAR T (benchmark data)",
                source_file="bench.nbib",
                source_line=i + 1,
                source_format="medline",
                abstract=f"Benchmark abstract {i}: CD19 CAR T, large B-cell lymphoma, salvage.",
                year=2015 + i % 10,
            )
            for i in range(records)
        )
        store.import_records(
            session, project, made_up, file="bench.nbib", format="medline",
            imported_at=datetime(2026, 12, 1), update_no=1, source="bench.nbib",
        )  # fmt: skip
        project_id = project.id
    with Session(engine) as session, session.begin():
        # As a team lead would: every record to two reviewers, evenly (dual screening).
        again = session.get_one(m.Project, project_id)
        workflow.split_evenly(session, people_lead(session), again, "title_abstract",
                              when=datetime(2026, 12, 1))  # fmt: skip
    engine.dispose()
    return project_id


def people_lead(session: Session) -> m.Reviewer:
    """The benchmark project's owner (the first reviewer)."""
    lead = session.scalar(select(m.Reviewer).where(m.Reviewer.name == "reviewer00"))
    assert lead is not None
    return lead


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from postcart.web import create_app; "
        f"uvicorn.run(create_app({url!r}), host='127.0.0.1', port={port}, log_level='error')"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the workbench did not start")


class Reviewer(threading.Thread):
    """One reviewer: sign in, then vote on the next record ``votes`` times."""

    def __init__(self, base: str, number: int, project_id: int, votes: int, think: float) -> None:
        super().__init__(daemon=True)
        self.base, self.number, self.project_id, self.votes = base, number, project_id, votes
        self.think = think
        self.rng = random.Random(number)
        self.server_ms: list[float] = []
        self.wall_ms: list[float] = []
        self.accepted: list[int] = []
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            self._run()
        except httpx.HTTPError as error:  # a timeout is a result here, not a crash
            self.errors.append(type(error).__name__)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            token = CSRF.search(client.get("/login").text)
            assert token is not None
            client.post("/login", data={"username": f"reviewer{self.number:02d}",
                                         "password": f"pw-{self.number:02d}",
                                         "csrf_token": token[1]})  # fmt: skip
            screen = f"/projects/{self.project_id}/screen?stage=title_abstract"
            page = client.get(screen).text
            for _ in range(self.votes):
                if self.think > 0:  # reading the record before pressing a key
                    time.sleep(self.rng.expovariate(1 / self.think))
                csrf, target = CSRF.search(page), VOTE.search(page)
                if csrf is None or target is None:
                    self.errors.append("no record to vote on")
                    return
                record_id = int(target[2])
                started = time.perf_counter()
                response = client.post(
                    target[0],
                    data={"decision": "yes" if record_id % 3 else "no", "reason": "",
                          "stage": "title_abstract", "csrf_token": csrf[1]},
                    headers={"HX-Request": "true"},
                )  # fmt: skip
                self.wall_ms.append(1000 * (time.perf_counter() - started))
                timing = re.search(r"dur=([\d.]+)", response.headers.get("server-timing", ""))
                if timing:
                    self.server_ms.append(float(timing[1]))
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} on record {record_id}")
                    page = client.get(screen).text
                    continue
                self.accepted.append(record_id)
                # The answer carries the next record (and a fresh token when the form has one).
                page = response.text if VOTE.search(response.text) else client.get(screen).text


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=10, help="votes per reviewer")
    parser.add_argument(
        "--think", type=float, default=10.0,
        help="mean seconds a reviewer reads a record before voting (exponential; 0 = back "
        "to back). Title/abstract screening takes tens of seconds per record; 10 s is a fast team",
    )  # fmt: skip
    args = parser.parse_args()
    url = os.environ.get("POSTCART_TEST_PG_URL", "")
    if not url:
        print("web_votes: POSTCART_TEST_PG_URL not set (run via `make bench`): skipped")
        return 0
    _reset(url)
    started = time.perf_counter()
    project_id = _setup(url, args.reviewers, args.records)
    print(f"setup: {args.records} records, {args.reviewers} reviewers "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    port = _free_port()
    server = _serve(url, port)  # uvicorn's own errors go to its stderr
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        crowd = [Reviewer(base, i, project_id, args.votes, args.think)
                 for i in range(args.reviewers)]  # fmt: skip
        started = time.perf_counter()
        for reviewer in crowd:
            reviewer.start()
        for reviewer in crowd:
            reviewer.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    server_ms = [v for r in crowd for v in r.server_ms]
    wall_ms = [v for r in crowd for v in r.wall_ms]
    accepted = sum(len(r.accepted) for r in crowd)
    errors = [e for r in crowd for e in r.errors]
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(m.Vote)) or 0
        doubled = (
            session.scalar(
                select(func.count()).select_from(
                    select(m.Vote.record_id, m.Vote.reviewer_id, m.Vote.stage)
                    .group_by(m.Vote.record_id, m.Vote.reviewer_id, m.Vote.stage)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            or 0
        )
    engine.dispose()
    p95 = _p95(server_ms) if server_ms else float("nan")
    verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
    print(f"votes: {accepted} accepted by the server, {stored} stored, {doubled} doubled, "
          f"{len(errors)} refused ({', '.join(sorted(set(errors))[:3])})")  # fmt: skip
    if not server_ms:
        print(f"server time per vote: no vote completed (target ≤ {TARGET_P95_MS:.0f} ms: MISSED)")
        return 1 if stored else 0
    print(f"server time per vote: median {statistics.median(server_ms):.1f} ms, "
          f"p95 {p95:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms: {verdict}, "
          f"ratio {p95 / TARGET_P95_MS:.2f})")  # fmt: skip
    print(f"wall time per vote (client): median {statistics.median(wall_ms):.1f} ms, "
          f"p95 {_p95(wall_ms):.1f} ms; {accepted / elapsed:.1f} votes/s with "
          f"{args.reviewers} reviewers, mean reading time {args.think:g} s per record")  # fmt: skip
    lost_or_doubled = stored != accepted or doubled != 0
    if lost_or_doubled:
        print("FAILED: votes lost or counted twice")
    return 1 if lost_or_doubled else 0


if __name__ == "__main__":
    raise SystemExit(main())
