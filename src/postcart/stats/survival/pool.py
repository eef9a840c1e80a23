"""Pooled survival across single-arm studies from their (reconstructed) Kaplan–Meier curves.

Most cohorts after CAR T failure are single-arm, so what can be pooled is survival itself:
the rate at landmark times (6, 12, 24 months) and the median. Each study's landmark rate and
Greenwood SE come from its reconstructed curve and go through the same landmark machinery as
rates read from text (:mod:`postcart.stats.landmark`: complementary log-log scale, REML,
Knapp–Hartung), so a digitised study and a study that printed "1-year OS 32 %" are pooled
alike.

The pooled median follows Combescure et al. (2014): pool the survival curves, then read the
median off the pooled curve, here on a grid of times up to the shortest follow-up, with its
limits where the pooled band crosses 0.5. Unlike Combescure's multivariate DerSimonian–Laird
model, each time is pooled on its own (the correlation between times within a study is not
modelled); that leaves each landmark estimate unbiased but the curve a little rougher, and
``settings`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from postcart.stats.landmark import Scale, landmark_effects, with_back_transform
from postcart.stats.results import MetaResult
from postcart.stats.rma import rma
from postcart.stats.survival.km import KaplanMeier

DEFAULT_TIMES: tuple[float, ...] = (6.0, 12.0, 24.0)


@dataclass(frozen=True)
class LandmarkPool:
    """The pooled survival at one time, and which studies entered it (and why not)."""

    time: float
    studies: tuple[str, ...]
    surv: tuple[float, ...]
    se: tuple[float, ...]
    fit: MetaResult | None
    left_out: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON view: per-study rates and the pooled back-transformed estimate."""
        back = self.fit.back if self.fit is not None and self.fit.status == "ok" else None
        return {
            "time": self.time,
            "k": len(self.studies),
            "studies": [
                {"study": s, "surv": v, "se": e}
                for s, v, e in zip(self.studies, self.surv, self.se, strict=True)
            ],
            "estimate": _none(back.estimate) if back else None,
            "ci_low": _none(back.ci_low) if back else None,
            "ci_high": _none(back.ci_high) if back else None,
            "pi_low": _none(back.pi_low) if back else None,
            "pi_high": _none(back.pi_high) if back else None,
            "tau2": _none(self.fit.tau2) if self.fit is not None else None,
            "i2": _none(self.fit.i2) if self.fit is not None else None,
            "left_out": dict(self.left_out),
        }


@dataclass(frozen=True)
class PooledMedian:
    """Median read off the pooled curve; NaN where the pooled curve or band stays above 0.5."""

    estimate: float
    ci_low: float
    ci_high: float
    grid_step: float
    horizon: float

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "estimate": _none(self.estimate),
            "ci_low": _none(self.ci_low),
            "ci_high": _none(self.ci_high),
            "grid_step": self.grid_step,
            "horizon": self.horizon,
        }


@dataclass(frozen=True)
class PooledSurvival:
    """Pooled landmark rates, per-study medians and the pooled median."""

    studies: tuple[str, ...]
    landmarks: tuple[LandmarkPool, ...]
    study_medians: tuple[tuple[float, float, float], ...]
    median: PooledMedian
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The CLI ``--json`` contract of ``postcart km pool``."""
        return {
            "k": len(self.studies),
            "studies": [
                {"study": s, "median": _none(m[0]), "ci_low": _none(m[1]), "ci_high": _none(m[2])}
                for s, m in zip(self.studies, self.study_medians, strict=True)
            ],
            "landmarks": [lm.to_dict() for lm in self.landmarks],
            "median": self.median.to_dict(),
            "settings": dict(self.settings),
        }


def _none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _pool_at(
    t: float,
    curves: Sequence[KaplanMeier],
    labels: Sequence[str],
    scale: Scale,
    method: str,
    test: str,
) -> LandmarkPool:
    studies: list[str] = []
    surv: list[float] = []
    se: list[float] = []
    left_out: dict[str, str] = {}
    for label, km in zip(labels, curves, strict=True):
        if t > float(km.time[-1]):
            left_out[label] = f"follow-up ends at {float(km.time[-1]):g}"
            continue
        lm = km.at(t)
        if not 0.0 < lm.surv < 1.0 or not (math.isfinite(lm.se) and lm.se > 0.0):
            left_out[label] = f"survival {lm.surv:g} at {t:g}: no variance on the {scale} scale"
            continue
        studies.append(label)
        surv.append(lm.surv)
        se.append(lm.se)
    fit: MetaResult | None = None
    if len(studies) >= 2:
        eff = landmark_effects(surv, se=se, scale=scale)
        fit = with_back_transform(rma(eff.yi, eff.vi, method=method, test=test), scale)
    return LandmarkPool(t, tuple(studies), tuple(surv), tuple(se), fit, left_out)


def pool_survival(
    curves: Sequence[KaplanMeier],
    *,
    labels: Sequence[str] | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    scale: Scale = "cloglog",
    method: str = "REML",
    test: str = "knha",
    grid_step: float = 0.25,
) -> PooledSurvival:
    """Random-effects pooling of survival at ``times`` and of the median.

    Each curve is one study (a reconstructed arm). A time pools the studies whose follow-up
    reaches it and whose survival there is strictly between 0 and 1; at least two are needed.
    """
    from postcart.errors import InputError

    if len(curves) < 2:
        raise InputError(f"pooling needs at least 2 curves, got {len(curves)}")
    names = list(labels) if labels is not None else [f"study {i + 1}" for i in range(len(curves))]
    if len(names) != len(curves):
        raise InputError(f"{len(names)} labels for {len(curves)} curves")
    if grid_step <= 0.0 or not math.isfinite(grid_step):
        raise InputError(f"grid_step {grid_step!r} must be > 0")
    landmarks = tuple(_pool_at(float(t), curves, names, scale, method, test) for t in times)
    horizon = min(float(km.time[-1]) for km in curves)
    grid = np.arange(grid_step, horizon + 1e-9, grid_step)
    est = lo = hi = math.nan
    for t in grid.tolist():
        pooled = _pool_at(t, curves, names, scale, method, test)
        if pooled.fit is None or pooled.fit.status != "ok" or len(pooled.studies) < len(curves):
            continue
        back = pooled.fit.back
        if math.isnan(lo) and back.ci_low <= 0.5:
            lo = t
        if math.isnan(est) and back.estimate <= 0.5:
            est = t
        if math.isnan(hi) and back.ci_high <= 0.5:
            hi = t
            break
    medians = tuple(
        (km.median().estimate, km.median().ci_low, km.median().ci_high) for km in curves
    )
    settings: dict[str, Any] = {
        "scale": scale,
        "method": method,
        "test": test,
        "landmark_variance": "Greenwood SE of S at the landmark, delta method to the scale",
        "median": (
            f"first time on a {grid_step:g} grid up to the shortest follow-up ({horizon:g}) "
            "where the pooled curve (band) reaches 0.5; each time pooled on its own "
            "(Combescure 2014 without the multivariate correlation)"
        ),
    }
    return PooledSurvival(
        studies=tuple(names),
        landmarks=landmarks,
        study_medians=medians,
        median=PooledMedian(est, lo, hi, grid_step, horizon),
        settings=settings,
    )
