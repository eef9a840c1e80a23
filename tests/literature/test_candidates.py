"""The next record found in SQL (``workflow.next_record``) is the one the full queue puts first.

``queue`` rebuilds the stage in Python and is the reference; ``next_record`` asks the database
for the eligible records only. Random projects (votes, assignments, duplicates, resolutions,
both stages) on both backends: for every reviewer, the two must agree on the first record,
the number left, and whether it is assigned or a second vote.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import models as m
from postcart.literature import screening, store, workflow
from postcart.literature.candidates import candidates
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT

from ._litdb import WHEN, records


def _project(session: Session, seed: int) -> tuple[m.Project, list[m.Reviewer], list[int]]:
    rng = random.Random(seed)
    people = [store.create_reviewer(session, f"p{seed}-{i}", "pw") for i in range(4)]
    project = store.create_project(session, f"c{seed}", people, resolver=people[0],
                                   reviewers_title_abstract=rng.choice([1, 2]))  # fmt: skip
    session.get_one(m.Membership, (project.id, people[0].id)).role = "owner"
    rows = records(24, prefix=f"S{seed}")
    store.import_records(session, project, rows, file="a", format="medline",
                         imported_at=WHEN, update_no=1)  # fmt: skip
    ids = [r.id for r in store.records_of(session, people[0], project)]
    for _ in range(3):  # a few duplicate groups; non-roots are never screened
        a, b = rng.sample(ids, 2)
        group = m.DuplicateGroup(project_id=project.id, root_record_id=a, method="test")
        session.add(group)
        session.flush()
        for rid in (a, b):
            session.get_one(m.LitRecord, rid).duplicate_group_id = group.id
    session.flush()
    if rng.random() < 0.7:
        workflow.assign(session, people[0], project, people[rng.randrange(1, 4)].id,
                        TITLE_ABSTRACT, rng.randrange(1, 8), when=WHEN)  # fmt: skip
    for _ in range(40):
        who = rng.choice(people)
        rid = rng.choice(ids)
        stage = FULL_TEXT if rng.random() < 0.3 else TITLE_ABSTRACT
        decision = rng.choice(["yes", "no", "maybe"] if stage == TITLE_ABSTRACT else ["yes", "no"])
        reason = project.exclusion_reasons[0] if decision == "no" and stage == FULL_TEXT else ""
        try:
            workflow.vote(session, who, project, rid, stage, decision, when=WHEN, reason=reason)
        except InputError:
            continue  # not eligible (duplicate, complete, no report): a real user is refused too
        record = session.get_one(m.LitRecord, rid)
        if screening.outcome(session, record, stage).value == "conflict" and rng.random() < 0.5:
            workflow.settle(session, people[0], project, rid, stage, "yes", when=WHEN)
    if rng.random() < 0.5:  # a reviewer leaves: pending votes withdrawn, assignments dropped
        leaving = people.pop(rng.randrange(1, len(people)))
        workflow.remove_member(session, people[0], project, leaving.id, when=WHEN)
    return project, people, ids


@pytest.mark.parametrize("seed", range(6))
def test_next_record_is_the_first_of_the_full_queue(session: Session, seed: int) -> None:
    project, people, _ = _project(session, seed)
    for who in people:
        for stage in (TITLE_ABSTRACT, FULL_TEXT):
            full = workflow.queue(session, who, project, stage)
            for second_only in (False, True):
                ids = [i for i in full.ids if i in full.second] if second_only else list(full.ids)
                nxt = workflow.next_record(session, who, project, stage, second_only=second_only)
                assert nxt.left == len(ids)
                assert (nxt.record.id if nxt.record else None) == (ids[0] if ids else None)
                if ids:
                    assert nxt.assigned == (ids[0] in full.assigned)
                    assert nxt.second == (ids[0] in full.second)
            found = {c.record_id for c in candidates(session, who.id, project, stage)}
            assert found == set(full.ids)


@pytest.mark.parametrize("seed", range(6, 10))
def test_the_queue_state_equals_a_recount_from_the_stored_rows(session: Session, seed: int) -> None:
    """``lit_queue`` is kept by triggers; after votes, assignments, resolutions and a removal
    it must hold exactly what counting the votes, claims and resolutions gives."""
    project, _, ids = _project(session, seed)
    session.flush()
    rows = session.scalars(select(m.QueueState).where(m.QueueState.project_id == project.id))
    state = {(q.record_id, q.stage): (q.votes, q.claimers, q.resolved) for q in rows}
    for rid in ids:
        for stage in (TITLE_ABSTRACT, FULL_TEXT):
            vote, claim, settled = m.Vote, m.Assignment, m.Resolution
            votes = session.scalars(select(vote.reviewer_id).where(
                vote.record_id == rid, vote.stage == stage)).all()  # fmt: skip
            assigned = session.scalars(select(claim.reviewer_id).where(
                claim.record_id == rid, claim.stage == stage)).all()  # fmt: skip
            resolved = session.scalar(select(settled.id).where(
                settled.record_id == rid, settled.stage == stage)) is not None  # fmt: skip
            assert state[(rid, stage)] == (len(votes), len(set(votes) | set(assigned)), resolved)
