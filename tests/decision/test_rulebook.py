"""Rule files with broken references fail at load time, naming the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from postcart.decision import load_rulebook
from postcart.decision.rulebook import RULES_DIR
from postcart.errors import RuleError


def _copy_with_rule(tmp_path: Path, rule: dict[str, Any]) -> Path:
    shutil.copy(RULES_DIR / "options.yaml", tmp_path / "options.yaml")
    data = yaml.safe_load((RULES_DIR / "rules.yaml").read_text(encoding="utf-8"))
    data["rules"].append(rule)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


BASE: dict[str, Any] = {
    "kind": "caution",
    "effect": {"annotate": ["lenalidomide"]},
    "reason": "test",
}


def test_unknown_evidence_key_names_the_rule(tmp_path: Path, evidence) -> None:
    folder = _copy_with_rule(
        tmp_path, {**BASE, "id": "X-BAD-EVIDENCE", "when": {}, "evidence": ["nosuch2099"]}
    )
    keys = {source.key for source in evidence.sources}
    with pytest.raises(RuleError, match=r"X-BAD-EVIDENCE.*nosuch2099"):
        load_rulebook(folder, evidence_keys=keys)


def test_unknown_profile_field_names_the_rule(tmp_path: Path) -> None:
    folder = _copy_with_rule(
        tmp_path, {**BASE, "id": "X-BAD-FIELD", "when": {"shoe_size": {"gt": 40}}}
    )
    with pytest.raises(RuleError, match=r"X-BAD-FIELD.*shoe_size"):
        load_rulebook(folder)


def test_unknown_option_names_the_rule(tmp_path: Path) -> None:
    rule = {**BASE, "id": "X-BAD-OPTION", "when": {}, "effect": {"exclude": ["homeopathy"]}}
    with pytest.raises(RuleError, match=r"X-BAD-OPTION.*homeopathy"):
        load_rulebook(_copy_with_rule(tmp_path, rule))


def test_unknown_operator_names_the_rule(tmp_path: Path) -> None:
    rule = {**BASE, "id": "X-BAD-OP", "when": {"age": {"roughly": 60}}}
    with pytest.raises(RuleError, match=r"X-BAD-OP.*roughly"):
        load_rulebook(_copy_with_rule(tmp_path, rule))


def test_duplicate_rule_id_rejected(tmp_path: Path) -> None:
    rule = {**BASE, "id": "C-TRIAL-ALWAYS", "when": {}}
    with pytest.raises(RuleError, match=r"C-TRIAL-ALWAYS.*duplicate"):
        load_rulebook(_copy_with_rule(tmp_path, rule))


def test_packaged_rulebook_cites_only_existing_evidence(rulebook, evidence) -> None:
    keys = {source.key for source in evidence.sources}
    for rule in rulebook.rules:
        assert set(rule.evidence) <= keys, rule.id


def test_review_statements_are_verbatim(rulebook, seed_review_text: str) -> None:
    review = re.sub(r"\s+", " ", seed_review_text)
    for rule in rulebook.rules:
        if rule.review_statement:
            assert re.sub(r"\s+", " ", rule.review_statement) in review, rule.id
