"""The decision aid and the living review never disagree: an option's pooled ORR and its GRADE
certainty are the ones the built report prints in ``results.json`` and its Summary of Findings."""

from __future__ import annotations

import json
from pathlib import Path

from postcart.evidence import Evidence
from postcart.report.advice import advise_with_review, pooled_efficacy
from postcart.report.model import Report


def test_options_carry_the_reports_pooled_orr_and_certainty(
    built: tuple[Path, Report], evidence: Evidence
) -> None:
    out, _ = built
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rates = pooled_efficacy(evidence)
    assert rates, "some salvage ORR is pooled over two or more studies"
    for option, rate in rates.items():
        printed = results["analyses"][rate.analysis]
        assert round(rate.percent, 1) == round(printed["pooled_percent"], 1), option
        assert rate.k == printed["k"], option
        assert rate.certainty == results["certainty"][rate.analysis]["label"], option


def test_the_certainty_is_in_the_json_and_the_order_reason(evidence: Evidence) -> None:
    advice = advise_with_review({"histology": "DLBCL", "days_to_progression": 200}, evidence)
    graded = [o for o in advice.options if o.efficacy is not None]
    assert graded
    for option in graded:
        shown = option.to_dict()["pooled_orr"]
        assert shown["certainty"] == option.efficacy.certainty  # type: ignore[union-attr]
        assert f"certainty {shown['certainty']} (GRADE)" in option.efficacy.describe()  # type: ignore[union-attr]
