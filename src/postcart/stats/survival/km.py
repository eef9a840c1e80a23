"""Kaplan–Meier estimate, Greenwood confidence band and quantiles, as R ``survival`` computes them.

Reconstructed patient data are only useful if every number read off them is the number a
statistician would get from the same data in R. So this module follows ``survfit()``'s
defaults exactly rather than a textbook variant:

* the curve is reported at every distinct time (events *and* censorings), with ``n_risk``,
  ``n_event``, ``n_censor``;
* ``std_err`` is the Greenwood standard error of the cumulative hazard, i.e. of ``log S``
  (``sqrt(sum d / (n (n - d)))``), which is what ``survfit()$std.err`` holds;
* the default band is ``conf.type = "log"``: ``S exp(±z se)`` with the upper end capped at 1,
  undefined (NaN) where ``S = 0``;
* quantiles (the median) and their confidence limits invert the curve and its band the way
  ``quantile.survfit`` does (Brookmeyer–Crowley by inversion of the pointwise band), including
  its rule that a curve lying exactly on ``p`` over an interval gives the interval's midpoint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ConfType = Literal["log", "log-log", "plain"]
CONF_TYPES: tuple[ConfType, ...] = ("log", "log-log", "plain")

#: ``quantile.survfit``'s tolerance for "the curve equals p": ``sqrt(.Machine$double.eps)``.
QUANTILE_TOL = math.sqrt(np.finfo(np.float64).eps)


def as_time_event(
    time: Sequence[float] | FloatArray, event: Sequence[int] | Sequence[float] | npt.NDArray[Any]
) -> tuple[FloatArray, IntArray]:
    """Validated ``(time, event)`` arrays: times finite and >= 0, events 0 or 1, same length."""
    t = np.asarray(time, dtype=np.float64).ravel()
    e_raw = np.asarray(event, dtype=np.float64).ravel()
    if t.size == 0:
        raise InputError("column 'time': no observations")
    if t.shape != e_raw.shape:
        raise InputError(f"column 'event': has {e_raw.size} values, 'time' has {t.size}")
    bad_t = np.flatnonzero(~np.isfinite(t) | (t < 0.0))
    if bad_t.size:
        i = int(bad_t[0])
        raise InputError(f"row {i + 1}, column 'time': {float(t[i]):g} must be a finite time >= 0")
    bad_e = np.flatnonzero((e_raw != 0.0) & (e_raw != 1.0))
    if bad_e.size:
        i = int(bad_e[0])
        raise InputError(f"row {i + 1}, column 'event': {float(e_raw[i]):g} must be 0 or 1")
    return t, e_raw.astype(np.int64)


@dataclass(frozen=True)
class Quantile:
    """One survival-time quantile with its confidence limits (NaN where not reached)."""

    p: float
    estimate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """JSON view; not-reached values become ``None``."""
        return {
            "p": self.p,
            "estimate": _finite_or_none(self.estimate),
            "ci_low": _finite_or_none(self.ci_low),
            "ci_high": _finite_or_none(self.ci_high),
        }


@dataclass(frozen=True)
class Landmark:
    """Survival at one time ``t`` read off a KM curve, with its Greenwood SE on the S scale."""

    time: float
    surv: float
    se: float
    ci_low: float
    ci_high: float
    n_risk: int

    def to_dict(self) -> dict[str, Any]:
        """JSON view; undefined values become ``None``."""
        return {
            "time": self.time,
            "surv": self.surv,
            "se": _finite_or_none(self.se),
            "ci_low": _finite_or_none(self.ci_low),
            "ci_high": _finite_or_none(self.ci_high),
            "n_risk": self.n_risk,
        }


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve at every distinct time, with ``survfit()``'s columns.

    ``std_err`` is the SE of ``log S`` (R's ``fit$std.err``); ``lower``/``upper`` the band of
    type ``conf_type`` at ``level`` (a proportion, as ``conf.int`` in R).
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    n: int
    conf_type: ConfType
    level: float

    @property
    def events(self) -> int:
        """Total number of events."""
        return int(self.n_event.sum())

    def quantile(self, p: float = 0.5) -> Quantile:
        """Time by which a fraction ``p`` has had the event, as ``quantile.survfit``."""
        if not 0.0 <= p <= 1.0:
            raise InputError(f"column 'p': {p!r} must be in [0, 1]")
        est = _findq(self.time, 1.0 - self.surv, p)
        # the lower band reaches p first, so it gives the lower limit (quantile.survfit)
        low = _findq(self.time, 1.0 - self.lower, p)
        high = _findq(self.time, 1.0 - self.upper, p)
        return Quantile(p=p, estimate=est, ci_low=low, ci_high=high)

    def median(self) -> Quantile:
        """Median survival time with its confidence limits (``print.survfit``)."""
        return self.quantile(0.5)

    def at(self, t: float) -> Landmark:
        """Survival at time ``t`` (right-continuous step function), with Greenwood SE of S.

        Feeds :func:`postcart.stats.landmark_effects` (``se=``) for landmark pooling.
        """
        if not math.isfinite(t) or t < 0.0:
            raise InputError(f"column 'time': landmark {t!r} must be a finite time >= 0")
        idx = int(np.searchsorted(self.time, t, side="right")) - 1
        if t > float(self.time[-1]):
            raise InputError(
                f"column 'time': landmark {t:g} is after the last follow-up time "
                f"{float(self.time[-1]):g}; the curve says nothing there"
            )
        if idx < 0:
            return Landmark(t, 1.0, 0.0, 1.0, 1.0, int(self.n_risk[0]))
        s = float(self.surv[idx])
        se_log = float(self.std_err[idx])
        j = int(np.searchsorted(self.time, t, side="left"))
        n_at = int(self.n_risk[j]) if j < self.n_risk.size else 0
        return Landmark(
            time=t,
            surv=s,
            se=s * se_log if math.isfinite(se_log) else math.nan,
            ci_low=float(self.lower[idx]),
            ci_high=float(self.upper[idx]),
            n_risk=n_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """Columns as lists (the CLI ``--json`` keys), undefined values as ``None``."""
        med = self.median()
        return {
            "n": self.n,
            "events": self.events,
            "conf_type": self.conf_type,
            "level": self.level,
            "median": med.to_dict(),
            "time": self.time.tolist(),
            "n_risk": self.n_risk.tolist(),
            "n_event": self.n_event.tolist(),
            "n_censor": self.n_censor.tolist(),
            "surv": self.surv.tolist(),
            "std_err": [_finite_or_none(v) for v in self.std_err.tolist()],
            "lower": [_finite_or_none(v) for v in self.lower.tolist()],
            "upper": [_finite_or_none(v) for v in self.upper.tolist()],
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def kaplan_meier(
    time: Sequence[float] | FloatArray,
    event: Sequence[int] | Sequence[float] | npt.NDArray[Any],
    *,
    conf_type: ConfType = "log",
    level: float = 0.95,
) -> KaplanMeier:
    """Kaplan–Meier estimate of ``Surv(time, event)`` as ``survfit(..., conf.type=)``.

    Parameters
    ----------
    time, event
        Follow-up time (>= 0) and status (1 = event, 0 = censored), one per patient.
    conf_type
        ``"log"`` (R's default), ``"log-log"`` or ``"plain"``.
    level
        Confidence level as a proportion (R's ``conf.int``), default 0.95.
    """
    if conf_type not in CONF_TYPES:
        raise InputError(f"column 'conf_type': {conf_type!r} is not one of {CONF_TYPES}")
    if not 0.0 < level < 1.0:
        raise InputError(f"column 'level': {level!r} must be a proportion in (0, 1)")
    t, e = as_time_event(time, event)
    uniq, inverse = np.unique(t, return_inverse=True)
    n_event = np.bincount(inverse, weights=e, minlength=uniq.size).astype(np.int64)
    n_total = np.bincount(inverse, minlength=uniq.size).astype(np.int64)
    n_censor = n_total - n_event
    n_risk = (t.size - np.concatenate(([0], np.cumsum(n_total)[:-1]))).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.asarray(np.cumprod(1.0 - n_event / n_risk), dtype=np.float64)
        terms = np.where(
            n_event > 0, n_event / (n_risk * (n_risk - n_event).astype(np.float64)), 0.0
        )
    var_log = np.cumsum(terms)
    std_err = np.sqrt(var_log)
    lower, upper = _band(surv, std_err, conf_type, level)
    return KaplanMeier(
        time=uniq.astype(np.float64),
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        surv=surv.astype(np.float64),
        std_err=std_err.astype(np.float64),
        lower=lower,
        upper=upper,
        n=int(t.size),
        conf_type=conf_type,
        level=level,
    )


def _band(
    surv: FloatArray, se: FloatArray, conf_type: ConfType, level: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise band, as ``survfit_confint`` (``logse = TRUE``, upper capped at 1)."""
    z = float(sps.norm.ppf(1.0 - (1.0 - level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se * surv * z
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
        elif conf_type == "log":
            s = np.where(surv == 0.0, np.nan, surv)
            lower = np.exp(np.log(s) - z * se)
            upper = np.minimum(np.exp(np.log(s) + z * se), 1.0)
            upper = np.where(np.isnan(s), np.nan, upper)
        else:
            s = np.where((surv == 0.0) | (surv == 1.0), np.nan, surv)
            half = z * se / np.log(s)
            lower = np.exp(-np.exp(np.log(-np.log(s)) - half))
            upper = np.exp(-np.exp(np.log(-np.log(s)) + half))
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _findq(time: FloatArray, cdf: FloatArray, p: float, tol: float = QUANTILE_TOL) -> float:
    """``survival:::findq``: the first time the distribution ``cdf`` reaches ``p``.

    ``cdf`` is ``1 - S`` (or ``1 - band``), prefixed with 0 at time 0. Where the curve sits
    on ``p`` (within ``tol``) over an interval, the midpoint of that interval is returned; a
    curve ending exactly on ``p`` gives the midpoint to the last time. NaN = not reached.
    """
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], cdf))
    finite = ~np.isnan(y)
    if not finite.any() or float(np.max(y[finite])) < p:
        return math.nan
    if p == 0.0:
        return float(x[0])
    xmax = float(x[-1])
    keep = _first_of_each_value(y)
    x, y = x[keep], y[keep]
    i1 = _approx_constant_right(y + tol, p)
    i2 = _approx_constant_right(y - tol, p)
    quant = (float(x[i1]) + float(x[i2])) / 2.0 if i1 is not None and i2 is not None else math.nan
    if not np.isnan(y[-1]) and abs(p - float(y[-1])) < tol and i1 is not None:
        quant = (float(x[i1]) + xmax) / 2.0
    return quant


def _first_of_each_value(y: FloatArray) -> npt.NDArray[np.bool_]:
    """R's ``!duplicated(y)``: keep the first occurrence of each value (NaN counts as one)."""
    seen: set[float] = set()
    saw_nan = False
    keep = np.zeros(y.size, dtype=bool)
    for i, v in enumerate(y.tolist()):
        if math.isnan(v):
            keep[i] = not saw_nan
            saw_nan = True
        elif v not in seen:
            seen.add(v)
            keep[i] = True
    return keep


def _approx_constant_right(xs: FloatArray, p: float) -> int | None:
    """``approx(xs, seq_along(xs), p, method="constant", f=1)$y - 1`` (0-based), or None.

    R drops NA pairs, orders the pairs by ``xs`` (a band need not be monotone) and returns
    the index attached to the first sorted value ``>= p``; ``p`` outside the range is NA.
    """
    idx = np.flatnonzero(~np.isnan(xs))
    if idx.size == 0:
        return None
    order = idx[np.argsort(xs[idx], kind="stable")]
    sx = xs[order]
    if p < float(sx[0]) or p > float(sx[-1]):
        return None
    j = int(np.searchsorted(sx, p, side="left"))
    return int(order[j])
