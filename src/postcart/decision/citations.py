"""Rule and option texts checked against the evidence base: every number and named study cited.

A rule that says "2-year NRM 26% in Fried et al." is a claim about the evidence base; if the
base is corrected (or the sentence was wrong to begin with, as "the largest series" was), the
text must not keep saying it. So a rule or option that names a number or a study lists the
records that hold them in ``cites``, and :func:`citation_problems` checks, for each text:

* every cited record exists (``outcome:REF``, ``cohort:KEY``, ``study:KEY``,
  ``risk_factor:STUDY/FACTOR``);
* every number in the text is held by one of the cited records (a value, range, count,
  cohort size, timing bound, landmark in months or years, or a number in the record's own
  label, selection or note);
* every study the text names (a source's first author, a study acronym such as ELM-1) is one
  the cited records belong to.

The founding review's verbatim sentence (``review_statement``) is checked elsewhere against
the review itself, so it is not re-checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from postcart.decision.rulebook import OptionSpec, RuleBook, RuleSpec
from postcart.evidence.records import Cohort, Evidence, Outcome, RiskFactor, Study

#: A number standing alone: not part of a name such as CD20, PD-1, ELM-1, FMC63 or G3.
_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(?!\w)")
#: Study acronyms as study names spell them (DESCAR-T, ELM-1, LOTIS-2, ZUMA-1, PC-PI).
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*-[A-Z0-9]+\b")
#: Format placeholders filled per patient (``{pcpi_factors_present}``) are not claims.
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
#: Words that look like acronyms in study names but name no study.
_NOT_STUDIES = frozenset({"CAR-T", "PD-1", "B-ALL", "B-NHL", "NHL-1"})


@dataclass(frozen=True, slots=True)
class Holding:
    """What one cited record can vouch for: its numbers and the study it belongs to."""

    numbers: frozenset[float]
    study_key: str
    source_key: str


def numbers_in(text: str | None) -> set[float]:
    """Standalone numbers in ``text`` (placeholders ignored)."""
    if not text:
        return set()
    return {float(match) for match in _NUMBER.findall(_PLACEHOLDER.sub("", text))}


def _values(*values: float | int | None) -> set[float]:
    return {float(value) for value in values if value is not None}


def _outcome_numbers(outcome: Outcome) -> set[float]:
    held = _values(
        outcome.value,
        outcome.range_low,
        outcome.range_high,
        outcome.events,
        outcome.denominator,
        outcome.ci_low,
        outcome.ci_high,
        outcome.timepoint_months,
    )
    if outcome.timepoint_months is not None and outcome.timepoint_months % 12 == 0:
        held.add(outcome.timepoint_months / 12)  # "2-year" for 24 months
    return held | numbers_in(outcome.label) | numbers_in(outcome.criteria)


def _cohort_numbers(cohort: Cohort) -> set[float]:
    held = _values(cohort.n, cohort.failure_days_min, cohort.failure_days_max)
    return held | numbers_in(cohort.label) | numbers_in(cohort.selection)


def _study_numbers(evidence: Evidence, study: Study) -> set[float]:
    held = numbers_in(study.name) | numbers_in(study.note)
    factors = evidence.risk_factors_for_study(study.key)
    return held | ({float(len(factors))} if factors else set())


def _risk_factor(evidence: Evidence, study_key: str, factor: str) -> RiskFactor | None:
    for record in evidence.risk_factors_for_study(study_key):
        if record.factor == factor:
            return record
    return None


def resolve(evidence: Evidence, cite: str) -> Holding | None:
    """The record a citation names, as a :class:`Holding`; ``None`` when it does not exist."""
    kind, _, ref = cite.partition(":")
    try:
        if kind == "outcome":
            outcome = evidence.outcome(ref)
            study = evidence.study_of(outcome)
            numbers = _outcome_numbers(outcome)
        elif kind == "cohort":
            cohort = evidence.cohort(ref)
            study = evidence.study(cohort.study_key)
            numbers = _cohort_numbers(cohort)
        elif kind == "study":
            study = evidence.study(ref)
            numbers = _study_numbers(evidence, study)
        elif kind == "risk_factor":
            study_key, _, factor = ref.partition("/")
            record = _risk_factor(evidence, study_key, factor)
            if record is None:
                return None
            study = evidence.study(study_key)
            numbers = numbers_in(record.factor)
        else:
            return None
    except KeyError:
        return None
    return Holding(frozenset(numbers), study.key, study.source_key)


def study_names(evidence: Evidence) -> dict[str, set[str]]:
    """Name as a text would write it → the source keys it may refer to."""
    names: dict[str, set[str]] = {}
    for source in evidence.sources:
        if source.first_author:
            names.setdefault(source.first_author, set()).add(source.key)
    for study in evidence.studies:
        for acronym in _ACRONYM.findall(study.name):
            if acronym not in _NOT_STUDIES:
                names.setdefault(acronym, set()).add(study.source_key)
    return names


def _texts(item: RuleSpec | OptionSpec) -> Iterator[tuple[str, str]]:
    if isinstance(item, RuleSpec):
        yield "reason", item.reason
        if item.effect.flag:
            yield "flag", item.effect.flag
        if item.effect.action:
            yield "action", item.effect.action
    else:
        yield "name", item.name
        yield "summary", item.summary


def _problems_of(
    label: str,
    item: RuleSpec | OptionSpec,
    evidence: Evidence,
    names: dict[str, set[str]],
) -> Iterable[str]:
    holdings = []
    for cite in item.cites:
        holding = resolve(evidence, cite)
        if holding is None:
            yield f"{label}: cites {cite!r}, which is not in the evidence base"
        else:
            holdings.append(holding)
    held = set().union(*(h.numbers for h in holdings)) if holdings else set()
    sources = {h.source_key for h in holdings}
    for where, text in _texts(item):
        for number in sorted(numbers_in(text) - held):
            shown = f"{number:g}"
            yield f"{label}: {where} names {shown}, which no cited record holds"
        for name, keys in names.items():
            if re.search(rf"\b{re.escape(name)}\b", text) and not keys & sources:
                yield f"{label}: {where} names {name}, but no cited record is from that study"


def citation_problems(book: RuleBook, evidence: Evidence) -> list[str]:
    """Every rule or option text that names a number or study its citations do not hold."""
    names = study_names(evidence)
    problems: list[str] = []
    for option in book.options:
        problems.extend(_problems_of(f"option:{option.id}", option, evidence, names))
    for rule in book.rules:
        problems.extend(_problems_of(rule.id, rule, evidence, names))
    return problems
