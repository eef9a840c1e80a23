"""Read models of the evidence base: frozen records that other packages use instead of the ORM.

Records refer to each other by key, as the files do; :class:`Evidence` holds them all and answers
the lookups the decision aid and the report need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from postcart.evidence.vocab import (
    AnalysisType,
    CohortRole,
    DenominatorBasis,
    Direction,
    Disease,
    EventsBasis,
    KeepRule,
    Measure,
    MechanismCategory,
    OverlapCertainty,
    OverlapRelation,
    ProvenanceKind,
    Statistic,
    StudyDesign,
    TherapyClass,
    Unit,
)

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one number or claim was read."""

    kind: ProvenanceKind
    quote: str | None = None
    section: str | None = None
    locator: str | None = None
    source_key: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A publication that reports numbers; ``file``/``line`` say where it was curated."""

    key: str
    citation: str
    file: str
    line: int | None = None
    first_author: str | None = None
    year: int | None = None
    journal: str | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    seed_ref: int | None = None
    checked_against: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Study:
    """One study reported by a source."""

    key: str
    source_key: str
    name: str
    design: StudyDesign
    disease: Disease
    file: str
    line: int | None = None
    region: str | None = None
    post_cart_specific: bool = False
    timing_subgroup: bool = False
    antigen_status_required: bool = False
    registration: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Cohort:
    """A group of patients within a study."""

    key: str
    study_key: str
    label: str
    intervention: str
    role: CohortRole
    file: str
    line: int | None = None
    products: tuple[str, ...] = ()
    therapy: str | None = None
    disease: Disease | None = None
    n: int | None = None
    n_provenance: Provenance | None = None
    denominator_basis: DenominatorBasis = DenominatorBasis.not_stated
    selection: str | None = None
    subgroup_of: str | None = None
    failure_days_min: int | None = None
    failure_days_max: int | None = None
    cd19_status: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One reported number about one cohort.

    ``ordinal`` is the outcome's position within its cohort, so keyless outcomes still have a
    stable identity (``ref``). ``events_basis`` says whether ``events`` was printed or derived.
    """

    cohort_key: str
    ordinal: int
    measure: Measure
    unit: Unit
    provenance: Provenance
    file: str
    line: int | None = None
    key: str | None = None
    label: str | None = None
    statistic: Statistic = Statistic.point
    value: float | None = None
    timepoint_months: float | None = None
    range_low: float | None = None
    range_high: float | None = None
    events: int | None = None
    events_basis: EventsBasis = EventsBasis.none
    denominator: int | None = None
    denominator_basis: DenominatorBasis | None = None
    denominator_uncertain: str | None = None
    analysis_unit: str = "patients"
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    criteria: str | None = None
    n_studies: int | None = None
    discrepancy_with: str | None = None
    discrepancy_note: str | None = None
    note: str | None = None

    @property
    def ref(self) -> str:
        """The key when there is one, else ``cohort#ordinal``."""
        return self.key or f"{self.cohort_key}#{self.ordinal}"


@dataclass(frozen=True, slots=True)
class Indication:
    """One regulatory approval of a product."""

    indication: str
    provenance: Provenance
    agency: str = "FDA"
    year: int | None = None
    pivotal_trial: str | None = None


@dataclass(frozen=True, slots=True)
class Product:
    """A CAR T-cell product of the catalogue."""

    key: str
    generic_name: str
    target: str
    approved: bool
    source_key: str
    file: str
    line: int | None = None
    brand_name: str | None = None
    costimulatory_domain: str | None = None
    indications: tuple[Indication, ...] = ()
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class Therapy:
    """A salvage therapy after CAR T failure."""

    key: str
    name: str
    therapy_class: TherapyClass
    cd19_directed: bool
    source_key: str
    file: str
    line: int | None = None
    target_antigen: str | None = None


@dataclass(frozen=True, slots=True)
class Mechanism:
    """One mechanism of CAR T failure in the review's taxonomy."""

    key: str
    category: MechanismCategory
    name: str
    summary: str
    provenance: Provenance
    source_key: str
    file: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """A prognostic association a study reports."""

    factor: str
    direction: Direction
    endpoint: str
    analysis: AnalysisType
    study_key: str
    source_key: str
    provenance: Provenance
    file: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class OverlapGroup:
    """Cohorts from different reports that share patients (the overlap register)."""

    key: str
    cohorts: tuple[str, ...]
    relation: OverlapRelation
    certainty: OverlapCertainty
    keep: KeepRule
    reason: str
    source_key: str
    file: str
    line: int | None = None
    provenance: Provenance | None = None


def _index(records: Iterable[_T], key: str) -> dict[str, _T]:
    return {getattr(record, key): record for record in records}


