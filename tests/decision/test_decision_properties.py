"""Properties over random valid profiles: no crash, cited evidence exists, rules agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from postcart.decision import TIERS, advise
from postcart.decision.profile import PatientProfile

OPTION_IDS = (
    "cart19_reinfusion",
    "loncastuximab",
    "checkpoint_inhibitor",
    "radiotherapy",
    "allo_hsct",
    "lenalidomide",
    "polatuzumab",
    "cd20_cd3_bispecific",
    "cd20_car_t",
    "cd22_car_t",
    "multi_target_car_t",
    "btk_inhibitor",
    "venetoclax",
    "chemoimmunotherapy",
    "clinical_trial",
)


def _maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


@st.composite
def profiles(draw: st.DrawFn) -> PatientProfile:
    response = draw(st.sampled_from(["CR", "PR", "SD", "PD", "not_treated", "unknown"]))
    lines = draw(_maybe(st.integers(0, 6)))
    if response not in ("not_treated", "unknown") and lines == 0:
        lines = 1
    ratio = draw(_maybe(st.floats(0.2, 20, allow_nan=False)))
    return PatientProfile(
        histology=draw(_maybe(st.sampled_from(["DLBCL", "HGBCL", "PMBCL", "tFL", "MCL", "FL"]))),
        cart_product=draw(_maybe(st.sampled_from(["axi-cel", "tisa-cel", "liso-cel"]))),
        best_response_to_cart=draw(st.sampled_from(["CR", "PR", "SD", "PD", "unknown"])),
        days_to_progression=draw(_maybe(st.integers(0, 2000))),
        rebiopsied=draw(_maybe(st.booleans())),
        cd19_status=draw(st.sampled_from(["positive", "dim", "negative", "unknown"])),
        cd20_status=draw(st.sampled_from(["positive", "dim", "negative", "unknown"])),
        disease_extent=draw(st.sampled_from(["localized", "disseminated", "unknown"])),
        extranodal_sites=draw(_maybe(st.integers(0, 8))),
        marrow_involved=draw(_maybe(st.booleans())),
        ldh_ratio_uln=ratio,
        crp_elevated=draw(_maybe(st.booleans())),
        hemoglobin_g_dl=draw(_maybe(st.floats(5, 17, allow_nan=False))),
        age=draw(_maybe(st.integers(18, 95))),
        ecog=draw(_maybe(st.integers(0, 4))),
        transplant_eligible=draw(_maybe(st.booleans())),
        donor_available=draw(_maybe(st.booleans())),
        current_response=response,
        lines_since_cart=lines,
        prior_therapies=tuple(draw(st.lists(st.sampled_from(OPTION_IDS), max_size=3))),
    )


@settings(max_examples=150)
@given(profile=profiles())
def test_engine_properties(profile: PatientProfile, evidence, rulebook) -> None:
    advice = advise(profile, evidence=evidence, rulebook=rulebook)
    source_keys = {source.key for source in evidence.sources}
    assert {o.option for o in advice.options} == set(OPTION_IDS)
    for option in advice.options:
        assert option.tier in TIERS
        if option.tier != "not_suited":
            assert option.evidence, option.option
            assert set(option.evidence) <= source_keys
        # Never both excluded and first: exclusion must win over any raise.
        excluded_by = [
            rule.id
            for rule in rulebook.rules
            if rule.id in advice.fired and option.option in rule.effect.exclude
        ]
        if excluded_by:
            assert option.tier == "not_suited"
    if profile.cd19_status == "negative":
        for option in advice.options:
            if rulebook.option(option.option).cd19_directed:
                assert option.tier == "not_suited"
    tiers = [TIERS.index(option.tier) for option in advice.options]
    assert tiers == sorted(tiers)


@given(profile=profiles())
@settings(max_examples=25)
def test_engine_is_deterministic(profile: PatientProfile, evidence, rulebook) -> None:
    first = advise(profile, evidence=evidence, rulebook=rulebook).to_dict()
    second = advise(profile, evidence=evidence, rulebook=rulebook).to_dict()
    assert first == second
