"""Twenty reviewers' processes voting at once: nothing lost, nothing doubled, no stranded record.

Pairs of reviewers vote on the same records in the same order, so the two votes that complete
a record arrive together, which is the race that once left records "advanced" with no full-text
report on PostgreSQL (each transaction missed the other's uncommitted vote). Run on SQLite and
on the real PostgreSQL server; the invariants are recounted from the stored votes.
"""

from __future__ import annotations

import multiprocessing
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postcart.db import session_scope
from postcart.literature import models as m
from postcart.literature import prisma, store
from postcart.literature.screening import TITLE_ABSTRACT, Outcome, outcomes

from ._litdb import WHEN, engine_at, records
from ._stress_worker import vote_all

PROCESSES = 20
VOTES_EACH = 100
DECISIONS = ("yes", "yes", "maybe", "no")  # mostly inclusions: most records complete at once


def _expected(decisions: list[str]) -> Outcome:
    if all(d == "no" for d in decisions):
        return Outcome.EXCLUDE
    if all(d in ("yes", "maybe") for d in decisions):
        return Outcome.ADVANCE
    return Outcome.CONFLICT


@pytest.fixture
def stress_url(database_url: str) -> Iterator[str]:
    """The test database; an SQLite file goes to memory-backed /dev/shm when there is one.

    Twenty writers on one SQLite file commit one at a time, each with an fsync: on a slow
    disk that alone is most of a minute, and the test is about locking, not the disk.
    """
    shm = Path("/dev/shm")
    if not database_url.startswith("sqlite") or not shm.is_dir():
        yield database_url
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield f"sqlite:///{folder}/stress.db"


@pytest.mark.slow
def test_twenty_processes_voting_keep_every_invariant(stress_url: str) -> None:
    database_url = stress_url
    engine = engine_at(database_url)
    pairs = PROCESSES // 2
    n_records = pairs * VOTES_EACH
    with session_scope(engine) as session:
        people = [store.create_reviewer(session, f"r{i:02d}", "pw") for i in range(PROCESSES)]
        project = store.create_project(session, "stress", people, resolver=people[0])
        store.import_records(session, project, records(n_records), file="s.nbib",
                             format="medline", imported_at=WHEN, update_no=1)  # fmt: skip
        ids = [r.id for r in store.records_of(session, people[0], project)]
        reviewer_ids, project_id = [p.id for p in people], project.id
    engine.dispose()
    rng = random.Random(20261202)
    plan: dict[int, list[tuple[int, str]]] = {}
    for pair in range(pairs):
        mine = ids[pair * VOTES_EACH : (pair + 1) * VOTES_EACH]
        for member in (2 * pair, 2 * pair + 1):
            plan[member] = [(record_id, rng.choice(DECISIONS)) for record_id in mine]
    jobs = [(database_url, reviewer_ids[i], project_id, plan[i]) for i in range(PROCESSES)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["postcart.literature.workflow"])
    with context.Pool(PROCESSES) as pool:
        results = pool.map(vote_all, jobs)
    failures = [f for _, fails, _ in results for f in fails]
    assert failures == []
    assert sum(done for done, _, _ in results) == PROCESSES * VOTES_EACH

    engine = engine_at(database_url)
    with session_scope(engine) as session:
        project = session.get_one(m.Project, project_id)
        stored = Counter((v.record_id, v.reviewer_id) for v in session.scalars(select(m.Vote)))
        assert len(stored) == PROCESSES * VOTES_EACH  # none lost
        assert set(stored.values()) == {1}  # none doubled
        reports = Counter(session.scalars(select(m.Report.record_id)))
        assert set(reports.values()) <= {1}
        decided: dict[int, list[str]] = {}
        for votes in plan.values():
            for record_id, decision in votes:
                decided.setdefault(record_id, []).append(decision)
        expected = {i: _expected(d) for i, d in decided.items()}
        actual = outcomes(session, project, TITLE_ABSTRACT)
        assert {i: actual[i] for i in ids} == expected
        advanced = {i for i, o in expected.items() if o is Outcome.ADVANCE}
        assert set(reports) == advanced  # every advanced record has its report, and only those
        _, cumulative = prisma.flow(session, project)
        tally = Counter(expected.values())
        assert cumulative.records_screened == tally[Outcome.ADVANCE] + tally[Outcome.EXCLUDE]
        assert cumulative.records_excluded == tally[Outcome.EXCLUDE]
        assert cumulative.reports_sought == tally[Outcome.ADVANCE]
        assert cumulative.records_awaiting == tally[Outcome.CONFLICT]
        assert session.scalar(select(func.count()).select_from(m.Vote)) == 2 * n_records
        # The queue state the triggers keep equals a recount, after all the concurrent writes.
        state = dict(session.execute(
            select(m.QueueState.record_id, m.QueueState.votes)
            .where(m.QueueState.stage == TITLE_ABSTRACT, m.QueueState.project_id == project_id)
        ).all())  # fmt: skip
        assert state == dict.fromkeys(ids, 2)
    engine.dispose()
