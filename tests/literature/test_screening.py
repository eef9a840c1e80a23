"""Screening rules on a real SQLite database: consensus, conflicts, blinding, reasons, isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from postcart.db import session_scope
from postcart.errors import AccessError, InputError
from postcart.literature import models as m
from postcart.literature import screening, store
from postcart.literature.kappa import stage_kappa
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT, Outcome

from ._litdb import WHEN, engine_at, records


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with session_scope(engine_at(f"sqlite:///{tmp_path / 'lit.db'}")) as s:
        yield s


@pytest.fixture
def team(session: Session) -> tuple[m.Project, m.Reviewer, m.Reviewer, m.Reviewer]:
    ann = store.create_reviewer(session, "ann", "pw-ann")
    bob = store.create_reviewer(session, "bob", "pw-bob")
    cat = store.create_reviewer(session, "cat", "pw-cat")
    project = store.create_project(session, "cart19", [ann, bob, cat], resolver=cat)
    store.import_records(
        session,
        project,
        records(6),
        file="a.nbib",
        format="medline",
        imported_at=WHEN,
        update_no=1,
    )
    return project, ann, bob, cat


def _ids(session: Session, who: m.Reviewer, project: m.Project) -> list[int]:
    return [r.id for r in store.records_of(session, who, project)]


def test_two_yes_or_maybe_advance_two_no_exclude_mixed_conflict(session, team) -> None:
    project, ann, bob, _ = team
    ids = _ids(session, ann, project)
    vote = screening.cast_vote
    assert vote(session, ann, ids[0], TITLE_ABSTRACT, "yes", WHEN) is Outcome.PENDING
    assert vote(session, bob, ids[0], TITLE_ABSTRACT, "maybe", WHEN) is Outcome.ADVANCE
    vote(session, ann, ids[1], TITLE_ABSTRACT, "no", WHEN)
    assert vote(session, bob, ids[1], TITLE_ABSTRACT, "no", WHEN) is Outcome.EXCLUDE
    vote(session, ann, ids[2], TITLE_ABSTRACT, "maybe", WHEN)
    assert vote(session, bob, ids[2], TITLE_ABSTRACT, "no", WHEN) is Outcome.CONFLICT
    # a Report exists only for the advanced record
    reports = session.query(m.Report).all()
    assert [r.record_id for r in reports] == [ids[0]]


def test_blinding_hides_other_votes_until_both_voted(session, team) -> None:
    project, ann, bob, _ = team
    rid = _ids(session, ann, project)[0]
    screening.cast_vote(session, ann, rid, TITLE_ABSTRACT, "yes", WHEN)
    assert screening.visible_votes(session, bob, rid, TITLE_ABSTRACT) == []
    assert len(screening.visible_votes(session, ann, rid, TITLE_ABSTRACT)) == 1
    screening.cast_vote(session, bob, rid, TITLE_ABSTRACT, "no", WHEN)
    seen = screening.visible_votes(session, bob, rid, TITLE_ABSTRACT)
    assert sorted(v.decision for v in seen) == ["no", "yes"]


def test_full_text_exclusion_needs_listed_reason_and_resolution(session, team) -> None:
    project, ann, bob, cat = team
    rid = _ids(session, ann, project)[0]
    for who in (ann, bob):
        screening.cast_vote(session, who, rid, TITLE_ABSTRACT, "yes", WHEN)
    with pytest.raises(InputError, match="reason"):
        screening.cast_vote(session, ann, rid, FULL_TEXT, "no", WHEN)
    with pytest.raises(InputError, match="reason"):
        screening.cast_vote(session, ann, rid, FULL_TEXT, "no", WHEN, reason="boring")
    screening.cast_vote(session, ann, rid, FULL_TEXT, "no", WHEN, reason="case report")
    # two No with different reasons are a conflict, as in Covidence
    result = screening.cast_vote(session, bob, rid, FULL_TEXT, "no", WHEN, reason="not LBCL")
    assert result is Outcome.CONFLICT
    with pytest.raises(InputError, match="not the resolver"):
        screening.resolve(session, ann, rid, FULL_TEXT, "no", WHEN, reason="not LBCL")
    assert screening.resolve(session, cat, rid, FULL_TEXT, "no", WHEN, "not LBCL") is (
        Outcome.EXCLUDE
    )


def test_full_text_inclusion_creates_study(session, team) -> None:
    project, ann, bob, _ = team
    rid = _ids(session, ann, project)[0]
    for who in (ann, bob):
        screening.cast_vote(session, who, rid, TITLE_ABSTRACT, "yes", WHEN)
    for who in (ann, bob):
        last = screening.cast_vote(session, who, rid, FULL_TEXT, "yes", WHEN)
    assert last is Outcome.ADVANCE
    assert session.query(m.Study).count() == 1


def test_living_update_keeps_every_decision(session, team) -> None:
    project, ann, bob, _ = team
    ids = _ids(session, ann, project)
    for who in (ann, bob):
        screening.cast_vote(session, who, ids[0], TITLE_ABSTRACT, "yes", WHEN)
        screening.cast_vote(session, who, ids[1], TITLE_ABSTRACT, "no", WHEN)
    update = store.next_update_no(session, project)
    assert update == 2
    # the update re-finds record 0 (same PMID) plus 3 new ones
    store.import_records(
        session,
        project,
        records(4),
        file="b.nbib",
        format="medline",
        imported_at=WHEN,
        update_no=update,
    )
    assert store.link_duplicates(session, ann, project) == 8  # 4 groups of 2 records
    rows = store.records_of(session, ann, project)
    assert len(rows) == 10
    assert screening.outcome(session, rows[0], TITLE_ABSTRACT) is Outcome.ADVANCE
    assert screening.outcome(session, rows[1], TITLE_ABSTRACT) is Outcome.EXCLUDE
    # the old record stays the root; its re-found copy is a duplicate and not queued
    queued = {r.id for r in screening.queue(session, ann, project, TITLE_ABSTRACT)}
    assert ids[0] not in queued
    assert not any(store.is_duplicate(session, r) for r in rows[:6])
    assert all(store.is_duplicate(session, r) for r in rows[6:])


def test_isolation_between_projects(session, team) -> None:
    project, ann, _, _ = team
    dan = store.create_reviewer(session, "dan", "pw-dan")
    other = store.create_project(session, "other", [dan], reviewers_title_abstract=1)
    store.import_records(
        session,
        other,
        records(2, prefix="Other"),
        file="o.ris",
        format="ris",
        imported_at=WHEN,
        update_no=1,
    )
    assert [p.name for p in store.projects_of(session, dan)] == ["other"]
    with pytest.raises(AccessError):
        store.records_of(session, dan, project)
    with pytest.raises(AccessError):
        store.record_for(session, dan, _ids(session, ann, project)[0])
    with pytest.raises(AccessError):
        screening.cast_vote(session, ann, _ids(session, dan, other)[0], TITLE_ABSTRACT, "yes", WHEN)


def test_password_is_salted_scrypt(session) -> None:
    a = store.create_reviewer(session, "x", "same")
    b = store.create_reviewer(session, "y", "same")
    assert a.password_hash != b.password_hash
    assert "same" not in a.password_hash
    assert store.authenticate(session, "x", "same").id == a.id
    with pytest.raises(InputError):
        store.authenticate(session, "x", "other")


def test_stage_kappa_from_votes(session, team) -> None:
    project, ann, bob, _ = team
    ids = _ids(session, ann, project)
    # ann: y y n n ; bob: y n n n -> p_o = 3/4; p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2; kappa = .5
    for rid, a, b in zip(ids, "yynn", "ynnn", strict=False):
        screening.cast_vote(session, ann, rid, TITLE_ABSTRACT, {"y": "yes", "n": "no"}[a], WHEN)
        screening.cast_vote(session, bob, rid, TITLE_ABSTRACT, {"y": "yes", "n": "no"}[b], WHEN)
    result = stage_kappa(session, project, TITLE_ABSTRACT)
    assert result is not None
    assert result[0] == pytest.approx(0.5)
    assert result[1] == 4
