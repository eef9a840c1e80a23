"""Each validation rule, fired by a fixture that breaks only it, names file, line and field.

The expected line is the one the fixture marks with ``# <- broken``, read from the file itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.errors import EvidenceValidationError, Problem
from postcart.evidence import load

OUTCOME = "studies[0].cohorts[0].outcomes[0]"

#: fixture file → (field path the problem must name, words the message must contain)
CASES: dict[str, tuple[str, str]] = {
    "percent_range": (f"{OUTCOME}.value", "120 is a percentage outside 0–100"),
    "cr_above_orr": ("studies[0].cohorts[0].outcomes[1].value", "CR 45 exceeds ORR 40"),
    "events_over_n": (f"{OUTCOME}.events", "30 exceeds n=22"),
    "events_over_denominator": (f"{OUTCOME}.events", "12 exceeds denominator 10"),
    "landmark_timepoint": (f"{OUTCOME}.timepoint_months", "needs a timepoint"),
    "unknown_product": ("studies[0].cohorts[0].products[1]", "unknown product key 'prod-zzz'"),
    "unknown_therapy": ("studies[0].cohorts[0].therapy", "unknown therapy key 'ther-zzz'"),
    "duplicate_key": ("studies[0].cohorts[1].key", "duplicate cohort key 'c1'"),
    "review_quote_missing": (f"{OUTCOME}.provenance.quote", "required when kind is review"),
    "review_section_missing": (f"{OUTCOME}.provenance.section", "required when kind is review"),
    "other_label": (f"{OUTCOME}.label", "label is required when measure is other"),
    "unknown_discrepancy": (f"{OUTCOME}.discrepancy.other", "unknown outcome key"),
    "unknown_risk_study": ("risk_factors[0].study", "unknown study 'no-such-study'"),
    "unit_measure": (f"{OUTCOME}.unit", "percent does not fit median_os"),
    "quote_figure": (f"{OUTCOME}.value", "82 does not appear in the review quote"),
    "quote_range": (f"{OUTCOME}.range_high", "65 does not appear in the review quote"),
    "schema_vocabulary": (f"{OUTCOME}.measure", "Input should be"),
    "schema_unknown_field": (f"{OUTCOME}.responders", "Extra inputs are not permitted"),
    "unknown_cited_source": (f"{OUTCOME}.provenance.source_key", "unknown source"),
    "unknown_subgroup": ("studies[0].cohorts[0].subgroup_of", "unknown cohort"),
    "bounds_order": (f"{OUTCOME}.ci_low", "ci_low 8 exceeds ci_high 3.1"),
    "duplicate_field": (f"{OUTCOME}.value", "field given twice"),
    "yaml_syntax": ("(yaml)", "expected ',' or ']'"),
    "n_provenance_missing": ("studies[0].cohorts[0].n_provenance", "n = 22 has no provenance"),
    "n_quote_figure": ("studies[0].cohorts[0].n", "22 does not appear in the review quote"),
    "role_selection": ("studies[0].cohorts[0].selection", "needs a selection"),
    "role_therapy": ("studies[0].cohorts[0].therapy", "needs the salvage therapy"),
    "overlap_unknown_cohort": ("overlaps[0].cohorts[1]", "unknown cohort 'no-such-cohort'"),
}


def marked_line(path: Path) -> int:
    """The 1-based line the fixture marks as broken."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if "# <- broken" in line)


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(EvidenceValidationError) as caught:
        load(path)
    return caught.value.problems


def test_every_broken_fixture_has_a_case(broken_dir: Path) -> None:
    assert {p.stem for p in broken_dir.glob("*.yaml")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_names_file_line_and_field(broken_dir: Path, name: str) -> None:
    path = broken_dir / f"{name}.yaml"
    field, words = CASES[name]
    problems = problems_of(path)
    assert len(problems) == 1, problems  # the fixture breaks this rule and nothing else
    (problem,) = problems
    assert problem.file == str(path)
    assert problem.line == marked_line(path)
    assert problem.field == field
    assert words in problem.message
    assert str(problem).startswith(f"{path}:{marked_line(path)}: {field}: ")


def test_all_problems_are_collected_across_files(broken_dir: Path) -> None:
    names = ["percent_range", "unit_measure", "unknown_therapy"]
    with pytest.raises(EvidenceValidationError) as caught:
        load([broken_dir / f"{name}.yaml" for name in names])
    # Three files with one problem each, plus the duplicate source key "broken" twice over.
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == sorted(
        [
            f"{OUTCOME}.value",
            f"{OUTCOME}.unit",
            "studies[0].cohorts[0].therapy",
            "source.key",
            "source.key",
            "products[0].key",
            "products[0].key",
            "therapies[0].key",
            "therapies[0].key",
            "studies[0].key",
            "studies[0].key",
            "studies[0].cohorts[0].key",
            "studies[0].cohorts[0].key",
        ]
    )
    assert str(caught.value).startswith("13 problem(s) in the evidence files:")


def test_an_empty_file_is_a_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    (problem,) = problems_of(empty)
    assert (problem.file, problem.field, problem.message) == (str(empty), "(file)", "file is empty")


def test_missing_required_field_points_at_its_parent(tmp_path: Path) -> None:
    path = tmp_path / "nocitation.yaml"
    path.write_text("# comment\nsource:\n  key: x\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert (problem.line, problem.field) == (2, "source.citation")
    assert "Field required" in problem.message


def test_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "source: {key: m, citation: merge fixture}\n"
        "studies:\n"
        "  - key: s\n    name: S\n    design: registry\n    disease: LBCL\n"
        "    cohorts:\n      - {key: c, label: C, intervention: x, role: cart_all_comers}\n"
        "risk_factors:\n"
        "  - &base\n    factor: a\n    direction: worse\n    endpoint: os\n"
        "    analysis: univariable\n    study: s\n    provenance: {kind: primary}\n"
        "  - <<: *base\n    factor: b\n",
        encoding="utf-8",
    )
    evidence = load(path)
    assert [r.factor for r in evidence.risk_factors] == ["a", "b"]
    # The merged record's line is its own; its inherited fields point into the anchor.
    assert [r.line for r in evidence.risk_factors] == [10, 17]
