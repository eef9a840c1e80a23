"""Rules that span records and files: what the schema alone cannot see.

Each rule is one small function from the parsed files to the problems it finds; ``check`` runs
them all so a curator sees every problem at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from postcart.errors import Problem
from postcart.evidence.parsing import FieldPath, ParsedFile
from postcart.evidence.quotes import mentions_figure
from postcart.evidence.schemas import CohortIn, OutcomeIn, ProvenanceIn, StudyIn
from postcart.evidence.vocab import (
    LANDMARK_RATES,
    MEDIANS,
    ROLES_NEEDING_SELECTION,
    CohortRole,
    Measure,
    ProvenanceKind,
    Unit,
)

Rule = Callable[[Sequence[ParsedFile]], Iterator[Problem]]

_DURATION_UNITS = frozenset({Unit.months, Unit.weeks, Unit.days})
_RATE_UNITS = frozenset({Unit.percent, Unit.count})
_BOUNDED = ("value", "range_low", "range_high", "ci_low", "ci_high")


@dataclass(frozen=True)
class CohortSite:
    """A cohort with the file and path it sits at."""

    file: ParsedFile
    path: FieldPath
    study: StudyIn
    cohort: CohortIn

    def problem(self, field: str, message: str) -> Problem:
        return self.file.problem((*self.path, field), message)


@dataclass(frozen=True)
class OutcomeSite:
    """An outcome with its cohort, file and path."""

    file: ParsedFile
    path: FieldPath
    cohort: CohortIn
    outcome: OutcomeIn

    def problem(self, field: str, message: str) -> Problem:
        return self.file.problem((*self.path, field), message)

    @property
    def name(self) -> str:
        """How messages name the outcome: key, or measure within the cohort."""
        o = self.outcome
        return f"outcome {o.key!r}" if o.key else f"{o.measure} of cohort {self.cohort.key!r}"


def cohort_sites(files: Sequence[ParsedFile]) -> Iterator[CohortSite]:
    """Every cohort in every file, in file order."""
    for file in files:
        for s, study in enumerate(file.content.studies):
            for c, cohort in enumerate(study.cohorts):
                yield CohortSite(file, ("studies", s, "cohorts", c), study, cohort)


def outcome_sites(files: Sequence[ParsedFile]) -> Iterator[OutcomeSite]:
    """Every outcome in every file, in file order."""
    for site in cohort_sites(files):
        for o, outcome in enumerate(site.cohort.outcomes):
            yield OutcomeSite(site.file, (*site.path, "outcomes", o), site.cohort, outcome)


def provenance_sites(
    files: Sequence[ParsedFile],
) -> Iterator[tuple[ParsedFile, FieldPath, ProvenanceIn]]:
    """Every provenance block (outcomes, cohort sizes, risk factors, mechanisms, products...)."""
    for site in outcome_sites(files):
        yield site.file, (*site.path, "provenance"), site.outcome.provenance
    for cohort in cohort_sites(files):
        if cohort.cohort.n_provenance is not None:
            yield cohort.file, (*cohort.path, "n_provenance"), cohort.cohort.n_provenance
    for file in files:
        content = file.content
        for i, group in enumerate(content.overlaps):
            if group.provenance is not None:
                yield file, ("overlaps", i, "provenance"), group.provenance
        for i, risk in enumerate(content.risk_factors):
            yield file, ("risk_factors", i, "provenance"), risk.provenance
        for i, mechanism in enumerate(content.mechanisms):
            yield file, ("mechanisms", i, "provenance"), mechanism.provenance
        for i, product in enumerate(content.products):
            if product.provenance is not None:
                yield file, ("products", i, "provenance"), product.provenance
            for j, approval in enumerate(product.indications):
                yield file, ("products", i, "indications", j, "provenance"), approval.provenance


def _keys(files: Sequence[ParsedFile], table: str) -> set[str]:
    return {record.key for file in files for record in getattr(file.content, table)}


def study_keys(files: Sequence[ParsedFile]) -> set[str]:
    """Keys of every study in every file."""
    return {site.study.key for site in cohort_sites(files)}


def percent_in_range(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A percentage outside 0–100 is a typo or a count entered in the wrong field."""
    for site in outcome_sites(files):
        if site.outcome.unit != Unit.percent:
            continue
        for name in _BOUNDED:
            figure = getattr(site.outcome, name)
            if figure is not None and not 0 <= figure <= 100:
                yield site.problem(name, f"{figure:g} is a percentage outside 0–100")


