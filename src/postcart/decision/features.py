"""Facts the rules test: profile fields plus features derived from them.

Every published timing cut-off is derived here from raw days, once, so rules never re-derive
them differently. A fact is ``True``/``False``/a value, or ``None`` when its inputs are unknown.
"""

from __future__ import annotations

from typing import Any

from postcart.decision.profile import PatientProfile

#: Days per month used to turn "within 3/4 months" cut-offs into days (365.25 / 12).
DAYS_PER_MONTH = 30.4375

#: PC-PI components (Iacoboni et al. 2024, as listed in research/anchors_decision.md §2). Only
#: the count of adverse factors is reported: the published point weights were not read.
PCPI_COMPONENTS = (
    "ecog_above_0",
    "hemoglobin_below_10",
    "ldh_at_least_2x_uln",
    "extranodal_sites_above_1",
    "failure_before_4_months",
)


#: Histology → the family whose evidence applies. Transformed FL relapses as an aggressive
#: lymphoma and is treated within LBCL (the CAR T label groups it with DLBCL), so it is LBCL here.
HISTOLOGY_FAMILY = {
    "DLBCL": "LBCL",
    "HGBCL": "LBCL",
    "PMBCL": "LBCL",
    "tFL": "LBCL",
    "LBCL": "LBCL",
    "MCL": "MCL",
    "FL": "FL",
    "MZL": "MZL",
}


def _below(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


def _above(value: float | None, limit: float) -> bool | None:
    return None if value is None else value > limit


def _known(value: str) -> str | None:
    return None if value == "unknown" else value


def derive_facts(profile: PatientProfile) -> dict[str, Any]:
    """Return every fact a rule may test, keyed by name; unknown inputs give ``None``."""
    days = profile.days_to_progression
    facts: dict[str, Any] = {
        "histology": profile.histology,
        "histology_family": (
            None if profile.histology is None else HISTOLOGY_FAMILY[profile.histology]
        ),
        "cart_product": profile.cart_product,
        "best_response_to_cart": _known(profile.best_response_to_cart),
        "days_to_progression": days,
        "rebiopsied": profile.rebiopsied,
        "cd19_status": _known(profile.cd19_status),
        "cd20_status": _known(profile.cd20_status),
        "disease_extent": _known(profile.disease_extent),
        "extranodal_sites": profile.extranodal_sites,
        "marrow_involved": profile.marrow_involved,
        "ldh_ratio_uln": profile.ldh_ratio_uln,
        "crp_mg_l": profile.crp_mg_l,
        "hemoglobin_g_dl": profile.hemoglobin_g_dl,
        "age": profile.age,
        "ecog": profile.ecog,
        "organ_function": _known(profile.organ_function),
        "significant_comorbidity": profile.significant_comorbidity,
        "transplant_eligible": profile.transplant_eligible,
        "donor_available": profile.donor_available,
        "current_response": _known(profile.current_response),
        "lines_since_cart": profile.lines_since_cart,
        "prior_therapies": profile.prior_therapies,
        # Derived: timing buckets of the studies that stratify by them.
        "failure_within_30_days": None if days is None else days <= 30,  # DESCAR-T D0-30
        "failure_after_30_days": None if days is None else days > 30,  # DESCAR-T >D30
        "failure_31_to_90_days": None if days is None else 30 < days <= 90,  # DESCAR-T D31-90
        "failure_after_90_days": None if days is None else days > 90,  # DESCAR-T >D90
        "failure_within_3_months": None if days is None else days <= 3 * DAYS_PER_MONTH,
        "failure_before_4_months": None if days is None else days < 4 * DAYS_PER_MONTH,
        "failure_within_180_days": None if days is None else days <= 180,  # Major et al. ICI
        "primary_refractory": (
            None
            if profile.best_response_to_cart == "unknown"
            else profile.best_response_to_cart in ("SD", "PD")
        ),
        "ldh_elevated": profile.ldh_is_elevated,
        "ldh_at_least_2x_uln": (
            None if profile.ldh_ratio_uln is None else profile.ldh_ratio_uln >= 2
        ),
        "age_above_65": _above(profile.age, 65),
        "ecog_above_0": _above(profile.ecog, 0),
        "ecog_above_2": _above(profile.ecog, 2),  # Nastoupil et al. (ECOG PS > 2)
        "hemoglobin_below_10": _below(profile.hemoglobin_g_dl, 10),
        "extranodal_sites_above_1": _above(profile.extranodal_sites, 1),
        "crp_elevated": profile.crp_elevated,
    }
    known = [facts[name] for name in PCPI_COMPONENTS if facts[name] is not None]
    facts["pcpi_factors_present"] = sum(bool(flag) for flag in known)
    facts["pcpi_complete"] = len(known) == len(PCPI_COMPONENTS)
    return facts


#: Names a rule condition may test (profile fields and derived facts).
KNOWN_FACTS = frozenset(derive_facts(PatientProfile()).keys())
