"""Every field written in a curated file reaches the read model, unchanged.

The expected values come from the raw YAML (``yaml.safe_load``), not from our parser, so a
field the loader forgets to copy — or copies under the wrong name — fails here.
"""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from postcart.evidence import load
from postcart.evidence.records import Evidence

DATA = Path(__file__).resolve().parents[2] / "src" / "postcart" / "evidence" / "data"
#: Keys whose file name differs from the read model's, or that are nested blocks checked apart.
RENAMED = {"therapy": "therapy", "study": "study_key"}
NESTED = {"provenance", "cohorts", "outcomes", "indications", "discrepancy", "products",
          "n_provenance"}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _check(raw: dict[str, Any], record: Any, where: str) -> int:
    names = {f.name for f in fields(record)}
    checked = 0
    for key, expected in raw.items():
        if key in NESTED:
            continue
        name = RENAMED.get(key, key)
        assert name in names, f"{where}: field {key!r} has no place in {type(record).__name__}"
        assert _plain(getattr(record, name)) == expected, f"{where}: {key}"
        checked += 1
    return checked


def test_every_curated_field_reaches_the_records() -> None:
    evidence: Evidence = load()
    checked = 0
    for path in sorted(DATA.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        checked += _check(raw["source"], evidence.source(raw["source"]["key"]), path.name)
        for study in raw.get("studies", []):
            checked += _check(study, evidence.study(study["key"]), f"{path.name} {study['key']}")
            for cohort in study["cohorts"]:
                record = evidence.cohort(cohort["key"])
                checked += _check(cohort, record, f"{path.name} {cohort['key']}")
                assert list(record.products) == cohort.get("products", [])
                for key, value in (cohort.get("n_provenance") or {}).items():
                    assert record.n_provenance is not None
                    assert _plain(getattr(record.n_provenance, key)) == value
                outcomes = evidence.outcomes_for(cohort["key"])
                assert len(outcomes) == len(cohort.get("outcomes", []))
                for outcome_raw, outcome in zip(cohort.get("outcomes", []), outcomes, strict=True):
                    raw_without_events = {k: v for k, v in outcome_raw.items() if k != "events"}
                    checked += _check(raw_without_events, outcome, f"{path.name} {cohort['key']}")
                    if "events" in outcome_raw:  # printed counts are kept, never re-derived
                        assert outcome.events == outcome_raw["events"]
                    for key, value in outcome_raw["provenance"].items():
                        assert _plain(getattr(outcome.provenance, key)) == value
        for section, lookup in (
            ("therapies", evidence.therapy),
            ("mechanisms", evidence.mechanism),
        ):
            for item in raw.get(section, []):
                checked += _check(item, lookup(item["key"]), f"{path.name} {item['key']}")
        source_key = raw["source"]["key"]
        factors = [r for r in evidence.risk_factors if r.source_key == source_key]
        assert len(factors) == len(raw.get("risk_factors", []))
        for item, factor in zip(raw.get("risk_factors", []), factors, strict=True):
            checked += _check(item, factor, f"{path.name} risk factor {item['factor']}")
        for item in raw.get("products", []):
            checked += _check(item, evidence.product(item["key"]), f"{path.name} {item['key']}")
    assert checked > 3000  # the real files hold thousands of scalar fields
