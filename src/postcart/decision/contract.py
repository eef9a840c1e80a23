"""The JSON contract of the decision aid's output, as pydantic models.

``Advice.to_dict()`` must validate against ``AdviceOut``; ``docs/schemas/`` publishes the JSON
schemas of ``PatientProfile`` (input) and ``AdviceOut`` (output) for other tools.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from postcart.decision.profile import PatientProfile


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardOutcomeOut(_Out):
    """One figure on an evidence card."""

    measure: str
    value: float | None
    unit: str
    timepoint_months: float | None
    range_low: float | None
    range_high: float | None
    provenance: str
    ref: str
    analysis_unit: str
    discrepancy: str | None


class CardOut(_Out):
    """One cohort's evidence for an option."""

    source_key: str
    study_key: str
    study_name: str
    design: str
    cohort_key: str
    cohort_label: str
    n: int | None
    post_cart_specific: bool
    timing_match: bool
    antigen_match: bool
    certainty_note: str | None
    outcomes: list[CardOutcomeOut]
    role: str
    denominator_basis: str
    disease: str
    overlaps: list[str]
    caveats: list[str]


class PooledOut(_Out):
    """The living review's pooled ORR after CAR T failure for an option (second ordering key)."""

    analysis: str
    percent: float
    ci_low: float
    ci_high: float
    k: int
    population: str
    #: GRADE certainty of the pooled value in the living review ("≤ Low"); null if not rated.
    certainty: str | None


class OptionOut(_Out):
    """One option: tier, reasons, evidence source keys, rule ids, then name and cards."""

    option: str
    tier: str
    reasons: list[str]
    evidence: list[str]
    rules: list[str]
    name: str
    order: str
    evidence_type: str | None
    evidence_type_label: str | None
    evidence_rank: int | None
    evidence_basis: list[str]
    pooled_orr: PooledOut | None
    histologies: list[str]
    within_trial: bool
    cards: list[CardOut]


class FlagOut(_Out):
    """A prognostic or safety flag."""

    rule: str
    text: str
    reason: str
    evidence: list[str]


class AdviceOut(_Out):
    """Output of ``postcart advise --json`` and ``Advice.to_dict()``."""

    options: list[OptionOut]
    flags: list[FlagOut]
    actions: list[str]
    disclaimer: str
    missing: dict[str, list[str]]
    rules_fired: list[str]
    rules_version: str
    ordering: str


def json_schemas() -> dict[str, dict[str, Any]]:
    """The published schemas, keyed by file name under ``docs/schemas/``."""
    return {
        "patient_profile.schema.json": PatientProfile.model_json_schema(),
        "advice.schema.json": AdviceOut.model_json_schema(),
    }


def render_schema(schema: dict[str, Any]) -> str:
    """Stable text form of a schema (sorted keys, trailing newline) for committing."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
