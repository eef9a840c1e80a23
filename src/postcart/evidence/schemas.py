"""The shape of a curated evidence file (one YAML file per source), as pydantic models.

These models are the contract between the people who curate ``evidence/data/*.yaml`` and the
loader. They check *shape* (types, vocabularies, required fields); clinical consistency
(CR ≤ ORR, events ≤ n, quotes present...) is checked across records by ``evidence.rules``.

File layout::

    source:            # who published it (exactly one per file)
    studies:           # what they did, each with cohorts and their outcomes
    risk_factors:      # prognostic associations reported by studies of this source
    products:          # CAR T product catalogue entries (catalogue files only)
    therapies:         # salvage-therapy catalogue entries (catalogue files only)
    mechanisms:        # failure-mechanism taxonomy entries (catalogue files only)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from postcart.evidence.vocab import (
    AnalysisType,
    CohortRole,
    DenominatorBasis,
    Direction,
    Disease,
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

#: Key syntax shared by every record that other records refer to.
KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,119}$"  # at most 120: the key columns


class _Strict(BaseModel):
    """Unknown fields are errors: a typo in a curated file must not silently drop data."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceIn(_Strict):
    """A publication (or registry/abstract) that reports numbers."""

    key: str = Field(pattern=KEY_PATTERN)
    citation: str
    first_author: str | None = None
    year: int | None = Field(default=None, ge=1900, le=2100)
    journal: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^\d{1,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.\S+/\S+$")
    url: str | None = None
    #: Reference number the founding review uses for this source, where it cites it.
    seed_ref: int | None = Field(default=None, ge=1)
    #: How far the numbers were checked: "seed_only", "abstract", "full_text", "secondary".
    checked_against: str | None = None
    note: str | None = None


class ProvenanceIn(_Strict):
    """Where one number was read, precisely enough for someone else to find it again."""

    kind: ProvenanceKind
    #: Verbatim sentence containing the figure (required for figures from the review).
    quote: str | None = None
    #: Section heading of the review the quote sits under (required when kind == review).
    section: str | None = None
    #: Where in a primary/secondary source: "abstract", "Table 2", "Results, para 3"...
    locator: str | None = None
    #: Source the figure was read in, when not the file's own source (e.g. a secondary table).
    source_key: str | None = Field(default=None, pattern=KEY_PATTERN)
    url: str | None = None


class DiscrepancyIn(_Strict):
    """Link between two figures for the same quantity that disagree (review vs primary)."""

    #: Key of the other outcome (in any file).
    other: str = Field(pattern=KEY_PATTERN)
    note: str


class OutcomeIn(_Strict):
    """One reported number about one cohort."""

    #: Optional stable key; required only when another record refers to this outcome.
    key: str | None = Field(default=None, pattern=KEY_PATTERN)
    measure: Measure
    #: Free label, required when ``measure`` is ``other`` (e.g. "macrophage activation").
    label: str | None = None
    statistic: Statistic = Statistic.point
    #: As reported: percent for rates, months/weeks/days for medians. Empty when unknown.
    value: float | None = None
    unit: Unit
    #: Landmark time in months (12 for "1-year OS"); required for landmark rates.
    timepoint_months: float | None = Field(default=None, gt=0)
    range_low: float | None = None
    range_high: float | None = None
    #: Events are only entered when the source prints them; the loader may derive them.
    events: int | None = Field(default=None, ge=0)
    #: Denominator of ``events`` when it differs from the cohort's n (e.g. evaluable only).
    denominator: int | None = Field(default=None, ge=0)
    #: Whom ``denominator`` counts, when the outcome gives its own (else the cohort's basis).
    denominator_basis: DenominatorBasis | None = None
    #: Why the percentage may not be out of this denominator (another data cut, an unclear
    #: count): no event count is derived from it, approximately or exactly.
    denominator_uncertain: str | None = None
    #: "patients" unless the figure is per lesion, per site or per infusion.
    analysis_unit: str = "patients"
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = Field(default=None, gt=0, lt=100)
    #: Response criteria (Lugano 2014, IWG 2007...) or toxicity grading (ASTCT, Lee, CTCAE...).
    criteria: str | None = None
    n_studies: int | None = Field(default=None, ge=1)
    provenance: ProvenanceIn
    discrepancy: DiscrepancyIn | None = None
    note: str | None = None


class CohortIn(_Strict):
    """A group of patients within a study that outcomes are reported for."""

    key: str = Field(pattern=KEY_PATTERN)
    label: str
    #: What the cohort received, in words (e.g. "axicabtagene ciloleucel", "polatuzumab ± BR").
    intervention: str
    #: CAR T products the cohort received at (first) CAR T: keys of the product catalogue.
    products: list[str] = Field(default_factory=list)
    #: Salvage therapy given after CAR T failure: key of the therapy catalogue.
    therapy: str | None = None
    disease: Disease | None = None
    n: int | None = Field(default=None, ge=0)
    #: Where ``n`` was read, like every other number (required whenever ``n`` is given).
    n_provenance: ProvenanceIn | None = None
    #: What the cohort is (all-comers, a product arm, a selected subgroup, a salvage cohort after
    #: CAR T failure, a comparator...): analyses admit cohorts by role.
    role: CohortRole
    #: Whom the cohort's n and percentages count: intention to treat, treated, evaluable.
    denominator_basis: DenominatorBasis = DenominatorBasis.not_stated
    #: How the cohort was selected, in words (required for selected, comparator and other roles).
    selection: str | None = None
    #: Cohort this one is a subgroup of (e.g. "with bendamustine" within the polatuzumab cohort).
    subgroup_of: str | None = Field(default=None, pattern=KEY_PATTERN)
    #: Time from CAR T infusion to failure that defines the cohort, where it does.
    failure_days_min: int | None = Field(default=None, ge=0)
    failure_days_max: int | None = Field(default=None, ge=0)
    #: CD19 status of the relapse the cohort required ("positive", "negative"), where stated.
    cd19_status: str | None = None
    outcomes: list[OutcomeIn] = Field(default_factory=list)
    note: str | None = None


class StudyIn(_Strict):
    """One study (trial, cohort, registry analysis) reported by the source."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str
    design: StudyDesign
    region: str | None = None
    disease: Disease
    #: Patients were all treated after CAR T failure (the population the decision aid serves).
    post_cart_specific: bool = False
    #: The study reports outcomes by time from infusion to failure.
    timing_subgroup: bool = False
    #: The study required a known target-antigen status (e.g. CD19+ or CD20+) for entry.
    antigen_status_required: bool = False
    registration: str | None = None
    cohorts: list[CohortIn] = Field(min_length=1)
    note: str | None = None


class RiskFactorIn(_Strict):
    """A prognostic association a study reports (e.g. elevated LDH → worse OS)."""

    factor: str
    direction: Direction
    endpoint: str
    analysis: AnalysisType
    study: str = Field(pattern=KEY_PATTERN)
    provenance: ProvenanceIn


class IndicationIn(_Strict):
    """One regulatory approval of a product, with where it was read."""

    indication: str
    agency: str = "FDA"
    year: int | None = Field(default=None, ge=2010, le=2100)
    pivotal_trial: str | None = None
    provenance: ProvenanceIn


class ProductIn(_Strict):
    """A CAR T-cell product (approved or investigational)."""

    key: str = Field(pattern=KEY_PATTERN)
    generic_name: str
    brand_name: str | None = None
    target: str
    costimulatory_domain: str | None = None
    approved: bool
    indications: list[IndicationIn] = Field(default_factory=list)
    provenance: ProvenanceIn | None = None


class TherapyIn(_Strict):
    """A salvage therapy after CAR T failure (the vocabulary the decision aid uses too)."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str
    therapy_class: TherapyClass
    target_antigen: str | None = None
    cd19_directed: bool


class MechanismIn(_Strict):
    """One mechanism of CAR T failure in the review's taxonomy."""

    key: str = Field(pattern=KEY_PATTERN)
    category: MechanismCategory
    name: str
    summary: str
    provenance: ProvenanceIn


class OverlapGroupIn(_Strict):
    """Cohorts (in any files) that share patients; one of them stands for the group per analysis.

    Overlap across studies is invisible inside each file: two reports of one registry, a
    consortium series and the registry its centres feed. The register says so once, with why.
    """

    key: str = Field(pattern=KEY_PATTERN)
    cohorts: list[str] = Field(min_length=2)
    relation: OverlapRelation
    certainty: OverlapCertainty
    keep: KeepRule = KeepRule.largest
    reason: str
    provenance: ProvenanceIn | None = None


class EvidenceFile(_Strict):
    """A whole curated file."""

    source: SourceIn
    studies: list[StudyIn] = Field(default_factory=list)
    risk_factors: list[RiskFactorIn] = Field(default_factory=list)
    products: list[ProductIn] = Field(default_factory=list)
    therapies: list[TherapyIn] = Field(default_factory=list)
    mechanisms: list[MechanismIn] = Field(default_factory=list)
    overlaps: list[OverlapGroupIn] = Field(default_factory=list)
