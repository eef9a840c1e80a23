"""Cox proportional-hazards fit with one covariate (two digitised arms), as R ``coxph``.

When a paper shows two arms on one Kaplan–Meier plot but no hazard ratio (or one from a
model we cannot reproduce), the reconstructed patients of both arms give it. ``coxph``'s
default handling of tied event times is Efron's approximation, and reconstructed data are
full of ties (every patient who died between two digitised points shares a time), so the
tie method matters: it is a typed choice here, ``ties="efron"`` by default like R.

The fit is Newton–Raphson on the partial likelihood from ``beta = 0`` with step halving,
iterated past R's own stopping rule (relative log-likelihood change < 1e-9) until the step
is below 1e-12, so the estimate is the maximiser R converges to, not an early iterate.
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
from postcart.stats.survival.km import FloatArray, as_time_event

Ties = Literal["efron", "breslow"]
TIES: tuple[Ties, ...] = ("efron", "breslow")
#: Beyond this |beta| the likelihood is monotone (an arm with no events): no finite HR.
MAX_ABS_BETA = 30.0


@dataclass(frozen=True)
class CoxResult:
    """Hazard ratio of ``x = 1`` versus ``x = 0`` (``exp(coef)``), Wald CI and test.

    ``status`` is ``"ok"``, or ``"not_converged"`` (with ``reason``) when the partial
    likelihood has no finite maximum, e.g. one arm has no events.
    """

    coef: float
    se: float
    hr: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    loglik: float
    loglik_null: float
    n: int
    events: int
    ties: Ties
    level: float
    iterations: int
    status: str = "ok"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON view (CLI keys); undefined numbers become ``None``."""
        out: dict[str, Any] = {}
        for key in ("coef", "se", "hr", "ci_low", "ci_high", "z", "p", "loglik", "loglik_null"):
            value = float(getattr(self, key))
            out[key] = value if math.isfinite(value) else None
        out.update(
            n=self.n,
            events=self.events,
            ties=self.ties,
            level=self.level,
            iterations=self.iterations,
            status=self.status,
            reason=self.reason,
        )
        return out


@dataclass(frozen=True)
class _Risk:
    """Per distinct event time: event indices grouped, risk sets as reverse cumulative sums."""

    order: npt.NDArray[np.int64]
    group_of_row: npt.NDArray[np.int64]
    first_row_of_time: npt.NDArray[np.int64]
    event_time_group: npt.NDArray[np.int64]
    d: npt.NDArray[np.int64]
    x_sorted: FloatArray
    e_sorted: npt.NDArray[np.int64]


def _prepare(t: FloatArray, e: npt.NDArray[np.int64], x: FloatArray) -> _Risk:
    order = np.argsort(t, kind="stable").astype(np.int64)
    ts = t[order]
    uniq, group = np.unique(ts, return_inverse=True)
    first = np.searchsorted(ts, uniq, side="left").astype(np.int64)
    es = e[order]
    d_all = np.bincount(group, weights=es, minlength=uniq.size).astype(np.int64)
    event_groups = np.flatnonzero(d_all > 0).astype(np.int64)
    return _Risk(
        order=order,
        group_of_row=group.astype(np.int64),
        first_row_of_time=first,
        event_time_group=event_groups,
        d=d_all[event_groups],
        x_sorted=x[order],
        e_sorted=es,
    )


def _loglik(beta: float, r: _Risk, ties: Ties) -> tuple[float, float, float]:
    """Partial log-likelihood, score and information at ``beta`` (Efron or Breslow)."""
    x = r.x_sorted
    with np.errstate(over="ignore"):
        w = np.exp(beta * x)
    # risk-set sums: rows from the first row of each time onwards (reverse cumulative sums)
    rc0 = np.cumsum(w[::-1])[::-1]
    rc1 = np.cumsum((w * x)[::-1])[::-1]
    rc2 = np.cumsum((w * x * x)[::-1])[::-1]
    start = r.first_row_of_time[r.event_time_group]
    s0r, s1r, s2r = rc0[start], rc1[start], rc2[start]
    n_groups = r.first_row_of_time.size
    ev = r.e_sorted.astype(np.float64)
    s0d = np.bincount(r.group_of_row, weights=ev * w, minlength=n_groups)[r.event_time_group]
    s1d = np.bincount(r.group_of_row, weights=ev * w * x, minlength=n_groups)[r.event_time_group]
    s2d = np.bincount(r.group_of_row, weights=ev * w * x * x, minlength=n_groups)[
        r.event_time_group
    ]
    ll = float(beta * np.sum(ev * x))
    score = float(np.sum(ev * x))
    info = 0.0
    d = r.d
    for j in range(int(d.max())):
        m = d > j
        f = (j / d[m]) if ties == "efron" else np.zeros(int(m.sum()))
        a = s0r[m] - f * s0d[m]
        b = s1r[m] - f * s1d[m]
        c = s2r[m] - f * s2d[m]
        ll -= float(np.sum(np.log(a)))
        score -= float(np.sum(b / a))
        info += float(np.sum(c / a - (b / a) ** 2))
    return ll, score, info


