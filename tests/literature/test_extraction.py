"""Extraction into the evidence base: answers → EvidenceFile → YAML checked like a curated file,
dual extraction with blinding, unmatched answers, acceptance into a directory the loader reads.

The study used throughout is made up (invented for tests; not clinical data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from postcart.db import Base
from postcart.errors import AccessError, InputError
from postcart.evidence import DATA_DIR, load
from postcart.evidence.parsing import parse_file
from postcart.evidence.schemas import EvidenceFile
from postcart.literature import accounts, extraction, screening, store
from postcart.literature import models as m
from postcart.literature.screening import FULL_TEXT, TITLE_ABSTRACT

from ._litdb import WHEN, records

KEY = "invented2025_r1"
C0 = "studies[0].cohorts[0]"
ORR = f"{C0}.outcomes[0]"
#: A made-up real-world LBCL CAR T study, as a reviewer would fill in the form.
ANSWERS = {
    "source.citation": "Invented A, et al. A real-world CD19 CAR T cohort "
    "(invented for tests; not clinical data). J Test 2025.",
    "source.first_author": "Invented",
    "source.year": "2025",
    "studies[0].name": "Invented real-world CAR T cohort (test data)",
    "studies[0].design": "real_world",
    "studies[0].region": "Testland",
    "studies[0].disease": "LBCL",
    f"{C0}.label": "Infused",
    f"{C0}.intervention": "axicabtagene ciloleucel",
    f"{C0}.products": "axi-cel",
    f"{C0}.role": "cart_all_comers",
    f"{C0}.denominator_basis": "treated",
    f"{C0}.n": "120",
    f"{C0}.n_provenance.kind": "primary",
    f"{C0}.n_provenance.locator": "Table 1",
    f"{ORR}.measure": "orr",
    f"{ORR}.value": "68.3",
    f"{ORR}.unit": "percent",
    f"{ORR}.events": "82",
    f"{ORR}.provenance.kind": "primary",
    f"{ORR}.provenance.locator": "Table 2",
}


def test_answers_become_an_evidence_file_that_validates_with_the_curated_files() -> None:
    answers = extraction.normalise(ANSWERS)
    document = extraction.to_document(answers, KEY)
    model = extraction.to_evidence_file(document, f"{KEY}.yaml")
    assert isinstance(model, EvidenceFile)
    cohort = model.studies[0].cohorts[0]
    assert (cohort.key, cohort.n, cohort.products) == (f"{KEY}_c1", 120, ["axi-cel"])
    checked = extraction.validate(answers, KEY, base=[DATA_DIR])
    assert checked.ok, checked.problems
    written = extraction.to_yaml(document, "made up\nfor tests")
    assert written.startswith("# made up\n# for tests\n")
    assert "value: 68.3\n" in written  # the number as typed, not re-rendered
    assert yaml.safe_load(written)["studies"][0]["cohorts"][0]["outcomes"][0]["events"] == 82
    assert EvidenceFile.model_validate(yaml.safe_load(written)) == model


def test_numbers_keep_their_printed_precision(tmp_path: Path) -> None:
    answers = extraction.normalise({**ANSWERS, f"{ORR}.value": "68.30"})
    path = tmp_path / f"{KEY}.yaml"
    path.write_text(extraction.to_yaml(extraction.to_document(answers, KEY)), encoding="utf-8")
    parsed = parse_file(path)
    assert not isinstance(parsed, list)
    assert parsed.index.raw[("studies", 0, "cohorts", 0, "outcomes", 0, "value")] == "68.30"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({f"{ORR}.events": "500"}, f"{ORR}.events", "exceeds n=120"),
        ({f"{C0}.n_provenance.kind": "", f"{C0}.n_provenance.locator": ""},
         f"{C0}.n_provenance", "no provenance"),
        ({f"{C0}.products": "no-such-car"}, f"{C0}.products[0]", "unknown product"),
        ({f"{ORR}.value": "sixty"}, f"{ORR}.value", "valid number"),
        ({f"{C0}.role": "cart_selected"}, f"{C0}.selection", "needs a selection"),
    ],
)  # fmt: skip
def test_a_broken_answer_gives_a_problem_naming_its_field(
    change: dict[str, str], field: str, words: str
) -> None:
    answers = extraction.normalise({**ANSWERS, **change})
    checked = extraction.validate(answers, KEY, base=[DATA_DIR])
    assert not checked.ok
    assert [p.field for p in checked.problems] == [field], checked.problems
    assert words in checked.problems[0].message
    assert checked.problems[0].file == f"{KEY}.yaml"
    assert checked.elsewhere == ()


def test_review_quotes_must_occur_verbatim_in_the_founding_review() -> None:
    review = "In the made-up series the ORR was 68.3% among infused patients."
    quoted = {
        f"{ORR}.provenance.kind": "review",
        f"{ORR}.provenance.section": "Made-up section",
        f"{ORR}.provenance.quote": "the ORR was 68.3% among infused patients",
    }
    good = extraction.normalise({**ANSWERS, **quoted})
    assert extraction.validate(good, KEY, review_text=review).ok
    bent = extraction.normalise(
        {**ANSWERS, **quoted, f"{ORR}.provenance.quote": "the ORR was 68.3% in all patients"}
    )
    problems = extraction.validate(bent, KEY, review_text=review).problems
    assert [(p.field, p.message) for p in problems] == [
        (f"{ORR}.provenance.quote", "quote does not occur verbatim in the founding review")
    ]  # fmt: skip
    unknown = extraction.validate(good, KEY, review_text=None).problems
    assert [p.field for p in unknown] == [f"{ORR}.provenance.quote"]


def test_a_publication_already_in_the_base_is_refused() -> None:
    curated = next(s for s in load().sources if s.pmid)
    answers = extraction.normalise({**ANSWERS, "source.pmid": curated.pmid or ""})
    problems = extraction.validate(answers, f"invented2025_{curated.pmid}").problems
    assert [p.field for p in problems] == ["source.pmid"]
    assert curated.key in problems[0].message


def test_normalise_drops_spare_rows_and_names_the_form_never_has() -> None:
    posted = [
        *ANSWERS.items(),
        ("csrf_token", "x"),
        ("studies[0].cohorts[0].outcomes[0].bogus", "1"),
        ("studies[0].cohorts[3].label", "Second cohort"),
        ("studies[0].cohorts[1].label", "  "),
        (f"{C0}.outcomes[5].measure", "cr"),
        (f"{C0}.products", "tisa-cel, axi-cel"),
    ]
    answers = extraction.normalise(posted)
    assert "csrf_token" not in answers
    assert answers["studies[0].cohorts[1].label"] == "Second cohort"
    assert f"{C0}.outcomes[1].measure" in answers
    assert answers[f"{C0}.products"] == "axi-cel, tisa-cel"
    assert extraction.cohort_count(answers) == 2
    assert list(answers)[:3] == ["source.citation", "source.first_author", "source.year"]
    with pytest.raises(InputError):
        extraction.normalise({f"studies[0].cohorts[{i}].label": "x" for i in range(21)})


def test_unmatched_answers_are_listed_field_by_field() -> None:
    a = extraction.normalise(ANSWERS)
    b = extraction.normalise({**ANSWERS, f"{ORR}.value": "70.0", f"{ORR}.events": "84",
                              f"{C0}.n": "120.0", "studies[0].region": " Testland ",
                              "source.journal": "J Test"})  # fmt: skip
    found = extraction.unmatched([a, b])
    assert [(d.field, d.values) for d in found] == [
        ("source.journal", ("", "J Test")),
        (f"{ORR}.value", ("68.3", "70.0")),
        (f"{ORR}.events", ("82", "84")),
    ]
    assert found[1].label == "Cohort 1 · Outcome 1 · Value"
    assert extraction.unmatched([a, a]) == []


def test_extracted_dir_follows_the_environment_then_the_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(extraction.EXTRACTED_DIR_ENV, raising=False)
    db = tmp_path / "team.db"
    assert extraction.extracted_dir(f"sqlite:///{db}") == tmp_path / "extracted"
    assert extraction.extracted_dir("sqlite://") is None
    assert extraction.extracted_dir("postgresql+psycopg://u@h/db") is None
    monkeypatch.setenv(extraction.EXTRACTED_DIR_ENV, str(tmp_path / "elsewhere"))
    assert extraction.extracted_dir("postgresql+psycopg://u@h/db") == tmp_path / "elsewhere"


# --- the workflow on both databases ------------------------------------------------------------


@dataclass
class Team:
    project: m.Project
    ann: m.Reviewer  # owner and resolver
    bob: m.Reviewer
    cat: m.Reviewer
    dan: m.Reviewer  # a third reviewer
    vic: m.Reviewer  # viewer
    included: m.LitRecord
    excluded: m.LitRecord


def _include(session: Session, voters: list[m.Reviewer], record_id: int) -> None:
    for voter in voters:
        screening.cast_vote(session, voter, record_id, TITLE_ABSTRACT, "yes", WHEN)
    screening.set_retrieved(session, voters[0], record_id, True)
    for voter in voters:
        screening.cast_vote(session, voter, record_id, FULL_TEXT, "yes", WHEN)


def _team(session: Session, reviewers_full_text: int = 2) -> Team:
    people = [store.create_reviewer(session, n, f"pw-{n}") for n in ("ann", "bob", "cat", "dan",
                                                                     "vic")]  # fmt: skip
    ann, bob, cat, dan, vic = people
    project = store.create_project(session, "cart19", people, resolver=ann,
                                   reviewers_title_abstract=reviewers_full_text,
                                   reviewers_full_text=reviewers_full_text)  # fmt: skip
    session.get_one(m.Membership, (project.id, ann.id)).role = "owner"
    session.get_one(m.Membership, (project.id, vic.id)).role = "viewer"
    session.flush()
    store.import_records(session, project, records(2), file="a.nbib", format="medline",
                         imported_at=WHEN, update_no=1)  # fmt: skip
    rows = store.records_of(session, ann, project)
    _include(session, [bob, cat][:reviewers_full_text], rows[0].id)
    return Team(project, ann, bob, cat, dan, vic, rows[0], rows[1])


def test_the_migration_matches_the_model(session: Session) -> None:
    context = MigrationContext.configure(session.connection())
    diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "lit_extraction" in repr(d)] == []


def test_only_included_records_and_extracting_roles_open(session: Session) -> None:
    team = _team(session)
    project, record = extraction.open_record(
        session, team.bob, team.project.id, team.included.id, accounts.VOTING_ROLES
    )
    assert (project.id, record.id) == (team.project.id, team.included.id)
    for who, record_id in ((team.bob, team.excluded.id), (team.vic, team.included.id),
                           (team.bob, 10_000)):  # fmt: skip
        with pytest.raises(AccessError):
            extraction.open_record(session, who, team.project.id, record_id,
                                   accounts.VOTING_ROLES)  # fmt: skip


def test_dual_extraction_is_blinded_compared_and_accepted(session: Session, tmp_path: Path) -> None:
    team = _team(session)
    project, record = team.project, team.included
    bob = extraction.save(session, team.bob, project, record, ANSWERS, WHEN)
    # One extraction in: the resolver sees that it is there, not what it says.
    waiting = extraction.compare(session, team.ann, project, record)
    assert (waiting.ready, waiting.unmatched, len(waiting.extractions)) == (False, (), 1)
    with pytest.raises(InputError, match="waiting for 1"):
        extraction.accept(session, team.ann, project, record, {}, directory=tmp_path, when=WHEN)
    assert extraction.own(session, team.cat, record) is None  # cat cannot read bob's answers
    changed = {**ANSWERS, f"{ORR}.value": "70.0", f"{ORR}.events": "84"}
    cat = extraction.save(session, team.cat, project, record, changed, WHEN)
    with pytest.raises(InputError, match="already extracted by 2"):
        extraction.save(session, team.dan, project, record, ANSWERS, WHEN)
    with pytest.raises(AccessError):  # reviewers do not resolve
        extraction.compare(session, team.bob, project, record)

    comparison = extraction.compare(session, team.ann, project, record)
    assert comparison.names == ("bob", "cat")
    assert [(d.field, d.values) for d in comparison.unmatched] == [
        (f"{ORR}.value", ("68.3", "70.0")), (f"{ORR}.events", ("82", "84"))
    ]  # fmt: skip
    assert comparison.matched == len(extraction.normalise(ANSWERS)) - 2
    with pytest.raises(InputError, match="choose a version of: Cohort 1 · Outcome 1 · Value"):
        extraction.accept(session, team.ann, project, record, {f"{ORR}.events": bob.id},
                          directory=tmp_path, when=WHEN)  # fmt: skip
    assert not list(tmp_path.glob("*.yaml"))

    choices = {f"{ORR}.value": bob.id, f"{ORR}.events": bob.id}
    done = extraction.accept(session, team.ann, project, record, choices, directory=tmp_path,
                             when=WHEN)  # fmt: skip
    assert done.path == tmp_path / f"invented2025_r{record.id}.yaml"
    assert done.answers[f"{ORR}.value"] == "68.3"
    evidence = load([DATA_DIR, tmp_path])
    outcome = next(o for o in evidence.outcomes if o.cohort_key == f"{done.path.stem}_c1")
    assert (outcome.value, outcome.events) == (68.3, 82)
    assert "Extracted by bob, cat; accepted by ann" in done.path.read_text(encoding="utf-8")

    event = accounts.trail(session, project=project, entity="extraction")[-1]
    assert event.action == "accept"
    assert event.after is not None
    assert event.after["answers"] == done.answers
    assert event.after["from"] == [bob.id, cat.id]
    saves = [e for e in accounts.trail(session, entity="extraction") if e.action == "save"]
    assert len(saves) == 2
    with pytest.raises(InputError, match="already accepted"):
        extraction.save(session, team.bob, project, record, ANSWERS, WHEN)
    with pytest.raises(InputError, match="already accepted"):
        extraction.accept(session, team.ann, project, record, choices, directory=tmp_path,
                          when=WHEN)  # fmt: skip


def test_an_invalid_merge_is_refused_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    team = _team(session)
    folder = tmp_path / "extracted"
    project, record = team.project, team.included
    bob = extraction.save(session, team.bob, project, record,
                          {**ANSWERS, f"{ORR}.events": "500"}, WHEN)  # fmt: skip
    extraction.save(session, team.cat, project, record, ANSWERS, WHEN)
    with pytest.raises(extraction.ExtractionRefused) as refused:
        extraction.accept(session, team.ann, project, record, {f"{ORR}.events": bob.id},
                          directory=folder, when=WHEN)  # fmt: skip
    assert [p.field for p in refused.value.checked.problems] == [f"{ORR}.events"]
    assert not folder.exists()
    assert extraction.accepted(session, record) is None


def test_a_single_extractor_project_accepts_directly(session: Session, tmp_path: Path) -> None:
    team = _team(session, reviewers_full_text=1)
    project, record = team.project, team.included
    extraction.save(session, team.bob, project, record, ANSWERS, WHEN)
    comparison = extraction.compare(session, team.bob, project, record)
    assert comparison.ready
    assert comparison.unmatched == ()
    done = extraction.accept(session, team.bob, project, record, {}, directory=tmp_path,
                             when=WHEN)  # fmt: skip
    assert done.path.exists()
    assert [w.accepted_file for w in extraction.worklist(session, team.bob, project)] == [
        done.path.name
    ]
