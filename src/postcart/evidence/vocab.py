"""Closed vocabularies of the evidence base: the single source for YAML, DB and CLI choices."""

from __future__ import annotations

from enum import StrEnum


class Measure(StrEnum):
    """What an outcome measures. Rates are percentages; medians carry a time unit."""

    orr = "orr"
    cr = "cr"
    pr = "pr"
    os_rate = "os_rate"
    pfs_rate = "pfs_rate"
    grfs_rate = "grfs_rate"
    nrm_rate = "nrm_rate"
    relapse_rate = "relapse_rate"
    local_control_rate = "local_control_rate"
    dor_rate = "dor_rate"
    median_os = "median_os"
    median_pfs = "median_pfs"
    median_dor = "median_dor"
    median_followup = "median_followup"
    crs_any = "crs_any"
    crs_g3plus = "crs_g3plus"
    icans_any = "icans_any"
    icans_g3plus = "icans_g3plus"
    ae_g3plus = "ae_g3plus"
    gvhd_acute_g2_4 = "gvhd_acute_g2_4"
    gvhd_acute_g3_4 = "gvhd_acute_g3_4"
    gvhd_chronic = "gvhd_chronic"
    cd19_negative_relapse = "cd19_negative_relapse"
    other = "other"


#: Measures that are time-to-event landmark rates: a value needs a timepoint to mean anything.
LANDMARK_RATES = frozenset(
    {
        Measure.os_rate,
        Measure.pfs_rate,
        Measure.grfs_rate,
        Measure.nrm_rate,
        Measure.relapse_rate,
        Measure.local_control_rate,
        Measure.dor_rate,
    }
)

#: Measures whose value is a duration (months, weeks or days), not a percentage.
MEDIANS = frozenset(
    {Measure.median_os, Measure.median_pfs, Measure.median_dor, Measure.median_followup}
)

#: Response measures where CR ⊆ ORR must hold within one cohort.
RESPONSE_MEASURES = frozenset({Measure.orr, Measure.cr, Measure.pr})


class Unit(StrEnum):
    """Unit of an outcome value."""

    percent = "percent"
    months = "months"
    weeks = "weeks"
    days = "days"
    count = "count"  # type: ignore[assignment]  # member name shadows str.count; value is what files use


class Statistic(StrEnum):
    """How the value summarises data: one cohort's estimate, or an aggregate across studies."""

    point = "point"  # an estimate for one cohort
    median_across_studies = "median_across_studies"  # the review's "median ORR was 67%"
    range_across_studies = "range_across_studies"  # only a min-max across studies is given


class StudyDesign(StrEnum):
    """Design of a study, as the review and the primary papers describe it."""

    pivotal_trial = "pivotal_trial"
    early_phase_trial = "early_phase_trial"
    real_world = "real_world"
    registry = "registry"
    salvage_cohort = "salvage_cohort"
    case_series = "case_series"
    systematic_review = "systematic_review"
    meta_analysis = "meta_analysis"


class Disease(StrEnum):
    """Histology of the population a cohort enrolled."""

    LBCL = "LBCL"
    DLBCL = "DLBCL"
    PMBCL = "PMBCL"
    HGBCL = "HGBCL"
    MCL = "MCL"
    FL = "FL"
    MZL = "MZL"
    iNHL = "iNHL"  # indolent NHL (FL + MZL, as in ZUMA-5)
    B_ALL = "B-ALL"
    CLL = "CLL"
    aggressive_BCL = "aggressive B-cell lymphoma"
    NHL_mixed = "NHL mixed"
    B_cell_mixed = "B-cell malignancies mixed"


class TherapyClass(StrEnum):
    """Broad class of a salvage therapy, following the review's Figure 2 grouping."""

    cellular = "cellular"
    systemic = "systemic"
    radiation = "radiation"
    transplant = "transplant"
    investigational = "investigational"
    mixed = "mixed"


class ProvenanceKind(StrEnum):
    """Where a number was read: the founding review's text, the primary paper, or a secondary."""

    review = "review"  # quoted from ../shared/seed/review.txt (the founding review)
    primary = "primary"  # read in the study's own publication (abstract or full text)
    secondary = "secondary"  # read in another review's table, one step removed


