"""The options catalogue and the rules table: versioned data files, checked when loaded.

Rules are data so a clinician can read, challenge and change them without reading code, and so
every suggestion can show the rule ids that produced it. Loading fails, naming the rule id, when
a rule tests an unknown fact, touches an unknown option, or cites an unknown evidence record.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from postcart.decision.conditions import OPERATORS, condition_facts, condition_operators
from postcart.decision.features import KNOWN_FACTS
from postcart.errors import RuleError

RULES_DIR = Path(__file__).parent / "rules"

#: Tiers from most to least recommended; the order is used for raising and lowering.
TIERS = ("consider_first", "consider", "clinical_trial", "not_suited")
Tier = Literal["consider_first", "consider", "clinical_trial", "not_suited"]
RuleKind = Literal["gate", "caution", "modifier", "prognostic", "action"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionSpec(_Strict):
    """One salvage option the aid can present."""

    id: str
    name: str
    target_antigen: str | None = None
    cd19_directed: bool = False
    #: Evidence-base therapy keys whose cohorts form this option's evidence cards.
    therapies: tuple[str, ...] = ()
    base_tier: Tier
    status: Literal["approved", "off_label", "investigational", "procedure", "trial"]
    summary: str
    #: Extra evidence source keys beyond the therapy cohorts (e.g. the review itself).
    evidence: tuple[str, ...] = ()
    #: Intensive therapy: gated by the fitness rules (ECOG, age, organ function, comorbidity).
    intensive: bool = False
    #: Records holding the numbers or studies the name or summary states (decision/citations.py).
    cites: tuple[str, ...] = ()

    @property
    def investigational(self) -> bool:
        """Offered only within a clinical trial: the evidence is investigational."""
        return self.status == "investigational"


class Effect(_Strict):
    """What a rule does when its condition holds."""

    exclude: tuple[str, ...] = ()
    trial_only: tuple[str, ...] = ()
    raise_: tuple[str, ...] = Field(default=(), alias="raise")
    lower: tuple[str, ...] = ()
    annotate: tuple[str, ...] = ()
    flag: str | None = None
    action: str | None = None
    #: Lower every option whose post-CAR T evidence does not cover the patient's histology.
    coverage: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def options(self) -> set[str]:
        """Every option id the effect touches."""
        return {
            *self.exclude,
            *self.trial_only,
            *self.raise_,
            *self.lower,
            *self.annotate,
        }


class RuleSpec(_Strict):
    """One rule: when the condition holds, apply the effect, for the stated reason."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9\-]*$")
    kind: RuleKind
    when: dict[str, Any]
    effect: Effect
    reason: str
    evidence: tuple[str, ...] = ()
    #: The review's sentence this rule encodes (verbatim), where it encodes one.
    review_statement: str | None = None
    #: Records holding the numbers or studies the texts name (decision/citations.py).
    cites: tuple[str, ...] = ()


class RuleBook(_Strict):
    """The options catalogue and rules table, with their version."""

    version: str
    options: tuple[OptionSpec, ...]
    rules: tuple[RuleSpec, ...]

    def option(self, option_id: str) -> OptionSpec:
        """The option with this id."""
        for spec in self.options:
            if spec.id == option_id:
                return spec
        raise KeyError(option_id)


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _check_rule(
    rule: RuleSpec, option_ids: set[str], evidence_keys: Collection[str] | None
) -> None:
    unknown_facts = condition_facts(rule.when) - KNOWN_FACTS
    if unknown_facts:
        raise RuleError(rule.id, f"tests unknown profile field(s) {sorted(unknown_facts)}")
    unknown_ops = condition_operators(rule.when) - set(OPERATORS) - {"unknown"}
    if unknown_ops:
        raise RuleError(rule.id, f"uses unknown operator(s) {sorted(unknown_ops)}")
    unknown_options = rule.effect.options() - option_ids
    if unknown_options:
        raise RuleError(rule.id, f"refers to unknown option(s) {sorted(unknown_options)}")
    if evidence_keys is not None:
        missing = [key for key in rule.evidence if key not in evidence_keys]
        if missing:
            raise RuleError(rule.id, f"cites unknown evidence record(s) {missing}")


def load_rulebook(
    directory: Path | None = None, *, evidence_keys: Collection[str] | None = None
) -> RuleBook:
    """Load ``options.yaml`` and ``rules.yaml``; check every reference (see module docstring)."""
    folder = directory or RULES_DIR
    options_data = _read_yaml(folder / "options.yaml")
    rules_data = _read_yaml(folder / "rules.yaml")
    raw_rules = rules_data.get("rules", [])
    try:
        options = tuple(OptionSpec.model_validate(item) for item in options_data["options"])
    except ValidationError as exc:
        raise RuleError("(options)", str(exc)) from None
    rules = []
    seen: set[str] = set()
    for index, item in enumerate(raw_rules):
        rule_id = str(item.get("id", f"#{index + 1}")) if isinstance(item, dict) else f"#{index}"
        try:
            rule = RuleSpec.model_validate(item)
        except ValidationError as exc:
            raise RuleError(rule_id, str(exc)) from None
        if rule.id in seen:
            raise RuleError(rule.id, "duplicate rule id")
        seen.add(rule.id)
        rules.append(rule)
    option_ids = {option.id for option in options}
    for option in options:
        if evidence_keys is not None:
            missing = [key for key in option.evidence if key not in evidence_keys]
            if missing:
                raise RuleError(
                    f"option:{option.id}", f"cites unknown evidence record(s) {missing}"
                )
    for rule in rules:
        _check_rule(rule, option_ids, evidence_keys)
    return RuleBook(version=str(rules_data["version"]), options=options, rules=tuple(rules))
