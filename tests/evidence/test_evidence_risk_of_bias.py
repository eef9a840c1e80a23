"""Risk-of-bias templates and judgements: validated like the evidence files, never invented.

The curated judgements must rest on text we hold (review quotes found in the review); broken
files must be refused with file:line: field; two assessors' disagreements must be listed as
unmatched answers until a resolution exists.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from postcart.errors import EvidenceValidationError
from postcart.evidence import load
from postcart.evidence.quotes import occurs_in
from postcart.evidence.risk_of_bias import ROB_DIR, TEMPLATE_DIR, Concern, load_risk_of_bias
from postcart.evidence.vocab import ProvenanceKind

ANSWER = """\
  - study: {study}
    template: {template}
    template_version: "{version}"
    assessor: {assessor}
    date: "2026-12-01"
    answers:
      - domain: {domain}
        judgement: {judgement}
        rationale: test fixture, not a judgement of a real study
        provenance:
          kind: primary
          locator: test fixture
"""


def _folder(tmp_path: Path, *blocks: str, resolutions: str = "[]") -> Path:
    """A judgement folder with the real templates and the given assessment blocks."""
    shutil.copytree(TEMPLATE_DIR, tmp_path / "templates")
    text = "assessments:\n" + "".join(blocks) if blocks else "assessments: []\n"
    (tmp_path / "judgements.yaml").write_text(text + f"resolutions: {resolutions}\n",
                                              encoding="utf-8")  # fmt: skip
    return tmp_path


def _answer(**kw: str) -> str:
    values = {"study": "s1", "template": "robins_i", "version": "2016", "assessor": "A",
              "domain": "d1_confounding", "judgement": "low"} | kw  # fmt: skip
    return ANSWER.format(**values)


def test_curated_judgements_load_and_rest_on_text_we_hold(seed_review_text: str) -> None:
    evidence = load()
    rob = load_risk_of_bias(study_keys=[s.key for s in evidence.studies])
    assert {t.key for t in rob.templates} == {"jbi_case_series", "murad_2018", "robins_i"}
    assert rob.answers, "the curated file holds at least one judgement"
    for a in rob.answers:
        assert a.rationale
        if a.provenance.kind == ProvenanceKind.review:
            assert a.provenance.quote is not None
            assert occurs_in(a.provenance.quote, seed_review_text), (a.file, a.line)
        else:
            assert a.provenance.locator or a.provenance.quote


def test_every_template_allows_no_information_and_has_signalling_questions() -> None:
    rob = load_risk_of_bias()
    for t in rob.templates:
        assert t.option("no_information") is not None
        assert t.option("no_information").concern == Concern.no_information  # type: ignore[union-attr]
        assert all(d.signalling for d in t.domains)
    assert len(rob.template("jbi_case_series").domains) == 10
    assert len(rob.template("murad_2018").domains) == 8
    assert len(rob.template("robins_i").domains) == 7


@pytest.mark.parametrize(
    ("block", "field", "message"),
    [
        (_answer(domain="d9_nothing"), "assessments[0].answers[0].domain", "no domain"),
        (_answer(judgement="maybe"), "assessments[0].answers[0].judgement", "not a robins_i"),
        (_answer(version="2025"), "assessments[0].template_version", "re-assess"),
        (_answer(template="rob2"), "assessments[0].template", "unknown template"),
        (_answer(study="nobody"), "assessments[0].study", "unknown study"),
        (_answer(judgement="yes"), "assessments[0].answers[0].judgement",
         "bare yes/no/true/false"),
    ],
)  # fmt: skip
def test_bad_judgements_are_refused_with_file_line_and_field(
    tmp_path: Path, block: str, field: str, message: str
) -> None:
    folder = _folder(tmp_path, block)
    with pytest.raises(EvidenceValidationError) as err:
        load_risk_of_bias(folder, study_keys=["s1"])
    text = str(err.value)
    assert f"judgements.yaml:{_line_of(folder, field)}: {field}:" in text
    assert message in text


def _line_of(folder: Path, field: str) -> int:
    """The 1-based line where the offending key sits (counted here, independently)."""
    key = field.rsplit(".", 1)[-1]
    key = "domain" if key == "answers[0]" else key
    lines = (folder / "judgements.yaml").read_text(encoding="utf-8").splitlines()
    needle = {"study": "- study:"}.get(key, f"{key}:")
    return next(i + 1 for i, line in enumerate(lines) if line.strip().startswith(needle)
                or line.strip().startswith(f"- {key}:"))  # fmt: skip


def test_a_review_judgement_without_quote_is_refused(tmp_path: Path) -> None:
    block = _answer().replace("kind: primary\n          locator: test fixture",
                              "kind: review\n          section: Radiation therapy")  # fmt: skip
    with pytest.raises(EvidenceValidationError) as err:
        load_risk_of_bias(_folder(tmp_path, block))
    assert "assessments[0].answers[0].provenance: a judgement read in the review needs " \
           "provenance.quote" in str(err.value)  # fmt: skip


def test_the_same_assessor_answering_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvidenceValidationError) as err:
        load_risk_of_bias(_folder(tmp_path, _answer(), _answer(judgement="serious")))
    assert "A already answered d1_confounding for s1" in str(err.value)


def test_two_assessors_disagreeing_are_unmatched_until_resolved(tmp_path: Path) -> None:
    blocks = (_answer(assessor="A", judgement="low"), _answer(assessor="B", judgement="serious"))
    rob = load_risk_of_bias(_folder(tmp_path / "open", *blocks))
    final = rob.final("s1", "d1_confounding")
    assert (final.status, final.judgement) == ("unmatched", None)
    [u] = rob.unmatched()
    assert {a.assessor: a.judgement for a in u.answers} == {"A": "low", "B": "serious"}
    resolution = (
        "\n  - study: s1\n    template: robins_i\n    domain: d1_confounding\n"
        "    judgement: serious\n    resolved_by: C\n    reason: consensus meeting\n"
    )
    rob = load_risk_of_bias(_folder(tmp_path / "done", *blocks, resolutions=resolution))
    assert rob.unmatched() == []
    final = rob.final("s1", "d1_confounding")
    assert (final.status, final.judgement) == ("resolved", "serious")


def test_two_assessors_agreeing_are_agreed(tmp_path: Path) -> None:
    rob = load_risk_of_bias(_folder(tmp_path, _answer(assessor="A"), _answer(assessor="B")))
    assert rob.final("s1", "d1_confounding").status == "agreed"
    assert rob.final("s1", "d2_selection").status == "unrated"


def test_study_concern_is_the_worst_item_and_needs_every_item(tmp_path: Path) -> None:
    domains = ["d1_confounding", "d2_selection", "d3_classification", "d4_deviations",
               "d5_missing_data", "d6_measurement", "d7_reported_result"]  # fmt: skip
    block = "".join(_answer(domain=d, judgement="low") for d in domains[:6])
    partial = load_risk_of_bias(_folder(tmp_path / "p", block))
    assert partial.study_concern("s1") is None  # one of seven items unrated
    assert partial.rated_items("s1") == (6, 7)
    last = _answer(domain=domains[6], judgement="no_information")
    full = load_risk_of_bias(_folder(tmp_path / "f", block, last))
    assert full.study_concern("s1") == Concern.no_information  # NI is worse than low
    last = _answer(domain=domains[6], judgement="critical")
    worst = load_risk_of_bias(_folder(tmp_path / "w", block, last))
    assert worst.study_concern("s1") == Concern.high
    assert worst.study_concern("unassessed") is None


def test_the_package_folder_is_the_default() -> None:
    assert ROB_DIR.name == "risk_of_bias"
    assert (ROB_DIR / "templates").is_dir()


def test_a_template_without_no_information_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    path = folder / "templates" / "robins_i.yaml"
    text = path.read_text(encoding="utf-8")
    cut = text.index("    - value: no_information")
    path.write_text(text[:cut] + text[cut:].split("\n", 3)[3], encoding="utf-8")
    with pytest.raises(EvidenceValidationError) as err:
        load_risk_of_bias(folder)
    line = next(i + 1 for i, s in enumerate(path.read_text("utf-8").splitlines())
                if s.strip() == "judgements:")  # fmt: skip
    assert f"robins_i.yaml:{line}: template.judgements: every template must allow the " \
           "judgement no_information" in str(err.value)  # fmt: skip
