"""Kaplan–Meier landmark rates (e.g. 1-year OS/PFS) as effect sizes for ``rma``.

A landmark survival rate read off a Kaplan–Meier curve is *not* ``events / n``: censoring
means the binomial variance is wrong. Papers usually report the estimate with a confidence
interval (Greenwood-based), sometimes an SE, sometimes only the cohort size. This module
turns each of these into ``yi``/``vi`` on a scale where a normal approximation is sensible:

``"logit"``
    ``log(S / (1 - S))``; back-transform ``1 / (1 + exp(-y))``.
``"cloglog"``
    ``log(-log(S))``, i.e. the complementary log-log of the cumulative incidence ``1 - S``
    (the Kalbfleisch–Prentice "log-log" scale of survival software); back-transform
    ``exp(-exp(y))``. The transform is decreasing in ``S``; the back-transform of an
    interval on this scale therefore swaps its ends, which :func:`back_transform` handles.

Where each study's precision comes from (``source`` per row):

``"ci"``
    A reported CI, assumed symmetric on the chosen scale at level ``level``:
    ``se = |g(upper) - g(lower)| / (2 z)``, with ``z`` the ``(1 + level/100)/2`` normal
    quantile. This is exact when the paper used the same transformation for its CI and an
    approximation otherwise (e.g. a "plain" Greenwood CI).
``"ci_half"``
    A CI whose one end is 0 or 1 (infinite on the scale): the usable half-width is taken
    between the estimate and the finite end, ``se = |g(end) - g(S)| / z``.
``"se"``
    An SE on the proportion scale (same unit as the estimate), carried to the chosen scale by
    the delta method.
``"n_approx"``
    Only the cohort size is known: binomial variance ``S(1 - S)/n`` with the number at risk
    approximated by ``n`` (ignores censoring, so it usually *understates* the variance).
    Such rows are flagged ``approximated`` and the result's ``settings`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import as_vector, reject_booleans
from postcart.stats.results import BackTransform, MetaResult
from postcart.stats.rma import rma

Scale = Literal["logit", "cloglog"]
Unit = Literal["proportion", "percent"]
FloatArray = npt.NDArray[np.float64]
ArrayLike = Sequence[float | None] | FloatArray

SCALES: tuple[Scale, ...] = ("logit", "cloglog")
#: Label attached to every output that rests on the ``S(1-S)/n`` approximation.
N_APPROX_LABEL = "approximation: binomial variance S(1-S)/n with number at risk taken as n"


@dataclass(frozen=True)
class LandmarkEffects:
    """Per-study ``yi``/``vi`` for landmark survival rates, ready for ``rma(yi, vi)``.

    ``source`` says where each ``vi`` came from (see the module docstring); ``approximated``
    is ``True`` for rows whose variance used the ``n``-only approximation.
    """

    yi: FloatArray
    vi: FloatArray
    scale: Scale
    level: float
    source: tuple[str, ...]
    approximated: npt.NDArray[np.bool_]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def any_approximated(self) -> bool:
        """Whether at least one study's variance is the ``n``-only approximation."""
        return bool(self.approximated.any())

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.yi.size)

    def back(self, values: ArrayLike | float) -> FloatArray:
        """Back-transform values on this scale to survival proportions."""
        return back_transform(values, self.scale)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view (lists, str, bool) for JSON and reports."""
        return {
            "scale": self.scale,
            "level": self.level,
            "yi": self.yi.tolist(),
            "vi": self.vi.tolist(),
            "source": list(self.source),
            "approximated": self.approximated.tolist(),
            "any_approximated": self.any_approximated,
            "settings": dict(self.settings),
        }


def transform(p: ArrayLike | float, scale: Scale) -> FloatArray:
    """Map survival proportions in (0, 1) to the ``scale`` (``logit`` or ``cloglog``)."""
    s = np.asarray(p, dtype=np.float64)
    if scale == "logit":
        return np.asarray(np.log(s) - np.log1p(-s), dtype=np.float64)
    if scale == "cloglog":
        return np.asarray(np.log(-np.log(s)), dtype=np.float64)
    raise InputError(f"column 'scale': unknown scale {scale!r}; use one of {SCALES}")


def back_transform(values: ArrayLike | float, scale: Scale) -> FloatArray:
    """Inverse of :func:`transform`: values on ``scale`` back to survival proportions.

    On the ``cloglog`` scale the map is decreasing, so for an interval ``(lo, hi)`` the
    survival interval is ``(back(hi), back(lo))``; :func:`back_interval` does the swap.
    """
    y = np.asarray(values, dtype=np.float64)
    if scale == "logit":
        return np.asarray(1.0 / (1.0 + np.exp(-y)), dtype=np.float64)
    if scale == "cloglog":
        return np.asarray(np.exp(-np.exp(y)), dtype=np.float64)
    raise InputError(f"column 'scale': unknown scale {scale!r}; use one of {SCALES}")


def back_interval(low: float, high: float, scale: Scale) -> tuple[float, float]:
    """Back-transform an interval on ``scale`` to an ordered survival interval."""
    a, b = float(back_transform(low, scale)), float(back_transform(high, scale))
    return (min(a, b), max(a, b))


def _derivative(s: FloatArray, scale: Scale) -> FloatArray:
    """``|dg/dS|`` for the delta method."""
    if scale == "logit":
        return np.asarray(1.0 / (s * (1.0 - s)), dtype=np.float64)
    return np.asarray(1.0 / (s * np.abs(np.log(s))), dtype=np.float64)


def _column(values: ArrayLike | None, k: int, name: str, scale_by: float) -> FloatArray:
    if values is None:
        return np.full(k, np.nan)
    reject_booleans(values, name)
    if isinstance(values, str | bytes) or np.ndim(cast(Any, values)) != 1:
        raise InputError(f"column {name!r}: expected a 1-D sequence of numbers")
    try:
        arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column {name!r}: not numeric ({exc})") from None
    if arr.shape != (k,):
        raise InputError(f"column {name!r}: has {arr.size} values, 'estimate' has {k}")
    return arr / scale_by


def _check_proportion(arr: FloatArray, name: str, *, closed: bool) -> None:
    for i, v in enumerate(arr):
        if np.isnan(v):
            continue
        ok = 0.0 <= v <= 1.0 if closed else 0.0 < v < 1.0
        if not ok:
            bound = "[0, 1]" if closed else "(0, 1) strictly"
            raise InputError(f"row {i + 1}, column {name!r}: {v!r} is not in {bound}")


def _from_ci(s: float, lo: float, hi: float, scale: Scale, z: float, row: int) -> tuple[float, str]:
    if not lo <= s <= hi:
        raise InputError(
            f"row {row}, columns 'ci_low'/'ci_high': estimate {s} outside [{lo}, {hi}]"
        )
    finite = [b for b in (lo, hi) if 0.0 < b < 1.0]
    if len(finite) == 2 and lo < hi:
        g = transform(np.array([lo, hi]), scale)
        return float(abs(g[1] - g[0]) / (2.0 * z)), "ci"
    usable = [b for b in finite if b != s]
    if not usable:
        raise InputError(f"row {row}, columns 'ci_low'/'ci_high': no usable CI bound")
    end = usable[0]
    g = transform(np.array([end, s]), scale)
    return float(abs(g[0] - g[1]) / z), "ci_half"


def landmark_effects(
    estimate: ArrayLike,
    *,
    ci_low: ArrayLike | None = None,
    ci_high: ArrayLike | None = None,
    se: ArrayLike | None = None,
    n: ArrayLike | None = None,
    scale: Scale = "cloglog",
    level: float = 95.0,
    unit: Unit = "proportion",
) -> LandmarkEffects:
    """Effect sizes for Kaplan–Meier landmark survival rates.

    Parameters
    ----------
    estimate
        Survival at the landmark (one per study), as proportions or percents (``unit``).
    ci_low, ci_high
        Reported CI ends (same unit; ``None``/NaN where not reported), at level ``level``.
    se
        Reported SE on the proportion scale (same unit as ``estimate``).
    n
        Cohort size; used only for rows with neither a CI nor an SE (flagged approximation).
    scale
        ``"cloglog"`` (``log(-log S)``, default) or ``"logit"``.
    level
        Confidence level, in percent, of the reported CIs (metafor's ``level=95`` spelling).
    unit
        ``"proportion"`` (0–1) or ``"percent"`` (0–100) for estimate, CI and SE.

    Returns
    -------
    LandmarkEffects
        ``yi``/``vi`` per study plus provenance; feed ``yi``, ``vi`` to ``rma`` and map the
        pooled values back with :func:`back_transform`. Precedence per row: CI, then SE,
        then ``n``.
    """
    if scale not in SCALES:
        raise InputError(f"column 'scale': unknown scale {scale!r}; use one of {SCALES}")
    if unit not in ("proportion", "percent"):
        raise InputError(f"column 'unit': unknown unit {unit!r}")
    if not 0.0 < level < 100.0:
        raise InputError(f"column 'level': {level!r} must be a percent in (0, 100)")
    div = 100.0 if unit == "percent" else 1.0
    s = as_vector(cast(Any, estimate), "estimate") / div
    k = s.size
    if k == 0:
        raise InputError("column 'estimate': no studies")
    lo, hi = _column(ci_low, k, "ci_low", div), _column(ci_high, k, "ci_high", div)
    se_p = _column(se, k, "se", div)
    n_arr = _column(n, k, "n", 1.0)
    if np.isnan(s).any():
        raise InputError(f"row {int(np.argmax(np.isnan(s))) + 1}, column 'estimate': missing")
    _check_proportion(s, "estimate", closed=False)
    _check_proportion(lo, "ci_low", closed=True)
    _check_proportion(hi, "ci_high", closed=True)
    z = float(sps.norm.ppf(0.5 + level / 200.0))
    yi = transform(s, scale)
    sei = np.empty(k)
    sources: list[str] = []
    deriv = _derivative(s, scale)
    for i in range(k):
        row = i + 1
        if not (np.isnan(lo[i]) or np.isnan(hi[i])):
            sei[i], src = _from_ci(s[i], lo[i], hi[i], scale, z, row)
        elif not np.isnan(se_p[i]):
            if se_p[i] <= 0.0:
                raise InputError(f"row {row}, column 'se': {se_p[i] * div!r} must be > 0")
            sei[i], src = se_p[i] * deriv[i], "se"
        elif not np.isnan(n_arr[i]):
            if n_arr[i] < 1.0:
                raise InputError(f"row {row}, column 'n': {n_arr[i]!r} must be >= 1")
            sei[i] = np.sqrt(s[i] * (1.0 - s[i]) / n_arr[i]) * deriv[i]
            src = "n_approx"
        else:
            raise InputError(f"row {row}, columns 'ci_low'/'ci_high'/'se'/'n': no precision given")
        sources.append(src)
    approximated = np.array([src == "n_approx" for src in sources], dtype=bool)
    settings: dict[str, Any] = {
        "measure": f"KM landmark survival, {scale} scale",
        "scale": scale,
        "ci_level": level,
        "ci_assumption": f"reported CIs symmetric on the {scale} scale at level {level:g}%",
        "n_approximation": N_APPROX_LABEL if approximated.any() else None,
        "approximated_rows": [i + 1 for i in np.flatnonzero(approximated)],
    }
    return LandmarkEffects(
        yi=yi,
        vi=np.asarray(sei**2, dtype=np.float64),
        scale=scale,
        level=level,
        source=tuple(sources),
        approximated=approximated,
        settings=settings,
    )


def with_back_transform(fit: MetaResult, scale: Scale) -> MetaResult:
    """``fit`` with its ``back`` block on the survival scale of ``scale``.

    The scale travels with the result, so no caller back-transforms by hand: a landmark fit
    read with the wrong inverse link (a logit fit through ``exp(-exp(y))``) is how a 27–30 %
    survival once printed as 67 %.
    """
    if fit.status != "ok":
        return fit
    est = float(back_transform(fit.estimate, scale))
    lo, hi = back_interval(fit.ci_low, fit.ci_high, scale)
    if math.isfinite(fit.pi_low) and math.isfinite(fit.pi_high):
        plo, phi = back_interval(fit.pi_low, fit.pi_high, scale)
    else:
        plo = phi = math.nan
    inverse = "transf.ilogit" if scale == "logit" else "exp(-exp(y))"
    label = (
        "survival proportion (inverse logit of the pooled logit)"
        if scale == "logit"
        else "survival proportion (exp(−exp(y)) of the pooled log(−log S))"
    )
    back = BackTransform(est, lo, hi, plo, phi, transform=inverse, label=label)
    return replace(fit, back=back)


def pool_rates(effects: LandmarkEffects, *, method: str = "REML", test: str = "knha") -> MetaResult:
    """Random-effects pooling of landmark rates, the back-transform attached for their scale."""
    fit = rma(effects.yi, effects.vi, method=method, test=test)
    return with_back_transform(fit, effects.scale)
