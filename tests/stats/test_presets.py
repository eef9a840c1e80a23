"""Presets reproduce documented defaults; GLMM is imported only when asked for."""

from __future__ import annotations

import pytest

from postcart.errors import InputError
from postcart.stats import PRESETS, escalc, get_preset, rma, run_preset
from postcart.stats.effect_sizes import default_add

PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]


def test_metafor_preset_is_reml_wald() -> None:
    preset = get_preset("metafor")
    assert (preset.method, preset.test, preset.add, preset.to) == ("REML", "z", 0.5, "only0")


def test_preset_add_is_metafors_default_for_its_measure() -> None:
    # Every preset pools logits; 1/2 is what metafor's escalc uses when add is left out.
    for preset in PRESETS.values():
        assert preset.measure == "PLO"
        assert preset.add == default_add(preset.measure)
    res = run_preset("metafor", xi=PRITZ_XI, ni=PRITZ_NI)
    assert res.settings["continuity_correction"].startswith("add=0.5 to=only0")


def test_cochrane_preset_equals_explicit_call() -> None:
    res = run_preset("cochrane-2025", xi=PRITZ_XI, ni=PRITZ_NI)
    sizes = escalc("PLO", xi=PRITZ_XI, ni=PRITZ_NI)
    explicit = rma(sizes.yi, sizes.vi, method="REML", test="knha", measure="PLO")
    assert res.estimate == explicit.estimate
    assert res.back.ci_low == explicit.back.ci_low
    assert res.settings["preset"] == "cochrane-2025"
    assert res.pi_low < res.ci_low  # prediction interval is reported


def test_no_preset_uses_freeman_tukey() -> None:
    from postcart.stats.presets import PRESETS

    assert all(p.measure != "PFT" for p in PRESETS.values())


def test_meta_preset_runs_the_glmm_with_provenance() -> None:
    from postcart.stats.glmm import rma_glmm

    assert get_preset("meta").method == "GLMM"
    res = run_preset("meta", xi=PRITZ_XI, ni=PRITZ_NI)
    direct = rma_glmm(PRITZ_XI, PRITZ_NI, measure="PLO")
    assert res.estimate == direct.estimate
    assert res.settings["preset"] == "meta"


def test_unknown_preset_lists_names() -> None:
    with pytest.raises(InputError, match="cochrane-2025"):
        get_preset("revman4")
