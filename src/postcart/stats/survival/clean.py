"""Digitised Kaplan–Meier points → a curve the reconstruction can trust, every change reported.

A digitiser (WebPlotDigitizer, or a ruler) returns points with small errors: a time of
-0.02 at the origin, a survival of 1.003, two clicks a hair out of order, a point a little
above the one before it on a curve that can only fall. Other tools either crash on these or
fix them without saying so. Here a fix is allowed only when the defect is the size of
digitising noise, and each fix is written to ``steps`` so a reader sees what was changed;
anything larger is an :class:`InputError` naming the row.

Cleaning, in order:

1. survival given in percent is detected (the earliest point above 1.5) and divided by 100;
2. times within ``time_tol`` below 0 and survivals within ``surv_tol`` outside [0, 1] are
   clamped; larger excursions are errors;
3. points are sorted by time (ties: higher survival first, the top of a step);
4. the survival is made non-increasing by isotonic regression (pool-adjacent-violators,
   equal weights); a rise larger than ``max_rise`` between points further apart in time
   than ``order_tol`` (relative to the largest time) is an error, not noise: a second
   curve or swapped columns, not a click out of order;
5. the curve is anchored at (0, 1): a missing origin is added, a first survival within
   ``surv_tol`` of 1 is set to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats.survival.km import FloatArray

SurvUnit = Literal["auto", "proportion", "percent"]
SURV_UNITS: tuple[SurvUnit, ...] = ("auto", "proportion", "percent")


@dataclass(frozen=True)
class CleanCurve:
    """A non-increasing curve starting at (0, 1), and the list of changes made to get it."""

    time: FloatArray
    surv: FloatArray
    unit: Literal["proportion", "percent"]
    steps: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "time": self.time.tolist(),
            "surv": self.surv.tolist(),
            "unit": self.unit,
            "cleaning": list(self.steps),
        }


def isotonic_nonincreasing(y: FloatArray) -> FloatArray:
    """Least-squares non-increasing fit to ``y`` (pool-adjacent-violators, equal weights)."""
    values: list[float] = []
    weights: list[int] = []
    for v in (-y).tolist():  # fit non-decreasing to -y
        values.append(v)
        weights.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w = weights[-2] + weights[-1]
            merged = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
            values[-2:] = [merged]
            weights[-2:] = [w]
    out = np.repeat(np.asarray(values, dtype=np.float64), weights)
    return np.asarray(-out, dtype=np.float64)


def clean_curve(
    time: Sequence[float] | FloatArray,
    surv: Sequence[float] | FloatArray,
    *,
    unit: SurvUnit = "auto",
    time_tol: float = 0.005,
    surv_tol: float = 0.01,
    max_rise: float = 0.05,
    order_tol: float = 0.01,
) -> CleanCurve:
    """Check and clean digitised ``(time, surv)`` points; see the module docstring.

    ``time_tol`` and ``order_tol`` are relative to the largest time; ``surv_tol`` and
    ``max_rise`` are on the proportion scale. Rows in messages are 1-based input positions.
    """
    if unit not in SURV_UNITS:
        raise InputError(f"column 'unit': {unit!r} is not one of {SURV_UNITS}")
    t = np.asarray(time, dtype=np.float64).ravel()
    s = np.asarray(surv, dtype=np.float64).ravel()
    if t.shape != s.shape:
        raise InputError(f"column 'survival': has {s.size} values, 'time' has {t.size}")
    if t.size == 0:
        raise InputError("column 'time': the curve has no points")
    for name, arr in (("time", t), ("survival", s)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise InputError(f"row {int(bad[0]) + 1}, column '{name}': missing or not finite")
    steps: list[str] = []
    chosen: Literal["proportion", "percent"]
    if unit == "auto":
        # a curve starts near 1 (or 100): the first point decides, so one stray value above
        # 1.5 in a curve of proportions is reported as out of range, not read as percent
        start = float(s[int(np.argmin(t))])
        chosen = "percent" if start > 1.5 else "proportion"
        why = "percent (starts above 1.5)" if chosen == "percent" else "a proportion"
        steps.append(f"survival read as {why}")
    else:
        chosen = unit
    if chosen == "percent":
        s = s / 100.0
    t_scale = max(float(np.max(np.abs(t))), 1e-12)
    t = _clamp_time(t, time_tol * t_scale, steps)
    s = _clamp_surv(s, surv_tol, 100.0 if chosen == "percent" else 1.0, steps)
    order = np.lexsort((-s, t))
    moved = int(np.sum(order != np.arange(t.size)))
    if moved:
        steps.append(f"points sorted by time ({moved} moved)")
    t, s = t[order], s[order]
    s = _monotone(t, s, order, max_rise, order_tol * t_scale, steps)
    t, s = _anchor(t, s, int(order[0]), surv_tol, steps)
    if t[-1] <= 0.0:
        raise InputError("column 'time': the curve has no time after 0")
    return CleanCurve(
        time=np.asarray(t, dtype=np.float64),
        surv=np.asarray(s, dtype=np.float64),
        unit=chosen,
        steps=tuple(steps),
    )


def _clamp_time(t: FloatArray, tol: float, steps: list[str]) -> FloatArray:
    """Times a hair below 0 (the origin clicked a little left) become 0; others are errors."""
    low = np.flatnonzero(t < 0.0)
    if not low.size:
        return t
    i = int(low[np.argmin(t[low])])
    if t[i] < -tol:
        raise InputError(f"row {i + 1}, column 'time': {float(t[i]):g} is below 0")
    steps.append(f"{low.size} time(s) slightly below 0 (down to {float(t.min()):.4g}) set to 0")
    return np.maximum(t, 0.0)


def _clamp_surv(s: FloatArray, tol: float, shown_scale: float, steps: list[str]) -> FloatArray:
    """Survivals a hair outside [0, 1] are clamped (reported); further out is an error."""
    for bad, bound, word in ((s > 1.0, 1.0, "above 1"), (s < 0.0, 0.0, "below 0")):
        rows = np.flatnonzero(bad)
        if not rows.size:
            continue
        excess = np.abs(s[rows] - bound)
        worst = int(rows[np.argmax(excess)])
        if float(excess.max()) > tol:
            raise InputError(
                f"row {worst + 1}, column 'survival': {s[worst] * shown_scale:.6g} is {word} "
                f"(survival must be in [0, 1], or [0, 100] in percent)"
            )
        steps.append(
            f"{rows.size} survival value(s) {word} by at most {float(excess.max()):.4g} "
            f"(digitising noise) set to {bound:g}"
        )
    return np.clip(s, 0.0, 1.0)


def _monotone(
    t: FloatArray,
    s: FloatArray,
    order: npt.NDArray[np.intp],
    max_rise: float,
    window: float,
    steps: list[str],
) -> FloatArray:
    """Isotonic correction of small rises; a large rise between distant points is an error."""
    rise = np.flatnonzero(np.diff(s) > 0.0)
    if not rise.size:
        return s
    jumps = s[rise + 1] - s[rise]
    # clicks closer in time than the window may come out in either order: a rise between
    # them is digitising noise whatever its height
    jumps_far = np.where((t[rise + 1] - t[rise]) > window, jumps, 0.0)
    worst = int(np.argmax(jumps_far))
    if float(jumps_far[worst]) > max_rise:
        i = int(order[rise[worst] + 1])
        raise InputError(
            f"row {i + 1}, column 'survival': the curve rises by {float(jumps_far[worst]):.4g} "
            f"at time {float(t[rise[worst] + 1]):g}, more than digitising noise "
            f"({max_rise:g}); a Kaplan-Meier curve never rises"
        )
    fitted = isotonic_nonincreasing(s)
    change = np.abs(fitted - s)
    steps.append(
        f"isotonic correction: {int(np.sum(change > 0))} point(s) moved by at most "
        f"{float(change.max()):.4g} so the curve never rises"
    )
    return fitted


def _anchor(
    t: FloatArray, s: FloatArray, first_row: int, tol: float, steps: list[str]
) -> tuple[FloatArray, FloatArray]:
    """Start the curve at (0, 1): add the origin, or lift a first survival within ``tol``."""
    if t[0] > 0.0:
        steps.append("origin (0, 1) added")
        return np.concatenate(([0.0], t)), np.concatenate(([1.0], s))
    if s[0] >= 1.0:
        return t, s
    if s[0] < 1.0 - tol:
        raise InputError(
            f"row {first_row + 1}, column 'survival': the curve starts at "
            f"{float(s[0]):.4g} at time 0; a Kaplan-Meier curve starts at 1"
        )
    steps.append(f"survival at time 0 ({float(s[0]):.4g}) set to 1")
    s = s.copy()
    s[0] = 1.0
    return t, s
