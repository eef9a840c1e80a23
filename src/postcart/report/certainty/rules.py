"""The GRADE rule file and the analysts' overrides, read and validated like the evidence files.

Rules are data so that a reader can see, and an analyst can change, every cut-off that turns a
number into a downgrade; each domain carries a version that is printed with the certainty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from postcart.errors import EvidenceValidationError, Problem
from postcart.evidence.risk_of_bias import read_validated
from postcart.evidence.vocab import Disease

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE / "grade_rules.yaml"
OVERRIDES_FILE = HERE / "overrides.yaml"

Level = Literal["high", "moderate", "low", "very_low"]
DomainName = Literal[
    "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"
]
Severity = Literal["not_serious", "serious", "very_serious"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StartRules(_Strict):
    """Where each kind of evidence starts."""

    prognostic: Level
    comparative_single_arm: Level


class RiskOfBiasRule(_Strict):
    """Share of weight from high-concern studies that rates down once."""

    version: str
    serious_high_weight_percent: float = Field(gt=0, le=100)


class InconsistencyRule(_Strict):
    """I² and the prediction interval against the thresholds (or against the CI)."""

    version: str
    i2_percent: float = Field(ge=0, le=100)
    very_serious_i2_percent: float = Field(ge=0, le=100)
    pi_to_ci_width_ratio: float = Field(gt=1)


class ImprecisionRule(_Strict):
    """CI against thresholds, else against a precision target; optimal information size."""

    version: str
    serious_ci_width_pp: float = Field(gt=0, le=100)
    very_serious_ci_width_pp: float = Field(gt=0, le=100)
    ois_half_width_pp: float = Field(gt=0, le=50)

    @model_validator(mode="after")
    def _ordered(self) -> ImprecisionRule:
        if self.very_serious_ci_width_pp <= self.serious_ci_width_pp:
            raise ValueError("very_serious_ci_width_pp must exceed serious_ci_width_pp")
        return self


class IndirectnessRule(_Strict):
    """Histologies the question is about; share of off-target weight that rates down."""

    version: str
    target_diseases: list[Disease] = Field(min_length=1)
    serious_indirect_weight_percent: float = Field(gt=0, le=100)


class PublicationBiasRule(_Strict):
    """Funnel asymmetry tested only from ``min_k`` studies on."""

    version: str
    min_k: int = Field(ge=3)
    alpha: float = Field(gt=0, lt=1)


class OutcomeRule(_Strict):
    """Declared decision thresholds (percent) for one measure, and why."""

    thresholds: list[float] = Field(default_factory=list)
    rationale: str = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> OutcomeRule:
        if self.thresholds != sorted(set(self.thresholds)):
            raise ValueError("thresholds must be distinct and in increasing order")
        if any(not 0 < t < 100 for t in self.thresholds):
            raise ValueError("thresholds are percentages strictly between 0 and 100")
        return self


class GradeRules(_Strict):
    """The whole rule file."""

    version: str
    start: StartRules
    risk_of_bias: RiskOfBiasRule
    inconsistency: InconsistencyRule
    imprecision: ImprecisionRule
    indirectness: IndirectnessRule
    publication_bias: PublicationBiasRule
    outcomes: dict[str, OutcomeRule] = Field(default_factory=dict)


class OverrideIn(_Strict):
    """One analyst's rating of one domain for one analysis, replacing the rule's."""

    analysis: str = Field(min_length=1)
    domain: DomainName
    rating: Severity
    analyst: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    reason: str = Field(min_length=1)


class _OverridesFile(_Strict):
    overrides: list[OverrideIn] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Override:
    """An override and where it is written (for the log line in the evidence profile)."""

    analysis: str
    domain: DomainName
    rating: Severity
    analyst: str
    date: str
    reason: str
    file: str
    line: int | None


def load_rules(path: Path | None = None) -> GradeRules:
    """The GRADE rules; :class:`EvidenceValidationError` with file:line: field on a problem."""
    result = read_validated(GradeRules, Path(path or RULES_FILE))
    if isinstance(result, list):
        raise EvidenceValidationError(result)
    rules: GradeRules = result[0]
    return rules


def load_overrides(path: Path | None = None, analyses: set[str] | None = None) -> list[Override]:
    """The analysts' overrides; an override of an analysis that does not exist is refused."""
    result = read_validated(_OverridesFile, Path(path or OVERRIDES_FILE))
    if isinstance(result, list):
        raise EvidenceValidationError(result)
    content, doc = result
    problems: list[Problem] = []
    out: list[Override] = []
    seen: set[tuple[str, str]] = set()
    for i, o in enumerate(content.overrides):
        if analyses is not None and o.analysis not in analyses:
            problems.append(doc.at(("overrides", i, "analysis"),
                                   f"no analysis {o.analysis!r} in the report"))  # fmt: skip
        if (o.analysis, o.domain) in seen:
            problems.append(doc.at(("overrides", i, "domain"),
                                   f"{o.domain} of {o.analysis} is overridden twice"))  # fmt: skip
        seen.add((o.analysis, o.domain))
        out.append(Override(o.analysis, o.domain, o.rating, o.analyst, o.date,
                            " ".join(o.reason.split()), doc.path.name,
                            doc.index.line(("overrides", i))))  # fmt: skip
    if problems:
        raise EvidenceValidationError(problems)
    return out