@dataclass(frozen=True)
class Evidence:
    """Everything in the evidence base, with lookups by key.

    Tuples keep the deterministic order the loader produced (files by name, records in file
    order), so two loads of the same files compare equal.
    """

    sources: tuple[Source, ...] = ()
    studies: tuple[Study, ...] = ()
    cohorts: tuple[Cohort, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    products: tuple[Product, ...] = ()
    therapies: tuple[Therapy, ...] = ()
    mechanisms: tuple[Mechanism, ...] = ()
    risk_factors: tuple[RiskFactor, ...] = ()
    overlaps: tuple[OverlapGroup, ...] = ()
    _by_key: dict[str, dict[str, object]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: Outcome key -> the outcomes whose curated discrepancy points at it.
    _contradicted_by: dict[str, tuple[Outcome, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("sources", "studies", "cohorts", "products", "therapies", "mechanisms"):
            self._by_key[name] = _index(getattr(self, name), "key")
        contradicted: dict[str, list[Outcome]] = {}
        for outcome in self.outcomes:
            if outcome.discrepancy_with is not None:
                contradicted.setdefault(outcome.discrepancy_with, []).append(outcome)
        self._contradicted_by.update({k: tuple(v) for k, v in contradicted.items()})

    def _get(self, table: str, key: str, kind: type[_T]) -> _T:
        try:
            record = self._by_key[table][key]
        except KeyError:
            raise KeyError(f"no {kind.__name__.lower()} with key {key!r}") from None
        assert isinstance(record, kind)
        return record

    def source(self, key: str) -> Source:
        """The source with ``key`` (KeyError naming the key when absent)."""
        return self._get("sources", key, Source)

    def study(self, key: str) -> Study:
        """The study with ``key``."""
        return self._get("studies", key, Study)

    def cohort(self, key: str) -> Cohort:
        """The cohort with ``key``."""
        return self._get("cohorts", key, Cohort)

    def product(self, key: str) -> Product:
        """The product with ``key``."""
        return self._get("products", key, Product)

    def therapy(self, key: str) -> Therapy:
        """The salvage therapy with ``key``."""
        return self._get("therapies", key, Therapy)

    def mechanism(self, key: str) -> Mechanism:
        """The failure mechanism with ``key``."""
        return self._get("mechanisms", key, Mechanism)

    def outcome(self, ref: str) -> Outcome:
        """The outcome whose key (or ``cohort#ordinal`` ref) is ``ref``."""
        for outcome in self.outcomes:
            if outcome.ref == ref:
                return outcome
        raise KeyError(f"no outcome with key {ref!r}")

    def contradicting(self, outcome: Outcome) -> tuple[Outcome, ...]:
        """Outcomes whose curated discrepancy points at ``outcome`` (the other side of a link)."""
        return () if outcome.key is None else self._contradicted_by.get(outcome.key, ())

    def disputed(self, outcome: Outcome) -> bool:
        """Whether a curated discrepancy links ``outcome`` to a conflicting figure, either way."""
        return outcome.discrepancy_with is not None or bool(self.contradicting(outcome))

    def studies_for_source(self, source_key: str) -> tuple[Study, ...]:
        """Studies the source reports, in file order."""
        return tuple(s for s in self.studies if s.source_key == source_key)

    def cohorts_for_study(self, study_key: str) -> tuple[Cohort, ...]:
        """Cohorts of one study, in file order."""
        return tuple(c for c in self.cohorts if c.study_key == study_key)

    def cohorts_for_therapy(self, therapy_key: str) -> tuple[Cohort, ...]:
        """Cohorts that received the salvage therapy ``therapy_key`` after CAR T failure."""
        return tuple(c for c in self.cohorts if c.therapy == therapy_key)

    def outcomes_for(
        self, cohort_key: str, measure: Measure | str | None = None
    ) -> tuple[Outcome, ...]:
        """Outcomes of one cohort, optionally only one measure."""
        return tuple(
            o
            for o in self.outcomes
            if o.cohort_key == cohort_key and (measure is None or o.measure == measure)
        )

    def outcomes_for_measure(self, measure: Measure | str) -> tuple[Outcome, ...]:
        """Every outcome of one measure across the evidence base."""
        return tuple(o for o in self.outcomes if o.measure == measure)

    def overlaps_of(self, cohort_key: str) -> tuple[OverlapGroup, ...]:
        """The overlap groups a cohort belongs to (patients it shares with other reports)."""
        return tuple(g for g in self.overlaps if cohort_key in g.cohorts)

    def risk_factors_for_study(self, study_key: str) -> tuple[RiskFactor, ...]:
        """Risk factors one study reports."""
        return tuple(r for r in self.risk_factors if r.study_key == study_key)

    def study_of(self, outcome: Outcome) -> Study:
        """The study an outcome belongs to."""
        return self.study(self.cohort(outcome.cohort_key).study_key)

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome with the export columns (see ``evidence.frame``)."""
        from postcart.evidence.frame import outcomes_frame

        return outcomes_frame(self)
