"""Search the curated outcomes: pure functions over :class:`~postcart.evidence.Evidence`.

Kept out of the route so the filtering can be tested on records directly, and so the rules are
one small function a reader can check: every word of ``q`` must occur (case-insensitively) in
the study name, cohort label, source citation, outcome label or quote, and every chosen filter
must hold. Rows carry display strings only, formatted with the report's helpers, so templates
do no formatting.
"""

from __future__ import annotations

from dataclasses import dataclass

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.evidence.vocab import CohortRole, EventsBasis, Measure, ProvenanceKind, Unit
from postcart.report.cells import fmt_number

#: Rows shown at most; the page says how many matched, so a cut is never silent.
LIMIT = 200
#: The therapy filter's value for cohorts given no named salvage therapy (CAR T cohorts etc.).
NO_THERAPY = "none"
#: Longest search string accepted (a form field, not a document).
MAX_QUERY = 200

_UNIT = {Unit.percent: "%", Unit.months: " months", Unit.weeks: " weeks", Unit.days: " days",
         Unit.count: ""}  # fmt: skip
_EVENTS = {
    EventsBasis.reported: "printed",
    EventsBasis.derived_exact: "derived exactly from the %",
    EventsBasis.approximate: "approximate, % × n",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the reader asked for; ``None`` (or an empty ``q``) means "any"."""

    q: str = ""
    therapy: str | None = None
    product: str | None = None
    measure: Measure | None = None
    provenance: ProvenanceKind | None = None
    role: CohortRole | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One outcome as the browser shows it (display strings; ``url`` only when http(s))."""

    ref: str
    study: str
    cohort: str
    role: str
    n: str
    measure: str
    label: str
    timepoint: str
    value: str
    events: str
    provenance: str
    locator: str
    quote: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Found:
    """The rows shown (at most ``LIMIT``) and how many outcomes matched in all."""

    rows: tuple[Row, ...]
    matched: int

    @property
    def truncated(self) -> bool:
        """Whether some matches are not shown."""
        return self.matched > len(self.rows)


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a dropdown."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class Dropdown:
    """One filter of the form: the query parameter, its label and its choices."""

    name: str
    label: str
    options: tuple[Option, ...]


def _term(raw: str, allowed: set[str], field: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if value not in allowed:
        raise ValueError(f"unknown {field} {value!r}")
    return value


def parse_filters(
    evidence: Evidence,
    *,
    q: str = "",
    therapy: str = "",
    product: str = "",
    measure: str = "",
    provenance: str = "",
    role: str = "",
) -> Filters:
    """Filters from form values ("" = any); ValueError naming the field for an unknown term.

    Checked against the vocabularies, so a mistyped link says so instead of matching nothing.
    """
    therapies = {t.key for t in evidence.therapies} | {NO_THERAPY}
    chosen_measure = _term(measure, {m.value for m in Measure}, "measure")
    chosen_kind = _term(provenance, {k.value for k in ProvenanceKind}, "provenance")
    chosen_role = _term(role, {r.value for r in CohortRole}, "role")
    return Filters(
        q=" ".join(q.split())[:MAX_QUERY],
        therapy=_term(therapy, therapies, "therapy"),
        product=_term(product, {p.key for p in evidence.products}, "product"),
        measure=None if chosen_measure is None else Measure(chosen_measure),
        provenance=None if chosen_kind is None else ProvenanceKind(chosen_kind),
        role=None if chosen_role is None else CohortRole(chosen_role),
    )


def _haystack(evidence: Evidence, outcome: Outcome, cohort: Cohort) -> str:
    study = evidence.study(cohort.study_key)
    citation = evidence.source(study.source_key).citation
    parts = (study.name, cohort.label, citation, outcome.label, outcome.provenance.quote)
    return "\n".join(p for p in parts if p).casefold()


def matches(evidence: Evidence, outcome: Outcome, filters: Filters) -> bool:
    """Whether one outcome passes every filter and contains every word of ``q``."""
    cohort = evidence.cohort(outcome.cohort_key)
    if filters.measure is not None and outcome.measure != filters.measure:
        return False
    if filters.provenance is not None and outcome.provenance.kind != filters.provenance:
        return False
    if filters.role is not None and cohort.role != filters.role:
        return False
    if filters.product is not None and filters.product not in cohort.products:
        return False
    if filters.therapy is not None and (cohort.therapy or NO_THERAPY) != filters.therapy:
        return False
    words = filters.q.casefold().split()
    if not words:
        return True
    haystack = _haystack(evidence, outcome, cohort)
    return all(word in haystack for word in words)


def _value(outcome: Outcome) -> str:
    unit = _UNIT[outcome.unit]
    parts = []
    if outcome.value is not None:
        parts.append(f"{fmt_number(outcome.value, 2)}{unit}")
    if outcome.range_low is not None and outcome.range_high is not None:
        low, high = fmt_number(outcome.range_low, 2), fmt_number(outcome.range_high, 2)
        parts.append(f"range {low}–{high}{unit}")
    if outcome.ci_low is not None and outcome.ci_high is not None:
        level = fmt_number(outcome.ci_level or 95.0)
        low, high = fmt_number(outcome.ci_low, 2), fmt_number(outcome.ci_high, 2)
        parts.append(f"({level}% CI {low}–{high})")
    return " ".join(parts)


def _events(outcome: Outcome) -> str:
    if outcome.events is None:
        return ""
    approx = "≈" if outcome.events_basis == EventsBasis.approximate else ""
    out_of = f"/{outcome.denominator}" if outcome.denominator is not None else ""
    return f"{approx}{outcome.events}{out_of} ({_EVENTS.get(outcome.events_basis, '')})"


def safe_url(url: str | None) -> str | None:
    """``url`` when it is http(s), else ``None``: the curated files do not restrict the scheme,
    so a ``javascript:`` address must never become a link on a page others open."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def row_of(evidence: Evidence, outcome: Outcome) -> Row:
    """The display row of one outcome."""
    cohort = evidence.cohort(outcome.cohort_key)
    study = evidence.study(cohort.study_key)
    where = outcome.provenance
    timepoint = fmt_number(outcome.timepoint_months)
    return Row(
        ref=outcome.ref, study=study.name, cohort=cohort.label, role=cohort.role.value,
        n=fmt_number(cohort.n, 0), measure=outcome.measure.value, label=outcome.label or "",
        timepoint=f"{timepoint} months" if timepoint else "", value=_value(outcome),
        events=_events(outcome), provenance=where.kind.value,
        locator=" ".join(x for x in (where.section, where.locator) if x),
        quote=" ".join((where.quote or "").split()),
        url=safe_url(where.url) or safe_url(evidence.source(study.source_key).url),
    )  # fmt: skip


def search(evidence: Evidence, filters: Filters, limit: int = LIMIT) -> Found:
    """The matching outcomes in evidence order: the first ``limit`` as rows, and the count."""
    hits = [o for o in evidence.outcomes if matches(evidence, o, filters)]
    return Found(tuple(row_of(evidence, o) for o in hits[:limit]), len(hits))


def _options(
    choices: list[tuple[str, str]], selected: str | None, any_label: str
) -> tuple[Option, ...]:
    first = Option("", any_label, selected is None)
    return (first, *(Option(v, label, v == selected) for v, label in choices))


def dropdowns(evidence: Evidence, filters: Filters) -> tuple[Dropdown, ...]:
    """The form's filters, populated from the evidence vocabularies, current choices selected."""
    therapies = [(NO_THERAPY, "none (no named salvage therapy)")]
    therapies += [(t.key, t.name) for t in evidence.therapies]
    products = [(p.key, p.generic_name + (f" ({p.brand_name})" if p.brand_name else ""))
                for p in evidence.products]  # fmt: skip
    return (
        Dropdown("therapy", "Salvage therapy", _options(therapies, filters.therapy, "any")),
        Dropdown("product", "CAR T product", _options(products, filters.product, "any")),
        Dropdown("measure", "Measure", _options([(m.value, m.value) for m in Measure],
                                                _str(filters.measure), "any")),
        Dropdown("provenance", "Read in", _options([(k.value, k.value) for k in ProvenanceKind],
                                                   _str(filters.provenance), "any")),
        Dropdown("role", "Cohort role", _options([(r.value, r.value) for r in CohortRole],
                                                 _str(filters.role), "any")),
    )  # fmt: skip


def _str(term: Measure | ProvenanceKind | CohortRole | None) -> str | None:
    return None if term is None else term.value


__all__ = [
    "LIMIT",
    "NO_THERAPY",
    "Dropdown",
    "Filters",
    "Found",
    "Option",
    "Row",
    "dropdowns",
    "matches",
    "parse_filters",
    "row_of",
    "safe_url",
    "search",
]
