"""Audit of the certainty sections as the reader reads them (index.html, report.md, CSV, XLSX).

Every SoF and evidence-profile number is parsed from the rendered page and checked against an
independent reference: results.json (the stored analysis numbers), the participants summed here
from the studies results.json lists, the cut-offs of ``grade_rules.yaml`` read here with PyYAML,
and a recomputation of each certainty from the domain ratings printed in the evidence profile.
The certainty engine's own objects are never used as the reference.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from postcart.report.build import Report

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.report.test_report_audit import (  # noqa: E402
    NUM,
    Audit,
    Shown,
    _read,
    ci_pair,
    computed,
)

RULES = yaml.safe_load(
    (ROOT / "src/postcart/report/certainty/grade_rules.yaml").read_text(encoding="utf-8")
)
LEVELS = ["Very low", "Low", "Moderate", "High"]
START = {"high": "High", "low": "Low"}
HEDGE = {"High": " is about ", "Moderate": " is probably about ", "Low": " may be about ",
         "Very low": "We are very uncertain about "}  # fmt: skip
DOMAIN_COLUMNS = ("Risk of bias", "Inconsistency", "Indirectness", "Imprecision",
                  "Publication bias")  # fmt: skip


@pytest.fixture(scope="module")
def audit(built: tuple[Path, Report]) -> Audit:
    from postcart.evidence import load

    return _read("curated", built[0], load())


def _by_title(audit: Audit) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in audit.results["analyses"].values()}


def _sof(audit: Audit) -> list[dict[str, Shown]]:
    return audit.table("summary_of_findings")


def test_sof_has_a_row_per_analysis_with_data(audit: Audit) -> None:
    titles = [row["Outcome"].text for row in _sof(audit)]
    with_data = [a["title"] for a in audit.results["analyses"].values() if a["k"] > 0]
    assert sorted(titles) == sorted(with_data)


def test_sof_numbers_are_the_analyses_numbers(audit: Audit) -> None:
    analyses, checked = _by_title(audit), 0
    for i, row in enumerate(_sof(audit)):
        a = analyses[row["Outcome"].text]
        where = f"summary_of_findings row {i + 1} ({a['title']})"
        assert row["Population"].text == a["population"], where
        participants = sum(s["n"] or 0 for s in a["studies"])
        assert row["Studies and participants"].text == (
            f"k = {a['k']}; {participants} participants"), where  # fmt: skip
        if a["pooled_percent"] is None:
            assert row["Pooled (95% CI)"].text == "not pooled", where
            assert row["Certainty"].text == "not rated (not pooled)", where
            continue
        shown = re.fullmatch(rf"({NUM})% \((.*)\)", row["Pooled (95% CI)"].text)
        assert shown, f"{where}: {row['Pooled (95% CI)'].text!r}"
        computed(shown[1], a["pooled_percent"], f"{where} pooled")
        for printed, stored in zip(ci_pair(shown[2], where), a["ci_percent"], strict=True):
            computed(printed, stored, f"{where} CI")
        said = row["What this means"].text
        label = row["Certainty"].text.removeprefix("≤ ")
        assert HEDGE[label] in said, f"{where}: {said!r} does not carry {label}"
        value = re.search(rf"({NUM})%", said)
        assert value, where
        computed(value[1], a["pooled_percent"], f"{where} statement")
        assert ("≤" in row["Certainty"].text) == ("not yet fully assessed" in said), where
        note = audit.note(row["Certainty"], where)
        assert "Starts high" in note, where
        checked += 5
    assert checked > 20


def _profile(audit: Audit) -> dict[str, dict[str, Shown]]:
    return {row["Outcome"].text: row for row in audit.table("evidence_profile")}


def test_each_certainty_is_its_start_minus_the_printed_downgrades(audit: Audit) -> None:
    sof = {row["Outcome"].text: row["Certainty"].text for row in _sof(audit)}
    for title, row in _profile(audit).items():
        start = row["Starts"].text.split(" ")[0]
        assert start == START[RULES["start"]["prognostic"]], title
        cost = 0
        bounded = False
        for column in DOMAIN_COLUMNS:
            text = row[column].text
            minus = re.match(r"[a-z ]+ \(−(\d)\):", text)
            cost += int(minus[1]) if minus else 0
            bounded |= text.startswith("not assessed:")
        level = LEVELS[max(LEVELS.index(start) - cost, 0)]
        expected = ("≤ " if bounded else "") + level
        assert row["Certainty"].text == expected == sof[title], title


def test_domain_ratings_follow_the_declared_cut_offs(audit: Audit) -> None:
    """Imprecision, inconsistency and publication bias recomputed from results.json."""
    analyses = _by_title(audit)
    thresholds = RULES["outcomes"]["orr"]["thresholds"]
    for title, row in _profile(audit).items():
        a = analyses[title]
        lo, hi = a["ci_percent"]
        uses = a["name"].endswith("_orr")
        imprecision = row["Imprecision"].text
        if uses:
            n = sum(lo < t < hi for t in thresholds)
            if n >= 2:
                assert imprecision.startswith("very serious (−2)"), title
            elif n == 1:
                assert imprecision.startswith("serious (−1)"), title
        else:
            width = hi - lo
            if width > RULES["imprecision"]["very_serious_ci_width_pp"]:
                assert imprecision.startswith("very serious (−2)"), title
            elif width > RULES["imprecision"]["serious_ci_width_pp"]:
                assert imprecision.startswith("serious (−1)"), title
        i2 = a["primary"]["i2"]
        if i2 < RULES["inconsistency"]["i2_percent"]:
            assert row["Inconsistency"].text.startswith("not serious"), title
        shown_i2 = re.search(rf"I² ({NUM})%", row["Inconsistency"].text)
        assert shown_i2, title
        assert abs(float(shown_i2[1]) - i2) <= 0.5 + 1e-9, title
        if a["k"] < RULES["publication_bias"]["min_k"]:
            assert row["Publication bias"].text.startswith("not assessable"), title


def test_risk_of_bias_not_assessed_names_the_unrated_studies(audit: Audit) -> None:
    rob = {r["Study"].text for r in audit.table("risk_of_bias") if r["Judgement"].text != "unrated"}
    for title, row in _profile(audit).items():
        text = row["Risk of bias"].text
        if text.startswith("not assessed"):
            found = re.search(r"(\d+) of (\d+) studies \((\d+)% of the weight\)", text)
            assert found, title
            assert int(found[1]) <= int(found[2]), title
    assert rob <= {r["Study"].text for r in audit.table("risk_of_bias")}


def test_markdown_csv_and_xlsx_carry_the_same_sof(audit: Audit, built: tuple[Path, Report]) -> None:
    html = [[c.text for c in row] for row in audit.pages.tables["summary_of_findings"].rows]
    md = audit.pages.md_tables["Summary of findings: certainty of each pooled outcome"]
    assert [[text for text, _ in row] for row in md.rows] == html
    csv = pd.read_csv(built[0] / "tables" / "summary_of_findings.csv", dtype=str,
                      keep_default_na=False)  # fmt: skip
    columns = list(audit.pages.tables["summary_of_findings"].columns)
    assert csv[columns].values.tolist() == html
    sheets = pd.read_excel(io.BytesIO((built[0] / "tables" / "report_tables.xlsx").read_bytes()),
                           sheet_name=None, dtype=str, keep_default_na=False)  # fmt: skip
    assert sheets["summary_of_findings"][columns].values.tolist() == html
    for name in ("evidence_profile", "risk_of_bias", "review_trail"):
        assert name in sheets, name


def test_review_trail_counts_are_the_curated_base(audit: Audit) -> None:
    rows = {r["Item"].text: r["What the data say"].text for r in audit.table("review_trail")}
    sources, studies = audit.evidence.sources, audit.evidence.studies
    assert f"Curated base: {len(sources)} sources" in rows["postcart's evidence base"]
    cited = sum(1 for s in sources if s.seed_ref is not None)
    assert f"{cited} of them cited by the founding review" in rows["postcart's evidence base"]
    pooled = {s["study_key"] for a in audit.results["analyses"].values()
              if a["status"] == "pooled" for s in a["studies"]}  # fmt: skip
    assert rows["PRISMA 2020: included"] == (
        f"{len(sources)} reports of {len(studies)} studies in the base; {len(pooled)} studies "
        "enter at least one pooled analysis.")  # fmt: skip
    assert "Not reported by the founding review" in rows["Date of last search"]
