"""Team screening workflow on both backends: queues, assignment, second votes, removal, counts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from postcart.db import Base
from postcart.errors import AccessError, InputError
from postcart.literature import accounts, screening, store, workflow
from postcart.literature import models as m
from postcart.literature.records import Record
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT, Outcome

from ._litdb import WHEN, engine_at, records


@dataclass
class Team:
    project: m.Project
    ann: m.Reviewer  # owner (and designated resolver)
    bob: m.Reviewer
    cat: m.Reviewer
    dan: m.Reviewer
    ids: list[int]


def _team(
    session: Session, rows: list[Record] | None = None, reviewers_title_abstract: int = 2
) -> Team:
    people = [store.create_reviewer(session, name, f"pw-{name}") for name in ("ann", "bob", "cat")]
    dan = store.create_reviewer(session, "dan", "pw-dan")
    ann = people[0]
    project = store.create_project(
        session,
        "cart19",
        [*people, dan],
        resolver=ann,
        reviewers_title_abstract=reviewers_title_abstract,
    )
    session.get_one(m.Membership, (project.id, ann.id)).role = "owner"
    session.flush()
    store.import_records(
        session,
        project,
        rows if rows is not None else records(6),
        file="a.nbib",
        format="medline",
        imported_at=WHEN,
        update_no=1,
    )
    ids = [r.id for r in store.records_of(session, ann, project)]
    return Team(project, ann, people[1], people[2], dan, ids)


@pytest.fixture
def team(session: Session) -> Team:
    return _team(session)


def _vote(
    s: Session, t: Team, who: m.Reviewer, rid: int, decision: str, reason: str = ""
) -> Outcome:
    return workflow.vote(s, who, t.project, rid, TITLE_ABSTRACT, decision, when=WHEN, reason=reason)


def test_bulk_outcomes_equal_the_core_rule(session: Session) -> None:
    t = _team(session, records(40))
    rng = random.Random(7)
    voters = [t.ann, t.bob, t.cat]
    for rid in t.ids:
        for who in rng.sample(voters, rng.choice([0, 1, 2])):
            screening.cast_vote(session, who, rid, TITLE_ABSTRACT, rng.choice(m.DECISIONS), WHEN)
    for rid in t.ids:
        if (
            screening.outcome(session, session.get_one(m.LitRecord, rid), TITLE_ABSTRACT)
            is (Outcome.CONFLICT)
            and rng.random() < 0.5
        ):
            screening.resolve(session, t.ann, rid, TITLE_ABSTRACT, rng.choice(["yes", "no"]), WHEN)
    for stage in m.STAGES:
        snap = workflow._stage(session, t.project, stage)
        for rid in t.ids:
            record = session.get_one(m.LitRecord, rid)
            assert snap.outcomes[rid] is screening.outcome(session, record, stage), (rid, stage)
    # and the queue is the core's queue when nothing is assigned (order aside)
    for who in voters:
        core = {r.id for r in screening.queue(session, who, t.project, TITLE_ABSTRACT)}
        assert set(workflow.queue(session, who, t.project, TITLE_ABSTRACT).ids) == core


def test_assigned_records_come_first_and_claimed_ones_leave_other_queues(
    session: Session, team: Team
) -> None:
    t = team
    last_two = workflow.assign(session, t.ann, t.project, t.bob.id, TITLE_ABSTRACT, 2, when=WHEN)
    assert last_two == t.ids[:2]  # import order
    # give bob the last two as well, then check his queue starts with all four assigned
    workflow.assign(session, t.ann, t.project, t.bob.id, TITLE_ABSTRACT, 2, when=WHEN)
    bob = workflow.queue(session, t.bob, t.project, TITLE_ABSTRACT)
    assert set(bob.ids[:4]) == set(t.ids[:4]) == bob.assigned
    # record 0 is claimed by bob and cat: two reviewers, as the stage needs; dan no longer sees it
    session.add(
        m.Assignment(
            record_id=t.ids[0],
            reviewer_id=t.cat.id,
            stage=TITLE_ABSTRACT,
            project_id=t.project.id,
            assigned_at=WHEN,
        )
    )
    session.flush()
    dan = workflow.queue(session, t.dan, t.project, TITLE_ABSTRACT)
    assert t.ids[0] not in dan.ids
    assert t.ids[1] in dan.ids  # one reviewer assigned, one slot free
    assert dan.assigned == frozenset()
    # the assignment was audited
    events = accounts.trail(session, project=t.project, entity="assignment")
    assert [e.action for e in events] == ["assign", "assign"]
    assert (events[0].before, events[0].after) == ({"records": []}, {"records": t.ids[:2]})
    assert (events[1].before, events[1].after) == ({"records": t.ids[:2]}, {"records": t.ids[:4]})


def test_split_evenly_gives_each_record_the_reviewers_it_needs(
    session: Session, team: Team
) -> None:
    t = team
    _vote(session, t, t.dan, t.ids[5], "yes")  # one vote in: the record needs one more reviewer
    added = workflow.split_evenly(session, t.ann, t.project, TITLE_ABSTRACT, when=WHEN)
    per_record: dict[int, set[int]] = {}
    for reviewer_id, ids in added.items():
        for rid in ids:
            per_record.setdefault(rid, set()).add(reviewer_id)
    assert {rid: len(who) for rid, who in per_record.items()} == {
        **dict.fromkeys(t.ids[:5], 2),
        t.ids[5]: 1,
    }
    assert t.dan.id not in per_record[t.ids[5]]
    loads = sorted(len(ids) for ids in added.values())
    assert loads[-1] - loads[0] <= 1  # 11 assignments over 4 reviewers: 3, 3, 3, 2
    assert sum(loads) == 11
    # every record is now claimed, so nobody has an unassigned record left in their queue
    for who in (t.ann, t.bob, t.cat, t.dan):
        waiting = workflow.queue(session, who, t.project, TITLE_ABSTRACT)
        assert set(waiting.ids) == waiting.assigned
    # splitting again finds nothing left to hand out
    assert workflow.split_evenly(session, t.ann, t.project, TITLE_ABSTRACT, when=WHEN) == {}


def test_second_vote_queue_holds_records_with_one_vote_of_two(session: Session, team: Team) -> None:
    t = team
    _vote(session, t, t.bob, t.ids[2], "no", "off topic")
    ann = workflow.queue(session, t.ann, t.project, TITLE_ABSTRACT)
    assert ann.second == {t.ids[2]}
    nxt = workflow.next_record(session, t.ann, t.project, TITLE_ABSTRACT, second_only=True)
    assert nxt.record is not None
    assert nxt.record.id == t.ids[2]
    assert nxt.left == 1
    assert t.ids[2] not in workflow.queue(session, t.bob, t.project, TITLE_ABSTRACT).ids
    counts = workflow.counts(session, t.ann, t.project)
    assert counts.second == {TITLE_ABSTRACT: 1, FULL_TEXT: 0}
    assert counts.queue[TITLE_ABSTRACT] == 6
    # with one reviewer per stage there is never a second vote to give
    t.project.reviewers_title_abstract = 1
    session.flush()
    assert workflow.queue(session, t.ann, t.project, TITLE_ABSTRACT).second == frozenset()


def test_a_vote_is_taken_only_while_the_record_waits(session: Session, team: Team) -> None:
    t = team
    assert _vote(session, t, t.bob, t.ids[0], "yes") is Outcome.PENDING
    assert _vote(session, t, t.bob, t.ids[0], "maybe") is Outcome.PENDING  # changed while blind
    assert _vote(session, t, t.cat, t.ids[0], "yes") is Outcome.ADVANCE
    with pytest.raises(InputError, match="complete"):
        _vote(session, t, t.dan, t.ids[0], "no")  # a third vote
    with pytest.raises(InputError, match="complete"):
        _vote(session, t, t.bob, t.ids[0], "no")  # a change after seeing cat's vote
    trail = accounts.trail(session, project=t.project, entity="vote")
    assert [(e.before, e.after) for e in trail][:2] == [
        (None, {"decision": "yes", "reason": "", "outcome": "pending"}),
        (
            {"decision": "yes", "reason": ""},
            {"decision": "maybe", "reason": "", "outcome": "pending"},
        ),
    ]


def test_roles_and_project_isolation(session: Session, team: Team) -> None:
    t = team
    session.get_one(m.Membership, (t.project.id, t.dan.id)).role = "viewer"
    session.flush()
    with pytest.raises(AccessError):
        _vote(session, t, t.dan, t.ids[0], "yes")  # a viewer reads, never votes
    with pytest.raises(AccessError):
        workflow.assign(session, t.bob, t.project, t.cat.id, TITLE_ABSTRACT, 1, when=WHEN)
    with pytest.raises(AccessError):
        workflow.conflicts(session, t.bob, t.project)
    with pytest.raises(InputError, match="not a voting member"):
        workflow.assign(session, t.ann, t.project, t.dan.id, TITLE_ABSTRACT, 1, when=WHEN)
    other = store.create_project(session, "other", [t.ann])
    store.import_records(
        session,
        other,
        records(1, "Other"),
        file="b.ris",
        format="ris",
        imported_at=WHEN,
        update_no=1,
    )
    foreign = store.records_of(session, t.ann, other)[0].id
    with pytest.raises(AccessError):  # a record id from another project, even one's own
        _vote(session, t, t.ann, foreign, "yes")
    assert workflow.counts(session, t.dan, t.project).queue == {}
    assert workflow.counts(session, t.dan, t.project).conflicts is None


def test_removal_requeues_pending_records_and_keeps_conflicts(session: Session, team: Team) -> None:
    t = team
    t.project.resolver_id = t.bob.id  # bob is also the designated resolver
    session.flush()
    _vote(session, t, t.bob, t.ids[0], "yes")  # pending: withdrawn
    _vote(session, t, t.bob, t.ids[1], "yes", "bob's note")
    _vote(session, t, t.cat, t.ids[1], "no")  # conflict: kept
    _vote(session, t, t.bob, t.ids[2], "no")
    _vote(session, t, t.cat, t.ids[2], "no")  # settled: kept
    workflow.assign(session, t.ann, t.project, t.bob.id, TITLE_ABSTRACT, 2, when=WHEN)
    assert t.ids[0] in workflow.queue(session, t.cat, t.project, TITLE_ABSTRACT).second

    removal = workflow.remove_member(session, t.ann, t.project, t.bob.id, when=WHEN)

    assert removal.requeued == ((t.ids[0], TITLE_ABSTRACT),)
    assert removal.kept_conflicts == ((t.ids[1], TITLE_ABSTRACT),)
    assert removal.released_assignments == 2
    assert removal.resolver_now == "ann"
    cat = workflow.queue(session, t.cat, t.project, TITLE_ABSTRACT)
    assert t.ids[0] in cat.ids
    assert t.ids[0] not in cat.second  # bob's vote no longer counts towards it
    record2 = session.get_one(m.LitRecord, t.ids[2])
    assert screening.outcome(session, record2, TITLE_ABSTRACT) is Outcome.EXCLUDE
    found = workflow.conflicts(session, t.ann, t.project)
    assert [(c.record.id, c.stage) for c in found] == [(t.ids[1], TITLE_ABSTRACT)]
    assert {(v.reviewer, v.removed, v.decision, v.reason) for v in found[0].votes} == {
        ("bob", True, "yes", "bob's note"),
        ("cat", False, "no", ""),
    }
    with pytest.raises(AccessError):
        workflow.queue(session, t.bob, t.project, TITLE_ABSTRACT)
    # the conflict is not stranded: ann took over as resolver and settles it
    result = workflow.settle(session, t.ann, t.project, t.ids[1], TITLE_ABSTRACT, "no", when=WHEN)
    assert result is Outcome.EXCLUDE
    (event,) = accounts.trail(session, project=t.project, entity="membership")
    assert event.action == "remove_member"
    assert event.before is not None
    assert event.before["withdrawn_votes"] == [
        {"record_id": t.ids[0], "stage": TITLE_ABSTRACT, "decision": "yes", "reason": ""}
    ]
    assert event.after == {
        "member": False,
        "kept_conflicts": [[t.ids[1], TITLE_ABSTRACT]],
        "resolver_id": t.ann.id,
    }
    with pytest.raises(InputError, match="themselves"):
        workflow.remove_member(session, t.ann, t.project, t.ann.id, when=WHEN)
    with pytest.raises(AccessError):
        workflow.remove_member(session, t.ann, t.project, t.bob.id, when=WHEN)  # already gone


def test_removal_at_full_text_withdraws_only_the_pending_stage(
    session: Session, team: Team
) -> None:
    t = team
    for who in (t.bob, t.cat):
        _vote(session, t, who, t.ids[0], "yes")
    workflow.vote(session, t.bob, t.project, t.ids[0], FULL_TEXT, "yes", when=WHEN)
    removal = workflow.remove_member(session, t.ann, t.project, t.bob.id, when=WHEN)
    assert removal.requeued == ((t.ids[0], FULL_TEXT),)
    assert t.ids[0] in workflow.queue(session, t.cat, t.project, FULL_TEXT).ids
    assert len(screening._votes(session, t.ids[0], TITLE_ABSTRACT)) == 2


def test_counts_follow_votes_and_resolutions(session: Session, team: Team) -> None:
    t = team
    before = workflow.fingerprint(session, t.project)
    _vote(session, t, t.bob, t.ids[0], "yes")
    assert workflow.fingerprint(session, t.project) != before
    _vote(session, t, t.cat, t.ids[0], "no")
    _vote(session, t, t.bob, t.ids[1], "no")
    _vote(session, t, t.cat, t.ids[1], "no")
    counts = workflow.counts(session, t.ann, t.project)
    assert counts.role == "owner"
    assert counts.conflicts == {TITLE_ABSTRACT: 1, FULL_TEXT: 0}
    assert counts.prisma is not None
    assert (counts.prisma.records_screened, counts.prisma.records_excluded) == (1, 1)
    assert counts.prisma.records_awaiting == 5
    kappa = counts.kappa[TITLE_ABSTRACT]
    assert kappa is not None
    assert kappa[1] == 2
    assert counts.kappa[FULL_TEXT] is None
    bob = workflow.counts(session, t.bob, t.project)
    assert bob.conflicts is None
    assert bob.queue == {TITLE_ABSTRACT: 4, FULL_TEXT: 0}
    workflow.settle(session, t.ann, t.project, t.ids[0], TITLE_ABSTRACT, "yes", when=WHEN)
    after = workflow.counts(session, t.ann, t.project)
    assert after.conflicts == {TITLE_ABSTRACT: 0, FULL_TEXT: 0}
    assert after.prisma is not None
    assert (after.prisma.records_screened, after.prisma.reports_sought) == (2, 1)
    assert workflow.counts(session, t.bob, t.project).queue[FULL_TEXT] == 1


def test_queue_follows_the_model_once_both_classes_are_settled(session: Session) -> None:
    words = {True: "lymphoma relapse salvage", False: "dental implant surgery"}
    pattern = [False] * 8 + [True] * 4
    rows = [
        Record(
            title=f"{words[relevant]} report {i}",
            source_file="x",
            source_line=i,
            source_format="ris",
            abstract=f"{words[relevant]} outcomes {i}",
        )
        for i, relevant in enumerate(pattern)
    ]
    t = _team(session, rows, reviewers_title_abstract=1)
    import_order = workflow.queue(session, t.ann, t.project, TITLE_ABSTRACT).ids
    assert list(import_order) == t.ids
    _vote(session, t, t.ann, t.ids[0], "no")  # one exclusion: still import order
    assert list(workflow.queue(session, t.ann, t.project, TITLE_ABSTRACT).ids) == t.ids[1:]
    _vote(session, t, t.ann, t.ids[8], "yes")  # and an inclusion: the model takes over
    ranked = workflow.queue(session, t.ann, t.project, TITLE_ABSTRACT).ids
    assert set(ranked[:3]) == set(t.ids[9:12])


def test_migration_matches_the_model(tmp_path: Path) -> None:
    engine = engine_at(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if "lit_assignment" in repr(d)] == []
