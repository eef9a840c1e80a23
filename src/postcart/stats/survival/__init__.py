"""Survival synthesis from published Kaplan–Meier curves (issue 15): numpy/scipy only.

The issue asks for ``postcart.survival``; the layer contract has no such top-level package,
and these are pure numerics, so the public API lives here, in ``postcart.stats.survival``.

- :func:`clean_curve` — digitised points → a non-increasing curve from (0, 1), every change
  reported (percent detected, noise clamped, sorting, isotonic correction).
- :func:`reconstruct` — Guyot et al. 2012 patient-level data from a curve with a risk table,
  with total events only, or with the initial number only; flat-tail guard.
- :func:`kaplan_meier` — KM with Greenwood band, median and CI as R ``survfit``/``quantile``.
- :func:`coxph` / :func:`cox_arms` — hazard ratio (Efron ties by default, as ``coxph``).
- :func:`pool_survival` — random-effects pooling of landmark rates at several times and the
  pooled median read off the pooled curve.
"""

from postcart.stats.survival.clean import CleanCurve, clean_curve, isotonic_nonincreasing
from postcart.stats.survival.cox import CoxResult, cox_arms, coxph
from postcart.stats.survival.km import KaplanMeier, Landmark, Quantile, kaplan_meier
from postcart.stats.survival.pool import PooledMedian, PooledSurvival, pool_survival
from postcart.stats.survival.reconstruct import Reconstruction, RiskCheck, reconstruct

__all__ = [
    "CleanCurve",
    "CoxResult",
    "KaplanMeier",
    "Landmark",
    "PooledMedian",
    "PooledSurvival",
    "Quantile",
    "Reconstruction",
    "RiskCheck",
    "clean_curve",
    "cox_arms",
    "coxph",
    "isotonic_nonincreasing",
    "kaplan_meier",
    "pool_survival",
    "reconstruct",
]
