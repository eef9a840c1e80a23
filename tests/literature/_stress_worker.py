"""One reviewer's process in the screening stress test (a module of its own so that worker
processes can import it)."""

from __future__ import annotations

import time
from datetime import datetime

from postcart.db import make_engine, run_in_transaction
from postcart.literature import models as m
from postcart.literature import workflow
from postcart.literature.screening import TITLE_ABSTRACT

WHEN = datetime(2026, 12, 2, 12, 0, 0)


Job = tuple[str, int, int, list[tuple[int, str]]]


def vote_all(job: Job) -> tuple[int, list[str], list[float]]:
    """Cast every (record, decision) of one reviewer, each in its own retried transaction.

    Returns (votes acknowledged, failures as text, seconds per vote).
    """
    url, reviewer_id, project_id, plan = job
    engine = make_engine(url)
    done, failures, seconds = 0, [], []
    for record_id, decision in plan:

        def work(session: object, record_id: int = record_id, decision: str = decision) -> str:
            reviewer = session.get_one(m.Reviewer, reviewer_id)  # type: ignore[attr-defined]
            project = session.get_one(m.Project, project_id)  # type: ignore[attr-defined]
            return workflow.vote(
                session,  # type: ignore[arg-type]
                reviewer,
                project,
                record_id,
                TITLE_ABSTRACT,
                decision,
                when=WHEN,
            ).value

        started = time.perf_counter()
        try:
            run_in_transaction(engine, work)
            done += 1
        except Exception as error:  # reported to the test, which fails on any
            failures.append(f"{record_id}: {type(error).__name__}: {error}"[:300])
        seconds.append(time.perf_counter() - started)
    engine.dispose()
    return done, failures, seconds
