"""Pure numerical meta-analysis engine that reproduces R metafor (numpy/scipy only).

Public API, in metafor's vocabulary:

- :func:`escalc` — study effect sizes (PR, PLO, PAS, PFT, GEN) with metafor's continuity
  correction.
- :func:`rma` — normal–normal model with τ² by FE, DL, REML, ML, PM, HE, SJ, EB or HS and
  Wald-z or Knapp–Hartung inference.
- :func:`rma_glmm` — binomial-normal GLMM for proportions (``rma.glmm``, ML, nAGQ = 7).
- :func:`rma_batch` / :func:`rma_glmm_batch` — many analyses at once → :class:`BatchResult`.
- :class:`MetaResult` / :class:`BackTransform` — frozen results with provenance.
- :func:`get_preset` — named bundles of choices ("metafor", "meta", "cochrane-2025").
- :func:`funnel`, :func:`cumul`, :func:`baujat` — funnel-plot data (standard-error or
  sample-size axis), cumulative meta-analysis and Baujat coordinates, as metafor's functions;
  ``rma(..., pi_type="riley")`` gives Riley's prediction interval.
"""

from postcart.stats.batch import rma_batch
from postcart.stats.batch_result import BatchResult
from postcart.stats.baujat import Baujat, baujat
from postcart.stats.cumulative import Cumulative, cumul
from postcart.stats.effect_sizes import EffectSizes, escalc
from postcart.stats.funnel import FunnelData, FunnelRegion, funnel
from postcart.stats.glmm import rma_glmm, rma_glmm_batch
from postcart.stats.influence import Influence, LeaveOneOut, influence, leave1out
from postcart.stats.landmark import LandmarkEffects, landmark_effects
from postcart.stats.presets import PRESETS, Preset, get_preset, run_preset
from postcart.stats.regression import MetaRegression, meta_regression
from postcart.stats.results import BackTransform, MetaResult
from postcart.stats.rma import rma
from postcart.stats.small_study import (
    RankTestResult,
    RegTestResult,
    TrimFillResult,
    ranktest,
    regtest,
    trimfill,
)
from postcart.stats.subgroups import SubgroupResult, subgroup_analysis

__all__ = [
    "PRESETS",
    "BackTransform",
    "BatchResult",
    "Baujat",
    "Cumulative",
    "EffectSizes",
    "FunnelData",
    "FunnelRegion",
    "Influence",
    "LandmarkEffects",
    "LeaveOneOut",
    "MetaRegression",
    "MetaResult",
    "Preset",
    "RankTestResult",
    "RegTestResult",
    "SubgroupResult",
    "TrimFillResult",
    "baujat",
    "cumul",
    "escalc",
    "funnel",
    "get_preset",
    "influence",
    "landmark_effects",
    "leave1out",
    "meta_regression",
    "ranktest",
    "regtest",
    "rma",
    "rma_batch",
    "rma_glmm",
    "rma_glmm_batch",
    "run_preset",
    "subgroup_analysis",
    "trimfill",
]