def _newton(r: _Risk, ties: Ties, ll0: float) -> tuple[float, float, int, str, str]:
    """Newton–Raphson from 0 with step halving: (beta, loglik, iterations, status, reason)."""
    beta, ll = 0.0, ll0
    for iterations in range(1, 101):
        ll_b, score, info = _loglik(beta, r, ties)
        if info <= 0.0 or not math.isfinite(info):
            return beta, ll, iterations, "not_converged", "the information is not positive"
        step = score / info
        ll_new, _, _ = _loglik(beta + step, r, ties)
        halvings = 0
        while ll_new < ll_b - 1e-12 * abs(ll_b) and halvings < 30:
            step /= 2.0
            ll_new, _, _ = _loglik(beta + step, r, ties)
            halvings += 1
        beta, ll = beta + step, ll_new
        if abs(beta) > MAX_ABS_BETA:
            reason = "the hazard ratio is infinite or zero (an arm without events?)"
            return beta, ll, iterations, "not_converged", reason
        if abs(step) < 1e-12:
            return beta, ll, iterations, "ok", ""
    return beta, ll, 100, "not_converged", "no convergence in 100 Newton steps"


def coxph(
    time: Sequence[float] | FloatArray,
    event: Sequence[int] | Sequence[float] | npt.NDArray[Any],
    x: Sequence[float] | FloatArray,
    *,
    ties: Ties = "efron",
    level: float = 0.95,
) -> CoxResult:
    """``coxph(Surv(time, event) ~ x, ties=ties)`` for one covariate (0/1 for two arms).

    Returns the hazard ratio ``exp(coef)`` with its Wald CI at ``level`` (a proportion).
    """
    if ties not in TIES:
        raise InputError(f"column 'ties': {ties!r} is not one of {TIES}")
    if not 0.0 < level < 1.0:
        raise InputError(f"column 'level': {level!r} must be a proportion in (0, 1)")
    t, e = as_time_event(time, event)
    xs = np.asarray(x, dtype=np.float64).ravel()
    if xs.shape != t.shape:
        raise InputError(f"column 'x': has {xs.size} values, 'time' has {t.size}")
    if not np.all(np.isfinite(xs)):
        raise InputError("column 'x': values must be finite")
    events = int(e.sum())
    if events == 0:
        raise InputError("column 'event': no events, so no hazard ratio can be estimated")
    if float(xs.max()) == float(xs.min()):
        raise InputError("column 'x': the covariate is constant (only one arm)")
    r = _prepare(t, e, xs - float(xs.mean()))
    ll0, _, _ = _loglik(0.0, r, ties)
    beta, ll, iterations, status, reason = _newton(r, ties, ll0)
    _, _, info = _loglik(beta, r, ties)
    se = 1.0 / math.sqrt(info) if info > 0.0 else math.nan
    z = beta / se if status == "ok" else math.nan
    crit = float(sps.norm.ppf(1.0 - (1.0 - level) / 2.0))
    if status != "ok":
        beta = se = math.nan
    return CoxResult(
        coef=beta,
        se=se,
        hr=math.exp(beta) if math.isfinite(beta) else math.nan,
        ci_low=math.exp(beta - crit * se) if math.isfinite(beta) else math.nan,
        ci_high=math.exp(beta + crit * se) if math.isfinite(beta) else math.nan,
        z=z,
        p=float(2.0 * sps.norm.sf(abs(z))) if math.isfinite(z) else math.nan,
        loglik=ll,
        loglik_null=ll0,
        n=int(t.size),
        events=events,
        ties=ties,
        level=level,
        iterations=iterations,
        status=status,
        reason=reason,
    )


def cox_arms(
    time0: Sequence[float] | FloatArray,
    event0: Sequence[int] | npt.NDArray[Any],
    time1: Sequence[float] | FloatArray,
    event1: Sequence[int] | npt.NDArray[Any],
    *,
    ties: Ties = "efron",
    level: float = 0.95,
) -> CoxResult:
    """Hazard ratio of arm 1 versus arm 0 (e.g. two reconstructed arms of one figure)."""
    t0 = np.asarray(time0, dtype=np.float64).ravel()
    t1 = np.asarray(time1, dtype=np.float64).ravel()
    x = np.concatenate((np.zeros(t0.size), np.ones(t1.size)))
    event = np.concatenate(
        (np.asarray(event0, dtype=np.float64).ravel(), np.asarray(event1, dtype=np.float64).ravel())
    )
    return coxph(np.concatenate((t0, t1)), event, x, ties=ties, level=level)
