"""Clinical vignettes: each expectation is justified by a sentence of the founding review.

The test first checks that the quoted sentence really is in the review, so a vignette cannot
claim support the review does not give.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from postcart.decision import TIERS, Advice, advise

CD19_DIRECTED = ("cart19_reinfusion", "loncastuximab")


def tier_rank(advice: Advice, option: str) -> int:
    return TIERS.index(advice.option(option).tier)


@dataclass(frozen=True)
class Vignette:
    name: str
    profile: dict[str, Any]
    quote: str
    expect: Callable[[Advice], bool]


VIGNETTES = [
    Vignette(
        "cd19_negative_no_reinfusion",
        {"cd19_status": "negative", "days_to_progression": 120, "rebiopsied": True},
        "While these studies showed that a second round of CART19 cell treatment can be "
        "effective, its success can be hampered by mutations or loss of the CD19 antigen.",
        lambda a: a.option("cart19_reinfusion").tier == "not_suited",
    ),
    Vignette(
        "cd19_negative_no_loncastuximab",
        {"cd19_status": "negative", "days_to_progression": 45},
        "Loncastuximab tesirine, a CD19-targeted therapy, received accelerated approval for "
        "treating adult patients with relapsed/refractory DLBCL",
        lambda a: a.option("loncastuximab").tier == "not_suited",
    ),
    Vignette(
        "cd19_negative_alternative_antigen_car_t_in_trials",
        {"cd19_status": "negative", "cd20_status": "positive"},
        "When patients develop CD19-negative relapse, targeting different antigens (e.g., CD20 "
        "or CD22) with CAR T cells, investigational chemotherapies, or hematopoietic stem cell "
        "transplantation are potential treatment options.",
        lambda a: all(
            a.option(o).tier == "clinical_trial"
            and "M-CD19-NEGATIVE-ALT-ANTIGEN" in a.option(o).rules
            for o in ("cd20_car_t", "cd22_car_t")
        ),
    ),
    Vignette(
        "cd19_negative_multi_target_car_t_in_trials",
        {"cd19_status": "negative"},
        "The development of dual-specific CAR T-cells, featuring combinations such as "
        "CD19/CD20, CD19/CD22, or CD20/CD22, and tri-specific CD19/CD20/CD22 CAR T-cells, is "
        "gaining momentum as a strategy to address antigen-negative relapse",
        lambda a: a.option("multi_target_car_t").tier == "clinical_trial",
    ),
    Vignette(
        "cd19_positive_reinfusion_can_be_considered",
        {"cd19_status": "positive", "days_to_progression": 200},
        "If CD19 expression is preserved on the lymphoma cells, a second infusion of CART19 "
        "cells or reactivation of previously infused CART19 cells with immune checkpoint "
        "inhibitors can be considered.",
        lambda a: (
            tier_rank(a, "cart19_reinfusion") <= TIERS.index("consider")
            and "M-CD19-POSITIVE" in a.option("cart19_reinfusion").rules
        ),
    ),
    Vignette(
        "cd19_positive_checkpoint_reactivation_listed",
        {"cd19_status": "positive", "days_to_progression": 240},
        "If CD19 expression is preserved on the lymphoma cells, a second infusion of CART19 "
        "cells or reactivation of previously infused CART19 cells with immune checkpoint "
        "inhibitors can be considered.",
        lambda a: (
            a.option("checkpoint_inhibitor").tier == "consider"
            and "M-CD19-POSITIVE" in a.option("checkpoint_inhibitor").rules
        ),
    ),
    Vignette(
        "cd19_unknown_asks_for_rebiopsy",
        {"days_to_progression": 100},
        "CART19 failures can be broadly categorized by the emergence of either CD19-positive "
        "or CD19-negative lymphoma cells.",
        lambda a: any("CD19" in act and "biops" in act for act in a.actions),
    ),
    Vignette(
        "reinfusion_carries_fmc63_immunogenicity",
        {"cd19_status": "positive"},
        "Furthermore, one critical consideration is the potential immunogenicity elicited by "
        "the murine-derived FMC63 single chain variable fragment",
        lambda a: "C-FMC63-IMMUNOGENICITY" in a.option("cart19_reinfusion").rules,
    ),
    Vignette(
        "early_relapse_does_poorly_on_ici",
        {"cd19_status": "positive", "days_to_progression": 100, "histology": "DLBCL"},
        "Moreover, for patients with a later relapse post-CAR T (>180 days), both PFS and "
        "median OS were significantly higher than in those who relapsed earlier",
        lambda a: (
            a.option("checkpoint_inhibitor").tier == "clinical_trial"
            and "M-ICI-EARLY-RELAPSE" in a.option("checkpoint_inhibitor").rules
        ),
    ),
    Vignette(
        "ici_not_lowered_after_late_relapse",
        {"cd19_status": "positive", "days_to_progression": 365, "histology": "DLBCL"},
        "From this expansive patient cohort study, ICI therapy seems less promising for "
        "aggressive B-cell lymphoma patients relapsing post-CAR T-cell treatment, particularly "
        "for those with early relapses.",
        lambda a: "M-ICI-EARLY-RELAPSE" not in a.option("checkpoint_inhibitor").rules,
    ),
    Vignette(
        "pmbcl_raises_ici",
        {"histology": "PMBCL", "days_to_progression": 300, "cd19_status": "positive"},
        "Those diagnosed with PMBCL had comparatively better outcomes with ICI therapy.",
        lambda a: a.option("checkpoint_inhibitor").tier == "consider_first",
    ),
    Vignette(
        "localized_relapse_radiotherapy_first",
        {"disease_extent": "localized", "days_to_progression": 150},
        "RT, especially for localized lesions, and allogeneic HSCT offer viable treatment avenues",
        lambda a: a.option("radiotherapy").tier == "consider_first",
    ),
    Vignette(
        "disseminated_relapse_radiotherapy_not_first",
        {"disease_extent": "disseminated"},
        "In summation, while RT appears to offer outcomes on par with or superior to "
        "chemotherapy, direct comparisons are challenging since RT is generally preferred for "
        "patients with fewer lesions and a favorable ECOG PS score (69).",
        lambda a: (
            a.option("radiotherapy").tier != "consider_first"
            and "C-RT-DISSEMINATED" in a.option("radiotherapy").rules
        ),
    ),
    Vignette(
        "cr_after_salvage_transplant_candidate_allo_first",
        {"current_response": "CR", "transplant_eligible": True, "lines_since_cart": 1},
        "Allogeneic HSCT presents risks such as GVHD that need to be weighed against its "
        "curative potential, but it should be highly considered when patients are in CR.",
        lambda a: a.option("allo_hsct").tier == "consider_first",
    ),
    Vignette(
        "not_transplant_eligible_no_allo",
        {"transplant_eligible": False, "current_response": "CR", "lines_since_cart": 1},
        "This highlights significant safety concerns with allogeneic HSCT.",
        lambda a: a.option("allo_hsct").tier == "not_suited",
    ),
    Vignette(
        "progressing_patient_allo_is_consolidation_only",
        {"transplant_eligible": True, "current_response": "PD", "lines_since_cart": 1},
        "Multivariate analysis demonstrated that fewer than 2 interventional therapies between "
        "CAR T and allogeneic HSCT, along with a CR at the time of allogeneic HSCT, were "
        "correlated with superior outcomes.",
        lambda a: (
            a.option("allo_hsct").tier != "consider_first"
            and "C-ALLO-NOT-IN-RESPONSE" in a.option("allo_hsct").rules
        ),
    ),
    Vignette(
        "many_lines_before_transplant_cautioned",
        {"transplant_eligible": True, "current_response": "CR", "lines_since_cart": 3},
        "Multivariate analysis demonstrated that fewer than 2 interventional therapies between "
        "CAR T and allogeneic HSCT, along with a CR at the time of allogeneic HSCT, were "
        "correlated with superior outcomes.",
        lambda a: "C-ALLO-MANY-LINES" in a.option("allo_hsct").rules,
    ),
    Vignette(
        "allo_always_states_nrm",
        {},
        "However, the 2-year cumulative incidence of non-relapse mortality (NRM) was 26%",
        lambda a: any("mortality" in r for r in a.option("allo_hsct").reasons),
    ),
    Vignette(
        "lenalidomide_association_labelled_confounded",
        {},
        "The lenalidomide group predominantly consisted of older patients who had been "
        "subjected to more treatment regimens prior to receiving CAR T-cell therapy.",
        lambda a: any("confounded" in r for r in a.option("lenalidomide").reasons),
    ),
    Vignette(
        "polatuzumab_marrow_involvement_cautioned",
        {"marrow_involved": True},
        "Advanced analysis identified bone marrow invasion and elevated LDH levels as "
        "potential risk factors for low PFS.",
        lambda a: "C-POLATUZUMAB-MARROW-LDH" in a.option("polatuzumab").rules,
    ),
    Vignette(
        "age_above_65_flagged",
        {"age": 70},
        "A multivariate analysis offered further insights, suggesting that patients over the "
        "age of 65 and those with elevated LDH levels at relapse had shorter OS.",
        lambda a: any(f.rule == "F-AGE-ABOVE-65" for f in a.flags),
    ),
    Vignette(
        "elevated_ldh_flagged",
        {"ldh_ratio_uln": 1.6},
        "the responsiveness to rescue therapies was influenced by factors like prior "
        "treatment responsiveness to CAR T-cell therapy and elevated LDH at relapse.",
        lambda a: any(f.rule == "F-LDH-ELEVATED" for f in a.flags),
    ),
    Vignette(
        "failure_before_day_30_flagged",
        {"days_to_progression": 21},
        "Factors contributing to shortened OS included increased LDH and C-reactive protein "
        "levels as well as relapse or resistance observed before day 30 post-CAR T-cell "
        "treatment.",
        lambda a: any(f.rule == "F-FAILURE-WITHIN-30-DAYS" for f in a.flags),
    ),
    Vignette(
        "failure_day_31_not_flagged_as_before_day_30",
        {"days_to_progression": 31},
        "Factors contributing to shortened OS included increased LDH and C-reactive protein "
        "levels as well as relapse or resistance observed before day 30 post-CAR T-cell "
        "treatment.",
        lambda a: all(f.rule != "F-FAILURE-WITHIN-30-DAYS" for f in a.flags),
    ),
    Vignette(
        "elevated_crp_flagged",
        {"crp_elevated": True},
        "Factors contributing to shortened OS included increased LDH and C-reactive protein levels",
        lambda a: any(f.rule == "F-CRP-ELEVATED" for f in a.flags),
    ),
    Vignette(
        "mcl_flags_uncertain_salvage_evidence",
        {"histology": "MCL"},
        "Additionally, the appropriateness of salvage therapies for MCL and FL remains "
        "uncertain, with limited research available on the subject.",
        lambda a: any(f.rule == "F-NON-LBCL-HISTOLOGY" for f in a.flags),
    ),
    Vignette(
        "venetoclax_is_thin_evidence",
        {},
        "Additionally, Zhu Y, et al. reported a study focusing on the outcomes of venetoclax "
        "for patients with DLBCL post-CAR T-cell therapy, involving a cohort of 10 patients.",
        lambda a: (
            a.option("venetoclax").tier == "clinical_trial"
            and "C-VENETOCLAX-THIN" in a.option("venetoclax").rules
        ),
    ),
    Vignette(
        "loncastuximab_small_post_cart_group_noted",
        {"cd19_status": "positive"},
        "In this trial, 13 patients with DLBCL who had relapsed after CAR T-cell therapy were "
        "treated with loncastuximab tesirine.",
        lambda a: (
            a.option("loncastuximab").tier == "consider"
            and "C-LONCASTUXIMAB-THIN" in a.option("loncastuximab").rules
        ),
    ),
    Vignette(
        "chemoimmunotherapy_low_response_noted",
        {},
        "The ORRs for individual treatments were 11% for lenalidomide, 14% for bispecific "
        "antibody, 11.5% for molecular target drugs, 36% for radiation, and 8% for "
        "immunochemotherapy.",
        lambda a: "C-CHEMOIMMUNOTHERAPY-LOW-RESPONSE" in a.option("chemoimmunotherapy").rules,
    ),
    Vignette(
        "clinical_trial_always_offered",
        {"cd19_status": "negative", "cd20_status": "negative", "transplant_eligible": False},
        "However, salvage therapies for relapsed large B-cell lymphoma after CART19 cell "
        "therapy have not been fully explored and are conducted based on clinicians' "
        "case-by-case decisions.",
        lambda a: a.option("clinical_trial").tier == "clinical_trial",
    ),
]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v.name for v in VIGNETTES])
def test_vignette(vignette: Vignette, seed_review_text: str, evidence, rulebook) -> None:
    assert _normalise(vignette.quote) in _normalise(seed_review_text), "quote not in review"
    advice = advise(vignette.profile, evidence=evidence, rulebook=rulebook)
    assert vignette.expect(advice), advice.to_dict()


def test_there_are_at_least_25_vignettes() -> None:
    assert len(VIGNETTES) >= 25
