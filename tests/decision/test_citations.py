"""Rule and option texts agree with the evidence base; cards never show a flagged figure bare."""

from __future__ import annotations

from postcart.decision import advise
from postcart.decision.citations import citation_problems, numbers_in, resolve


def test_packaged_texts_name_only_cited_numbers_and_studies(rulebook, evidence) -> None:
    assert citation_problems(rulebook, evidence) == []


def test_a_wrong_number_in_a_rule_is_caught(rulebook, evidence) -> None:
    rules = tuple(
        r.model_copy(update={"reason": r.reason.replace("26%", "62%")})
        if r.id == "C-ALLO-TOXICITY"
        else r
        for r in rulebook.rules
    )
    problems = citation_problems(rulebook.model_copy(update={"rules": rules}), evidence)
    assert problems == ["C-ALLO-TOXICITY: reason names 62, which no cited record holds"]


def test_a_named_study_without_its_record_is_caught(rulebook, evidence) -> None:
    rules = tuple(
        r.model_copy(update={"cites": tuple(c for c in r.cites if "elm1" not in c)})
        if r.id == "C-BISPECIFIC-EARLY-FAILURE"
        else r
        for r in rulebook.rules
    )
    problems = citation_problems(rulebook.model_copy(update={"rules": rules}), evidence)
    assert any("names ELM-1" in p for p in problems), problems


def test_numbers_in_ignores_names_and_placeholders() -> None:
    # By hand: CD20, CD3, PD-1, ELM-1 and {x_1} are names; 2 (2-year), 26 and 3 are numbers.
    assert numbers_in("CD20×CD3, PD-1, ELM-1, {x_1}: 2-year NRM 26% in 3 series") == {2, 26, 3}


def test_resolve_knows_each_record_kind(evidence) -> None:
    fried = resolve(evidence, "outcome:fried_allohct_all#2")
    zurko = resolve(evidence, "cohort:zurko_allohct_all")
    assert fried is not None
    assert zurko is not None
    assert {26.0, 24.0, 2.0} <= fried.numbers  # 26%, at 24 months = 2 years
    assert 88.0 in zurko.numbers
    assert resolve(evidence, "risk_factor:nastoupil/ECOG PS > 2") is not None
    assert resolve(evidence, "cohort:nosuch") is None
    assert resolve(evidence, "paper:x") is None


def test_no_card_shows_a_disputed_figure_without_its_flag(evidence, rulebook) -> None:
    advice = advise({"disease_extent": "localized"}, evidence=evidence, rulebook=rulebook)
    shown = 0
    for option in advice.options:
        for card in option.cards:
            for outcome in card.outcomes:
                record = evidence.outcome(outcome.ref)
                if evidence.disputed(record):
                    shown += 1
                    assert outcome.discrepancy, outcome.ref
                    assert any(outcome.ref in caveat for caveat in card.caveats)
                if record.analysis_unit != "patients":
                    assert outcome.analysis_unit == record.analysis_unit
                    assert any(record.analysis_unit in caveat for caveat in card.caveats)
    assert shown >= 1  # the radiotherapy lesion PFS figure the review mislabels


def test_cards_carry_role_and_overlap(evidence, rulebook) -> None:
    advice = advise({}, evidence=evidence, rulebook=rulebook)
    cards = {card.cohort_key: card for o in advice.options for card in o.cards}
    assert cards["glofitamab_all"].role == "salvage_mixed_population"
    assert any("not a post-CAR T cohort" in c for c in cards["glofitamab_all"].caveats)
    assert any("shares patients" in c for c in cards["zurko_allohct_all"].caveats)
