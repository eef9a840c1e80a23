"""Certainty of evidence in the report: GRADE per pooled outcome, SoF table, evidence profile,
risk-of-bias tables and plots, the review's own search trail and its living versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from postcart.evidence import Evidence
from postcart.evidence.risk_of_bias import RiskOfBias, load_risk_of_bias
from postcart.report.certainty.grade import Certainty, rate
from postcart.report.certainty.rules import GradeRules, Override, load_overrides, load_rules
from postcart.report.pooling import Pooled

__all__ = ["Assessed", "Certainty", "assess"]


@dataclass(frozen=True)
class Assessed:
    """Everything the certainty sections print, built once per report."""

    rob: RiskOfBias
    rules: GradeRules
    overrides: tuple[Override, ...]
    certainties: tuple[Certainty, ...]

    def of(self, analysis: str) -> Certainty | None:
        """The certainty of ``analysis`` (``None``: not pooled, so not rated)."""
        return next((c for c in self.certainties if c.analysis == analysis), None)


def assess(
    evidence: Evidence,
    analyses: Sequence[Pooled],
    *,
    rob: RiskOfBias | None = None,
    rules: GradeRules | None = None,
    overrides: Sequence[Override] | None = None,
) -> Assessed:
    """Risk of bias, rules and overrides loaded and validated; GRADE for every pooled analysis."""
    rob = (
        rob if rob is not None else load_risk_of_bias(study_keys=[s.key for s in evidence.studies])
    )
    rules = rules if rules is not None else load_rules()
    names = {a.name for a in analyses}
    overrides = tuple(overrides) if overrides is not None else tuple(load_overrides(analyses=names))
    rated = (rate(a, evidence, rob, rules, overrides) for a in analyses)
    return Assessed(rob, rules, overrides, tuple(c for c in rated if c is not None))
