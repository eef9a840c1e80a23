"""Clinical vignettes (tests/decision/vignettes.yaml): each expectation is justified by a verbatim
sentence of the founding review or by evidence records, and both are checked first, so a
vignette cannot claim support the review or the evidence base does not give.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from postcart.decision import TIERS, Advice, advise
from postcart.decision.citations import resolve

VIGNETTES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("vignettes.yaml")).read_text(encoding="utf-8")
)["vignettes"]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _position(advice: Advice, option: str) -> int:
    return [o.option for o in advice.options].index(option)


def failures(advice: Advice, expect: dict[str, Any]) -> list[str]:  # noqa: C901 - one check per key
    """Every expectation that does not hold, in words (empty when all hold)."""
    bad: list[str] = []
    flags = {flag.rule for flag in advice.flags}
    for option, tier in expect.get("tier", {}).items():
        if advice.option(option).tier != tier:
            bad.append(f"{option} is {advice.option(option).tier}, expected {tier}")
    for option, tier in expect.get("tier_at_least", {}).items():
        if TIERS.index(advice.option(option).tier) > TIERS.index(tier):
            bad.append(f"{option} is {advice.option(option).tier}, expected {tier} or better")
    for option, tier in expect.get("tier_not", {}).items():
        if advice.option(option).tier == tier:
            bad.append(f"{option} is {tier}")
    for option, rules in expect.get("rules", {}).items():
        missing = set(rules) - set(advice.option(option).rules)
        if missing:
            bad.append(f"{option} lacks rules {sorted(missing)}")
    for option, rules in expect.get("rules_absent", {}).items():
        present = set(rules) & set(advice.option(option).rules)
        if present:
            bad.append(f"{option} has rules {sorted(present)}")
    for rule in expect.get("flags", []):
        if rule not in flags:
            bad.append(f"flag {rule} not raised")
    for rule in expect.get("flags_absent", []):
        if rule in flags:
            bad.append(f"flag {rule} raised")
    for rule in expect.get("fired_absent", []):
        if rule in advice.fired:
            bad.append(f"rule {rule} fired")
    for text in expect.get("actions_contain", []):
        if not any(text in action for action in advice.actions):
            bad.append(f"no action says {text!r}")
    for option, text in expect.get("reasons_contain", {}).items():
        if not any(text in reason for reason in advice.option(option).reasons):
            bad.append(f"no reason of {option} says {text!r}")
    for first, second in expect.get("before", []):
        if _position(advice, first) > _position(advice, second):
            bad.append(f"{first} listed after {second}")
    for option, kind in expect.get("evidence_type", {}).items():
        rank = advice.option(option).evidence_rank
        if rank is None or rank.type != kind:
            bad.append(f"{option} evidence type {rank and rank.type}, expected {kind}")
    for option, families in expect.get("histologies", {}).items():
        if list(advice.option(option).histologies) != families:
            bad.append(f"{option} covers {advice.option(option).histologies}")
    for option in expect.get("within_trial", []):
        if not advice.option(option).within_trial:
            bad.append(f"{option} not offered within a trial")
    for option, words in expect.get("card_caveat_contains", {}).items():
        caveats = " ".join(c for card in advice.option(option).cards for c in card.caveats)
        bad.extend(f"{option} cards lack a caveat saying {w!r}" for w in words if w not in caveats)
    return bad


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["name"] for v in VIGNETTES])
def test_vignette(vignette: dict[str, Any], seed_review_text: str, evidence, rulebook) -> None:
    assert vignette.get("quote") or vignette.get("record"), "a vignette must cite its support"
    if vignette.get("quote"):
        assert _normalise(vignette["quote"]) in _normalise(seed_review_text), "quote not in review"
    for record in vignette.get("record", []):
        assert resolve(evidence, record) is not None, f"{record} not in the evidence base"
    advice = advise(vignette["profile"], evidence=evidence, rulebook=rulebook)
    assert not failures(advice, vignette["expect"]), failures(advice, vignette["expect"])


def test_vignettes_cover_the_issue() -> None:
    """At least 40, across histologies, fitness extremes, antigen, timing and response."""
    assert len(VIGNETTES) >= 40
    profiles = [v["profile"] for v in VIGNETTES]
    seen = {key: {str(p.get(key)) for p in profiles if key in p} for key in
            ("histology", "cd19_status", "cd20_status", "current_response", "ecog",
             "best_response_to_cart")}  # fmt: skip
    assert {"DLBCL", "HGBCL", "PMBCL", "tFL", "MCL", "FL"} <= seen["histology"]
    assert {"positive", "dim", "negative"} <= seen["cd19_status"]
    assert {"positive", "dim", "negative"} <= seen["cd20_status"]
    assert {"CR", "PD"} <= seen["current_response"]
    assert {"0", "3"} <= seen["ecog"]
    days = {p["days_to_progression"] for p in profiles if "days_to_progression" in p}
    assert min(days) <= 30
    assert any(30 < d <= 90 for d in days)
    assert max(days) > 180


def test_unknown_expectation_keys_are_refused() -> None:
    known = {
        "tier", "tier_at_least", "tier_not", "rules", "rules_absent", "flags", "flags_absent",
        "fired_absent", "actions_contain", "reasons_contain", "before", "evidence_type",
        "histologies", "within_trial", "card_caveat_contains",
    }  # fmt: skip
    for vignette in VIGNETTES:
        assert set(vignette["expect"]) <= known, vignette["name"]