def bounds_ordered(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A range or interval whose low end exceeds its high end was entered back to front."""
    for site in outcome_sites(files):
        o = site.outcome
        for low, high in (("range_low", "range_high"), ("ci_low", "ci_high")):
            a, b = getattr(o, low), getattr(o, high)
            if a is not None and b is not None and a > b:
                yield site.problem(low, f"{low} {a:g} exceeds {high} {b:g}")


def cr_not_above_orr(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """Complete responders are responders: CR above ORR for the same figure basis is an error."""
    orr: dict[tuple[object, ...], float] = defaultdict(lambda: float("-inf"))
    crs: list[tuple[tuple[object, ...], OutcomeSite]] = []
    for site in outcome_sites(files):
        o = site.outcome
        if o.value is None or o.measure not in (Measure.orr, Measure.cr):
            continue
        basis = (
            site.cohort.key,
            o.timepoint_months,
            o.statistic,
            o.provenance.kind,
            o.unit,
            o.analysis_unit,
            o.denominator,
        )
        if o.measure == Measure.orr:
            orr[basis] = max(orr[basis], o.value)
        else:
            crs.append((basis, site))
    for cr_basis, cr_site in crs:
        value = cr_site.outcome.value
        if cr_basis in orr and value is not None and value > orr[cr_basis]:
            yield cr_site.problem(
                "value", f"CR {value:g} exceeds ORR {orr[cr_basis]:g} of the same cohort"
            )


def events_within_denominator(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """More events than patients cannot happen; the denominator is the outcome's, else n."""
    for site in outcome_sites(files):
        o = site.outcome
        if o.events is None:
            continue
        if o.denominator is not None:
            if o.events > o.denominator:
                yield site.problem("events", f"{o.events} exceeds denominator {o.denominator}")
        elif site.cohort.n is not None and o.events > site.cohort.n:
            yield site.problem(
                "events", f"{o.events} exceeds n={site.cohort.n} of cohort {site.cohort.key!r}"
            )


def landmark_needs_timepoint(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """ "OS 40 %" means nothing without "at 12 months"."""
    for site in outcome_sites(files):
        o = site.outcome
        if o.measure in LANDMARK_RATES and o.timepoint_months is None:
            yield site.problem("timepoint_months", f"landmark rate {o.measure} needs a timepoint")


def products_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A cohort's CAR T product must be in a ``products:`` catalogue."""
    known = _keys(files, "products")
    for site in cohort_sites(files):
        for i, product in enumerate(site.cohort.products):
            if product not in known:
                yield site.file.problem(
                    (*site.path, "products", i), f"unknown product key {product!r}"
                )


def therapies_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A cohort's salvage therapy must be in a ``therapies:`` catalogue."""
    known = _keys(files, "therapies")
    for site in cohort_sites(files):
        therapy = site.cohort.therapy
        if therapy is not None and therapy not in known:
            yield site.problem("therapy", f"unknown therapy key {therapy!r}")


def _key_sites(files: Sequence[ParsedFile]) -> Iterator[tuple[str, str, ParsedFile, FieldPath]]:
    for file in files:
        yield "source", file.content.source.key, file, ("source", "key")
        for table, kind in (
            ("products", "product"),
            ("therapies", "therapy"),
            ("mechanisms", "mechanism"),
            ("overlaps", "overlap group"),
        ):
            for i, record in enumerate(getattr(file.content, table)):
                yield kind, record.key, file, (table, i, "key")
    for s in cohort_sites(files):
        if s.path[-1] == 0:
            yield "study", s.study.key, s.file, (*s.path[:2], "key")
        yield "cohort", s.cohort.key, s.file, (*s.path, "key")
    for o in outcome_sites(files):
        if o.outcome.key is not None:
            yield "outcome", o.outcome.key, o.file, (*o.path, "key")


def keys_unique(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """Keys are how records refer to each other, so each names one record across all files."""
    first: dict[tuple[str, str], str] = {}
    for kind, key, file, path in _key_sites(files):
        if (kind, key) in first:
            yield file.problem(path, f"duplicate {kind} key {key!r} (first at {first[kind, key]})")
        else:
            first[kind, key] = f"{file.path}:{file.index.line(path)}"


def review_quote_present(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A figure from the review must be findable again: quote and section heading required."""
    for file, path, provenance in provenance_sites(files):
        if provenance.kind != ProvenanceKind.review:
            continue
        for name in ("quote", "section"):
            if not (getattr(provenance, name) or "").strip():
                yield file.problem((*path, name), f"{name} is required when kind is review")


def other_needs_label(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """``measure: other`` says nothing on its own."""
    for site in outcome_sites(files):
        if site.outcome.measure == Measure.other and not (site.outcome.label or "").strip():
            yield site.problem("label", "a label is required when measure is other")


def discrepancy_target_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A discrepancy must point at an outcome that exists (by key, in any file)."""
    known = {s.outcome.key for s in outcome_sites(files) if s.outcome.key}
    for site in outcome_sites(files):
        link = site.outcome.discrepancy
        if link is not None and link.other not in known:
            yield site.file.problem(
                (*site.path, "discrepancy", "other"), f"unknown outcome key {link.other!r}"
            )


def risk_factor_study_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A risk factor belongs to a study of the evidence base."""
    known = study_keys(files)
    for file in files:
        for i, risk in enumerate(file.content.risk_factors):
            if risk.study not in known:
                yield file.problem(("risk_factors", i, "study"), f"unknown study {risk.study!r}")


def cited_sources_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A provenance's ``source_key`` must be a source of the evidence base."""
    known = {file.content.source.key for file in files}
    for file, path, provenance in provenance_sites(files):
        if provenance.source_key is not None and provenance.source_key not in known:
            yield file.problem((*path, "source_key"), f"unknown source {provenance.source_key!r}")


def subgroups_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """``subgroup_of`` must name a cohort of the evidence base."""
    known = {site.cohort.key for site in cohort_sites(files)}
    for site in cohort_sites(files):
        parent = site.cohort.subgroup_of
        if parent is not None and parent not in known:
            yield site.problem("subgroup_of", f"unknown cohort {parent!r}")


def unit_fits_measure(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """Rates are percentages or counts; medians are durations."""
    for site in outcome_sites(files):
        o = site.outcome
        if o.measure == Measure.other:
            continue
        allowed = _DURATION_UNITS if o.measure in MEDIANS else _RATE_UNITS
        if o.unit not in allowed:
            expected = " or ".join(sorted(allowed))
            yield site.problem("unit", f"{o.unit} does not fit {o.measure} (expected {expected})")


def review_quote_has_figure(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A review quote must contain the figure it supports, both ends of a range included."""
    for site in outcome_sites(files):
        o = site.outcome
        quote = o.provenance.quote
        if o.provenance.kind != ProvenanceKind.review or not quote:
            continue
        for name in ("value", "range_low", "range_high"):
            figure = getattr(o, name)
            percent = o.unit == Unit.percent
            if figure is not None and not mentions_figure(quote, figure, percent=percent):
                yield site.problem(name, f"{figure:g} does not appear in the review quote")


def n_has_provenance(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """A cohort's n is a number like any other: it must say where it was read."""
    for site in cohort_sites(files):
        c = site.cohort
        if c.n is not None and c.n_provenance is None:
            yield site.problem("n_provenance", f"n = {c.n} has no provenance (where was it read?)")
        quote = c.n_provenance.quote if c.n_provenance is not None else None
        from_review = c.n_provenance is not None and c.n_provenance.kind == ProvenanceKind.review
        if c.n is not None and from_review and quote and not mentions_figure(quote, c.n):
            yield site.problem("n", f"{c.n} does not appear in the review quote")


#: Roles of CAR T-treated cohorts: they received CAR T, not a salvage therapy.
_CART_ROLES = frozenset(
    {CohortRole.cart_all_comers, CohortRole.cart_product_arm, CohortRole.cart_selected}
)
_SALVAGE_ROLES = frozenset({CohortRole.salvage_after_cart, CohortRole.salvage_mixed_population})


def role_fits_cohort(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """Selected, comparator and other cohorts say how; CAR T and salvage roles fit ``therapy``."""
    for site in cohort_sites(files):
        c = site.cohort
        if c.role in ROLES_NEEDING_SELECTION and not (c.selection or "").strip():
            yield site.problem("selection", f"role {c.role} needs a selection: say how in words")
        if c.role in _CART_ROLES and c.therapy is not None:
            yield site.problem(
                "role", f"role {c.role} is a CAR T cohort but therapy is {c.therapy!r}"
            )
        if c.role in _SALVAGE_ROLES and c.therapy is None:
            yield site.problem("therapy", f"role {c.role} needs the salvage therapy it received")
        if c.role == CohortRole.cart_product_arm and len(c.products) != 1:
            yield site.problem("products", "a product arm names exactly one product")


def overlap_members_known(files: Sequence[ParsedFile]) -> Iterator[Problem]:
    """Every member of an overlap group is a cohort of the base, named once."""
    known = {site.cohort.key for site in cohort_sites(files)}
    for file in files:
        for i, group in enumerate(file.content.overlaps):
            seen: set[str] = set()
            for j, key in enumerate(group.cohorts):
                if key not in known:
                    yield file.problem(("overlaps", i, "cohorts", j), f"unknown cohort {key!r}")
                if key in seen:
                    yield file.problem(("overlaps", i, "cohorts", j), f"{key!r} listed twice")
                seen.add(key)


RULES: tuple[Rule, ...] = (
    percent_in_range,
    bounds_ordered,
    cr_not_above_orr,
    events_within_denominator,
    landmark_needs_timepoint,
    products_known,
    therapies_known,
    keys_unique,
    review_quote_present,
    other_needs_label,
    discrepancy_target_known,
    risk_factor_study_known,
    cited_sources_known,
    subgroups_known,
    unit_fits_measure,
    review_quote_has_figure,
    n_has_provenance,
    role_fits_cohort,
    overlap_members_known,
)


def check(files: Sequence[ParsedFile]) -> list[Problem]:
    """Every problem every rule finds, sorted by file and line."""
    problems = [problem for rule in RULES for problem in rule(files)]
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))


__all__ = ["RULES", "Rule", "check", "cohort_sites", "outcome_sites"]
