"""The calibration round: a seeded, stored sample; kappa per pair checked by hand; blinding.

Oracle: Cohen's kappa worked out by hand in the test (observed agreement p_o, chance agreement
p_e from the two raters' marginal shares, kappa = (p_o - p_e) / (1 - p_e)).
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError
from postcart.literature import calibration, screening, store
from postcart.literature import models as m

from ._litdb import WHEN, records

#: Ten records rated by three made-up reviewers (y include, n exclude, m maybe).
ANN = ["y", "y", "y", "y", "n", "n", "n", "n", "n", "n"]
BOB = ["y", "y", "y", "n", "y", "n", "n", "n", "n", "n"]
CAT = ["y", "n", "n", "n", "n", "n", "n", "n", "n", "m"]


def _project(session: Session, n: int = 10) -> tuple[m.Project, list[m.Reviewer], list[int]]:
    people = [store.create_reviewer(session, name, f"pw-{name}") for name in ("ann", "bob", "cat")]
    project = store.create_project(session, "cart19", people, resolver=people[0])
    session.get_one(m.Membership, (project.id, people[0].id)).role = "owner"
    session.flush()
    store.import_records(session, project, records(n), file="a.nbib", format="medline",
                         imported_at=WHEN, update_no=1)  # fmt: skip
    ids = [r.id for r in store.records_of(session, people[0], project)]
    return project, people, ids


def test_kappa_per_pair_matches_the_hand_calculation(session: Session) -> None:
    project, (ann, bob, cat), ids = _project(session)
    round_ = calibration.start(session, ann, project, 10, when=WHEN, seed=2024)
    assert sorted(round_.record_ids) == ids  # all ten drawn
    order = {rid: i for i, rid in enumerate(ids)}
    decision = {"y": "yes", "n": "no", "m": "maybe"}
    for person, ratings in ((ann, ANN), (bob, BOB), (cat, CAT)):
        for rid in round_.record_ids:
            if person is cat and order[rid] == 9:
                continue  # cat has one record left: the round is not complete yet
            calibration.rate(session, person, project, rid, decision[ratings[order[rid]]],
                             when=WHEN)  # fmt: skip
    blind = calibration.report(session, bob, project)
    assert blind is not None
    assert blind.pairs is None  # blinding: no agreement until everyone has rated everything
    assert not blind.complete
    assert dict(blind.progress) == {"ann": 10, "bob": 10, "cat": 9}
    calibration.rate(session, cat, project, ids[9], "maybe", when=WHEN)
    done = calibration.report(session, bob, project)
    assert done is not None
    assert done.complete
    assert done.pairs is not None
    pairs = {(p.first, p.second): p for p in done.pairs}
    # ann-bob: alike on 8 of 10 (p_o = 0.8); both rated 4 yes, 6 no, so
    # p_e = (4*4 + 6*6) / 100 = 0.52 and kappa = (0.8 - 0.52) / 0.48 = 7/12.
    assert pairs["ann", "bob"].n == 10
    assert pairs["ann", "bob"].agreement == pytest.approx(0.8)
    assert pairs["ann", "bob"].kappa == pytest.approx(7 / 12)
    # ann-cat: alike on records 1 and 5-9 (p_o = 0.6); cat rated 1 yes, 8 no, 1 maybe, so
    # p_e = (4*1 + 6*8 + 0*1) / 100 = 0.52 and kappa = 0.08 / 0.48 = 1/6.
    assert pairs["ann", "cat"].agreement == pytest.approx(0.6)
    assert pairs["ann", "cat"].kappa == pytest.approx(1 / 6)
    # bob-cat: alike on records 1, 4 and 6-9 (p_o = 0.6); p_e = (4*1 + 6*8) / 100 = 0.52.
    assert pairs["bob", "cat"].agreement == pytest.approx(0.6)
    assert pairs["bob", "cat"].kappa == pytest.approx(1 / 6)


def test_the_sample_is_seeded_stored_and_drawn_from_unscreened_records(session: Session) -> None:
    project, (ann, bob, _cat), ids = _project(session, n=12)
    first = calibration.start(session, ann, project, 4, when=WHEN, seed=99)
    assert first.seed == 99
    assert first.record_ids == calibration.draw(ids, 4, 99)  # the same draw again
    assert len(set(first.record_ids)) == 4
    assert set(first.record_ids) <= set(ids)
    assert calibration.draw(ids, 4, 99) != calibration.draw(ids, 4, 100)
    with pytest.raises(InputError, match="already open"):
        calibration.start(session, ann, project, 4, when=WHEN, seed=1)
    calibration.close(session, ann, project, when=WHEN)
    second = calibration.start(session, ann, project, 3, when=WHEN)  # seed drawn and kept
    assert second.record_ids == calibration.draw(ids, 3, second.seed)
    with pytest.raises(AccessError):  # only owners start rounds
        calibration.close(session, bob, project, when=WHEN)
    calibration.close(session, ann, project, when=WHEN)
    with pytest.raises(InputError, match="only 12"):
        calibration.start(session, ann, project, 13, when=WHEN, seed=1)


def test_ratings_are_taken_once_only_on_the_sample_while_open(session: Session) -> None:
    project, (ann, bob, _cat), ids = _project(session, n=6)
    with pytest.raises(InputError, match="no calibration round"):
        calibration.rate(session, bob, project, ids[0], "yes", when=WHEN)
    round_ = calibration.start(session, ann, project, 2, when=WHEN, seed=7)
    inside = round_.record_ids[0]
    outside = next(rid for rid in ids if rid not in round_.record_ids)
    with pytest.raises(InputError, match="calibration round is open"):
        calibration.require_screening_open(session, project)
    calibration.rate(session, bob, project, inside, "no", when=WHEN, reason="not LBCL")
    with pytest.raises(InputError, match="already"):
        calibration.rate(session, bob, project, inside, "yes", when=WHEN)
    with pytest.raises(AccessError):
        calibration.rate(session, bob, project, outside, "yes", when=WHEN)
    with pytest.raises(InputError, match="decision"):
        calibration.rate(session, ann, project, inside, "perhaps", when=WHEN)
    closed = calibration.close(session, ann, project, when=WHEN)
    assert closed.pairs is not None  # closed: shown even though incomplete
    calibration.require_screening_open(session, project)  # screening is open now


def test_records_already_screened_are_not_drawn(session: Session) -> None:
    project, (ann, bob, _cat), ids = _project(session, n=6)
    for rid in ids[:2]:
        screening.cast_vote(session, bob, rid, "title_abstract", "yes", WHEN)
    with pytest.raises(InputError, match="only 4 record"):
        calibration.start(session, ann, project, 5, when=WHEN, seed=3)
    round_ = calibration.start(session, ann, project, 4, when=WHEN, seed=3)
    assert sorted(round_.record_ids) == ids[2:]
