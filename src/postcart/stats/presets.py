"""Named bundles of analysis choices, so a published analysis can be reproduced by name.

- ``metafor``: metafor's own defaults (REML, Wald z, escalc add=1/2 only0).
- ``meta``: R meta's ``metaprop`` defaults (logit GLMM fitted by ML, via ``rma_glmm``).
- ``cochrane-2025``: the Cochrane/RevMan 2025 random-effects defaults (REML, Knapp–Hartung,
  Q-profile CI for τ², prediction interval).

Freeman–Tukey is in no preset: it is only used when asked for explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats.effect_sizes import escalc
from postcart.stats.results import MetaResult
from postcart.stats.rma import rma


@dataclass(frozen=True, slots=True)
class Preset:
    """One named configuration and where its defaults come from."""

    name: str
    method: str
    test: str
    measure: str
    add: float
    to: str
    source: str


PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        "metafor": Preset(
            "metafor", "REML", "z", "PLO", 0.5, "only0",
            "metafor 3.8 rma.uni/escalc defaults",
        ),
        "meta": Preset(
            "meta", "GLMM", "z", "PLO", 0.5, "only0",
            "R meta metaprop defaults: sm='PLOGIT', method='GLMM' (ML), incr=0.5 only0",
        ),
        "cochrane-2025": Preset(
            "cochrane-2025", "REML", "knha", "PLO", 0.5, "only0",
            "Cochrane SMG 2022 / RevMan 2025: REML, HKSJ, Q-profile tau2 CI, prediction interval",
        ),
    }
)  # fmt: skip


def get_preset(name: str) -> Preset:
    """Look up a preset by name, naming the valid ones when it is unknown."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def run_preset(
    name: str,
    *,
    xi: npt.ArrayLike,
    ni: npt.ArrayLike,
    level: float = 95.0,
) -> Any:
    """Pool events ``xi`` out of ``ni`` with every choice taken from preset ``name``.

    Returns a :class:`MetaResult`; for the ``meta`` preset it comes from
    ``postcart.stats.glmm.rma_glmm`` (imported only when that preset runs).
    """
    preset = get_preset(name)
    provenance = {
        "preset": preset.name,
        "preset_source": preset.source,
        "continuity_correction": f"add={preset.add} to={preset.to} (escalc; descriptive only "
        "for GLMM)",
    }
    if preset.method == "GLMM":
        from postcart.stats import glmm  # lazy: the GLMM engine is only needed here

        fitted = glmm.rma_glmm(xi, ni, measure=preset.measure, test=preset.test, level=level)
        return replace(fitted, settings={**fitted.settings, **provenance})
    sizes = escalc(preset.measure, xi=xi, ni=ni, add=preset.add, to=preset.to)
    result: MetaResult = rma(
        sizes.yi,
        sizes.vi,
        method=preset.method,
        test=preset.test,
        level=level,
        measure=preset.measure,
        ni=sizes.ni,
        settings={**provenance, "transform": preset.measure},
    )
    return result
