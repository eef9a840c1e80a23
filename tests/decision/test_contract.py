"""The published JSON contract: output validates, docs/schemas is current, examples run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postcart.decision import advise, read_profile
from postcart.decision.contract import AdviceOut, json_schemas, render_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
REQUIRED_OPTION_KEYS = ["option", "tier", "reasons", "evidence", "rules"]


@pytest.mark.parametrize("example", sorted((DOCS / "examples").glob("*.yaml")), ids=str)
def test_examples_validate_against_output_contract(example: Path, evidence, rulebook) -> None:
    advice = advise(read_profile(example), evidence=evidence, rulebook=rulebook).to_dict()
    AdviceOut.model_validate(advice)
    assert list(advice)[:4] == ["options", "flags", "actions", "disclaimer"]
    for option in advice["options"]:
        assert list(option)[:5] == REQUIRED_OPTION_KEYS


def test_published_schemas_are_current() -> None:
    for name, schema in json_schemas().items():
        published = (DOCS / "schemas" / name).read_text(encoding="utf-8")
        assert published == render_schema(schema), f"regenerate docs/schemas/{name}"
        json.loads(published)