class EventsBasis(StrEnum):
    """How an outcome's ``events`` count is known."""

    reported = "reported"  # the source prints the count
    derived_exact = "derived_exact"  # only one integer count reproduces the printed percent
    #: round(percent × n) where several counts print as that percent; the denominator is the
    #: one the percentage was computed on. Pooled with a rounding sensitivity, always labelled.
    approximate = "approximate"
    none = "none"  # not derivable without guessing: left empty


class CohortRole(StrEnum):
    """What a cohort *is*, so an analysis can admit exactly the population it names.

    A cohort's role is a curated fact, not something inferred from labels: a CR-at-infusion
    series, a comparator arm and a bispecific trial's post-CAR T subgroup all look alike to a
    regular expression and must never be pooled as one another.
    """

    #: Every patient the study gave (or intended to give) CD19 CAR T, no selection beyond the
    #: indication; ITT or infused is said by ``denominator_basis``.
    cart_all_comers = "cart_all_comers"
    #: One product's patients within a study of several products, otherwise unselected.
    cart_product_arm = "cart_product_arm"
    #: CAR T patients selected by response, disease status, prior therapy, eligibility, age,
    #: fitness, matching or another feature (``selection`` names it).
    cart_selected = "cart_selected"
    #: Every patient whose CAR T failed, whatever came next (outcomes after failure).
    relapse_after_cart = "relapse_after_cart"
    #: Patients given a named salvage therapy after CAR T failure: a whole post-CAR T cohort or
    #: the post-CAR T subgroup of a broader trial.
    salvage_after_cart = "salvage_after_cart"
    #: A salvage therapy's whole population, not restricted to patients after CAR T failure.
    salvage_mixed_population = "salvage_mixed_population"
    #: A comparator or control arm: another treatment, a historical or pre-CAR T cohort.
    comparator = "comparator"
    #: Pooled across studies by someone else (a review's or meta-analysis's summary).
    aggregate = "aggregate"
    #: Anything else (maintenance after CAR T, CAR T after another agent...): ``selection`` says.
    other = "other"


#: Roles that must say in words how the cohort was selected.
ROLES_NEEDING_SELECTION = frozenset({CohortRole.cart_selected, CohortRole.comparator,
                                     CohortRole.other})  # fmt: skip


class DenominatorBasis(StrEnum):
    """Whom the cohort's percentages are out of."""

    intention_to_treat = "intention_to_treat"  # leukapheresed, approved, ordered or enrolled
    treated = "treated"  # infused (CAR T) or given the therapy
    evaluable = "evaluable"  # response- or toxicity-evaluable only
    not_stated = "not_stated"  # the source does not say


class OverlapRelation(StrEnum):
    """Why two cohorts may hold the same patients."""

    same_registry = "same_registry"  # reports of one registry (CIBMTR, DESCAR-T...)
    same_trial = "same_trial"  # one trial at different data cuts or analyses
    same_centres = "same_centres"  # series from overlapping institutions or consortia
    nested_series = "nested_series"  # a single-centre series inside a multicentre one


class OverlapCertainty(StrEnum):
    """How sure the overlap is: stated by a source, or inferred from centres and dates."""

    certain = "certain"
    likely = "likely"
    possible = "possible"


class KeepRule(StrEnum):
    """Which member of an overlap group stands for it in one analysis."""

    largest = "largest"  # the largest denominator for that outcome
    most_recent = "most_recent"  # the latest source year (ties: largest)
    most_complete = "most_complete"  # printed events over derived over approximate (ties: largest)


class Direction(StrEnum):
    """Direction of a risk factor's association with the endpoint."""

    worse = "worse"
    better = "better"


class AnalysisType(StrEnum):
    """Statistical analysis behind a risk-factor claim."""

    multivariable = "multivariable"
    univariable = "univariable"
    descriptive = "descriptive"
    not_stated = "not_stated"


class MechanismCategory(StrEnum):
    """The review's taxonomy of why CAR T fails (its Figure 1 and section headings)."""

    antigen_escape = "antigen_escape"
    tumour_microenvironment = "tumour_microenvironment"
    tumour_burden = "tumour_burden"
    prior_treatment = "prior_treatment"
    exhaustion = "exhaustion"
    apoptosis = "apoptosis"
    manufacturing = "manufacturing"
