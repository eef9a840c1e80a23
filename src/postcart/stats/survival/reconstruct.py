"""Individual patient data from a digitised Kaplan–Meier curve (Guyot et al. 2012).

Survival after CAR T failure is published as curves, not counts. Guyot, Ades, Ouwens and
Welton (BMC Med Res Methodol 2012;12:9) showed how to recover patient-level times that
reproduce a published curve: within each interval of the numbers-at-risk table, guess how
many patients were censored (spread evenly over the interval), derive the deaths at each
digitised point from the drop in survival, and adjust the censoring guess until the number
left at the end of the interval equals the next printed number at risk.

This implementation keeps the algorithm and changes three things that users of the R ports
have tripped over:

* **flat-tail guard** — a death is placed only where the digitised curve has visibly
  dropped: by more than ``flat_tol`` (default 0.002, about digitising noise) since the last
  point that dropped. The R ports derive deaths from the gap between the reconstructed and
  the digitised curve, so rounding deficits plus the noise of a digitised flat tail invent
  deaths where the published curve shows none; here a deficit waits for the next visible
  drop, and a flat tail gets none (``flat_tail_guard=False`` restores the plain rule);
* **explicit modes** — a risk table (``"risk_table"``), only the initial number and total
  events (``"events"``), or only the initial number (``"n0"``); the mode is in the result;
* **no silent failure** — an interval whose printed number at risk cannot be reached, or a
  total of events that cannot be matched exactly, is reported in ``warnings`` and in the
  per-interval ``risk_check``, never papered over.

Input is a clean curve (:func:`postcart.stats.survival.clean_curve`): times non-decreasing
from 0, survival non-increasing from 1. Without a risk table and without total events,
nobody is censored before the last digitised time (Guyot's rule); that understates censoring
and is labelled in ``settings``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats.survival.km import FloatArray, KaplanMeier, kaplan_meier

Mode = Literal["risk_table", "events", "n0"]
#: Guard against cycling in the censoring search: the R ports loop forever on some input.
MAX_ADJUST = 200


@dataclass(frozen=True)
class RiskCheck:
    """One row of the numbers-at-risk table: printed versus reconstructed."""

    time: float
    published: int
    reconstructed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "time": self.time,
            "published": self.published,
            "reconstructed": self.reconstructed,
        }


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed patients (``time``, ``event``), sorted by time, and how they were made."""

    time: FloatArray
    event: npt.NDArray[np.int64]
    mode: Mode
    total_events_given: int | None
    risk_check: tuple[RiskCheck, ...]
    warnings: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of reconstructed patients (the initial number at risk)."""
        return int(self.time.size)

    @property
    def events(self) -> int:
        """Number of reconstructed events."""
        return int(self.event.sum())

    @property
    def events_matched(self) -> bool | None:
        """Whether the reconstructed events equal the printed total (None if none given)."""
        if self.total_events_given is None:
            return None
        return self.events == self.total_events_given

    def km(self, *, level: float = 0.95) -> KaplanMeier:
        """Kaplan–Meier estimate of the reconstructed patients (R ``survfit`` defaults)."""
        return kaplan_meier(self.time, self.event, level=level)

    def to_dict(self) -> dict[str, Any]:
        """The CLI ``--json`` contract: ``n``, ``events``, ``ipd`` and how they were made."""
        return {
            "n": self.n,
            "events": self.events,
            "mode": self.mode,
            "total_events_given": self.total_events_given,
            "events_matched": self.events_matched,
            "risk_check": [row.to_dict() for row in self.risk_check],
            "warnings": list(self.warnings),
            "settings": dict(self.settings),
            "ipd": [
                {"time": float(t), "event": int(e)}
                for t, e in zip(self.time.tolist(), self.event.tolist(), strict=True)
            ],
        }


@dataclass
class _Run:
    """Deaths and censorings over one interval for one guess of the censored number.

    ``raw`` holds each point's unrounded death count, ``censor_point`` the point each
    censoring follows: both are needed to match a printed total of events afterwards.
    """

    deaths: npt.NDArray[np.int64]
    raw: FloatArray
    censor_times: list[float]
    censor_point: list[int]
    n_end: int
    km_last: float
    nc: int


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _run_interval(
    t: FloatArray,
    s: FloatArray,
    lo: int,
    hi: int,
    t_end: float,
    n_start: int,
    km_last: float,
    nc: int,
    flat: npt.NDArray[np.bool_],
) -> _Run:
    """Walk the points ``lo..hi`` with ``nc`` censorings spread evenly over the interval."""
    t_start = float(t[lo])
    cen = (t_start + (t_end - t_start) * np.arange(1, nc + 1) / (nc + 1)).tolist()
    edges = np.append(t[lo : hi + 1], t_end)
    # censorings falling in [t[k], t[k+1]) belong to point k
    cuts = np.searchsorted(np.asarray(cen, dtype=np.float64), edges, side="left")
    deaths = np.zeros(hi - lo + 1, dtype=np.int64)
    raw = np.zeros(hi - lo + 1, dtype=np.float64)
    used: list[float] = []
    used_point: list[int] = []
    n = n_start
    for j, k in enumerate(range(lo, hi + 1)):
        d = 0
        if k > 0 and n > 0 and km_last > 0.0 and not flat[k]:
            raw[j] = n * (1.0 - float(s[k]) / km_last)
            d = min(max(_round(raw[j]), 0), n)
        if d > 0:
            km_last *= 1.0 - d / n
        n -= d
        here = cen[int(cuts[j]) : int(cuts[j + 1])]
        take = min(len(here), n)
        used.extend(here[:take])
        used_point.extend([k] * take)
        n -= take
        deaths[j] = d
    return _Run(
        deaths=deaths,
        raw=raw,
        censor_times=used,
        censor_point=used_point,
        n_end=n,
        km_last=km_last,
        nc=nc,
    )


def _match_total(
    flat: npt.NDArray[np.bool_],
    deaths: npt.NDArray[np.int64],
    raw: FloatArray,
    cens: list[tuple[float, int]],
    point_interval: npt.NDArray[np.int64],
    t: FloatArray,
    target: int,
) -> int:
    """Re-round the closest calls so the deaths add up to the printed total; return changes.

    Too many deaths: the deaths whose unrounded value was nearest to rounding down become
    censorings at the same time. Too few: the drops nearest to rounding up gain a death and
    lose a later censoring of the same risk-table interval. Either way every number at risk
    at a table time is unchanged. ``cens`` holds (time, point) and is edited in place.
    """
    changes = 0
    excess = int(deaths.sum()) - target
    if excess > 0:
        order = np.argsort(raw - (deaths - 0.5), kind="stable").tolist()
        while excess > 0 and int(deaths.sum()) > 0:
            for k in order:
                if excess == 0:
                    break
                if deaths[k] > 0:
                    deaths[k] -= 1
                    cens.append((float(t[k]), k))
                    excess -= 1
                    changes += 1
    elif excess < 0:
        drops = np.flatnonzero(~flat)
        margin = (deaths[drops] + 0.5) - raw[drops]
        for k in drops[np.argsort(margin, kind="stable")].tolist():
            if excess == 0:
                break
            later = [
                i
                for i, (_, p) in enumerate(cens)
                if p >= k and point_interval[p] == point_interval[k]
            ]
            if not later:
                continue
            cens.pop(min(later, key=lambda i: cens[i][0]))
            deaths[k] += 1
            excess += 1
            changes += 1
    return changes


def _search(run: Any, start: int, upper: int, target: int, measure: Any) -> tuple[_Run, bool]:
    """Adjust the censored number until ``measure(run(nc)) == target``; best run if never.

    ``measure`` grows with fewer censorings (people left, or deaths), so the update moves
    ``nc`` by the miss; cycles and bounds end the search with the closest run found.
    """
    nc = min(max(start, 0), upper)
    tried: dict[int, _Run] = {}
    for _ in range(MAX_ADJUST):
        if nc in tried:
            break
        result = run(nc)
        tried[nc] = result
        miss = measure(result) - target
        if miss == 0:
            return result, True
        nxt = min(max(nc + miss, 0), upper)
        if nxt == nc:
            break
        nc = nxt
    # the measure falls (roughly monotonically) as nc grows: bisect for the crossing
    lo_nc, hi_nc = 0, upper
    while lo_nc < hi_nc:
        mid = (lo_nc + hi_nc) // 2
        if mid not in tried:
            tried[mid] = run(mid)
        if measure(tried[mid]) <= target:
            hi_nc = mid
        else:
            lo_nc = mid + 1
    for cand in (lo_nc - 1, lo_nc, lo_nc + 1):
        if 0 <= cand <= upper:
            if cand not in tried:
                tried[cand] = run(cand)
            if measure(tried[cand]) == target:
                return tried[cand], True
    best = min(tried.values(), key=lambda r: (abs(measure(r) - target), r.nc))
    return best, False


def _check_curve(t: FloatArray, s: FloatArray) -> None:
    if t.size < 2:
        raise InputError("column 'time': a curve needs at least 2 points")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(s))):
        raise InputError("columns 'time'/'survival': values must be finite")
    if t[0] != 0.0 or s[0] != 1.0:
        raise InputError("row 1: the curve must start at (0, 1); clean it with clean_curve")
    bad = np.flatnonzero(np.diff(t) < 0.0)
    if bad.size:
        raise InputError(f"row {int(bad[0]) + 2}, column 'time': times must not decrease")
    bad = np.flatnonzero(np.diff(s) > 0.0)
    if bad.size:
        raise InputError(f"row {int(bad[0]) + 2}, column 'survival': survival must not rise")
    if float(s.min()) < 0.0:
        raise InputError("column 'survival': values must be in [0, 1]")


def _check_table(t: FloatArray, risk_time: FloatArray, n_risk: npt.NDArray[np.int64]) -> None:
    if risk_time[0] != 0.0:
        raise InputError("row 1, column 'time' (risk table): the first time must be 0")
    if np.any(np.diff(risk_time) <= 0.0):
        i = int(np.flatnonzero(np.diff(risk_time) <= 0.0)[0]) + 2
        raise InputError(f"row {i}, column 'time' (risk table): times must increase")
    if float(risk_time[-1]) > float(t[-1]):
        raise InputError(
            f"row {risk_time.size}, column 'time' (risk table): {float(risk_time[-1]):g} is "
            f"after the curve's last time {float(t[-1]):g}"
        )
    if np.any(n_risk < 0):
        raise InputError("column 'at_risk': numbers at risk must be >= 0")
    if n_risk[0] < 1:
        raise InputError("row 1, column 'at_risk': the initial number at risk must be >= 1")
    rising = np.flatnonzero(np.diff(n_risk) > 0)
    if rising.size:
        i = int(rising[0]) + 2
        raise InputError(f"row {i}, column 'at_risk': numbers at risk must not increase")


def _as_counts(values: Sequence[float] | npt.NDArray[Any], name: str) -> npt.NDArray[np.int64]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"row {i + 1}, column '{name}': {float(arr[i]):g} is not a whole number")
    return arr.astype(np.int64)


def _table(
    risk_time: Sequence[float] | FloatArray | None,
    n_risk: Sequence[float] | npt.NDArray[Any] | None,
    n0: int | None,
    total_events: int | None,
) -> tuple[FloatArray, npt.NDArray[np.int64], Mode]:
    """The risk table to walk (a one-row table of n0 when none is printed) and the mode."""
    if risk_time is None and n_risk is None:
        if n0 is None:
            raise InputError("give a risk table or the initial number at risk (n0)")
        return np.array([0.0]), _as_counts([n0], "n0"), _mode(1, total_events)
    if risk_time is None or n_risk is None:
        raise InputError("risk table: give both 'time' and 'at_risk' columns")
    rt = np.asarray(risk_time, dtype=np.float64).ravel()
    nr = _as_counts(n_risk, "at_risk")
    if rt.shape != nr.shape or rt.size == 0:
        raise InputError("risk table: 'time' and 'at_risk' must have the same, >0, length")
    if not np.all(np.isfinite(rt)):
        raise InputError("column 'time' (risk table): values must be finite")
    if n0 is not None and int(nr[0]) != int(n0):
        raise InputError(f"n0 = {n0} differs from the risk table's first number {nr[0]}")
    return rt, nr, _mode(rt.size, total_events)


def _mode(rows: int, total_events: int | None) -> Mode:
    if rows > 1:
        return "risk_table"
    return "events" if total_events is not None else "n0"


@dataclass
class _Walk:
    """The reconstruction state carried from one risk-table interval to the next."""

    t: FloatArray
    s: FloatArray
    rt: FloatArray
    nr: npt.NDArray[np.int64]
    flat: npt.NDArray[np.bool_]
    total_events: int | None
    deaths: npt.NDArray[np.int64] = field(init=False)
    raw: FloatArray = field(init=False)
    lows: list[int] = field(init=False)
    cens: list[tuple[float, int]] = field(default_factory=list)
    checks: list[RiskCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    censored_before: int = 0

    def __post_init__(self) -> None:
        self.deaths = np.zeros(self.t.size, dtype=np.int64)
        self.raw = np.zeros(self.t.size, dtype=np.float64)
        self.lows = [int(np.searchsorted(self.t, r, side="left")) for r in self.rt.tolist()]

    def walk(self) -> None:
        """Every interval in turn; then everyone left is censored at the last time."""
        n_start, km_last = int(self.nr[0]), 1.0
        for i in range(self.rt.size):
            self.checks.append(RiskCheck(float(self.rt[i]), int(self.nr[i]), n_start))
            result = self._interval(i, n_start, km_last)
            lo = self.lows[i]
            self.deaths[lo : lo + result.deaths.size] = result.deaths
            self.raw[lo : lo + result.deaths.size] = result.raw
            self.cens.extend(zip(result.censor_times, result.censor_point, strict=True))
            n_start, km_last = result.n_end, result.km_last
        self.cens.extend([(float(self.t[-1]), self.t.size - 1)] * n_start)

    def _interval(self, i: int, n_start: int, km_last: float) -> _Run:
        t, s, lo = self.t, self.s, self.lows[i]
        last = i == self.rt.size - 1
        hi = t.size - 1 if last else self.lows[i + 1] - 1
        t_end = float(t[-1]) if last else float(self.rt[i + 1])

        def run(nc: int) -> _Run:
            return _run_interval(t, s, lo, hi, t_end, n_start, km_last, nc, self.flat)

        if not last:
            target = int(self.nr[i + 1])
            ratio = float(s[self.lows[i + 1]]) / float(s[lo]) if s[lo] > 0.0 else 0.0
            guess = _round(n_start * ratio - target)
            result, ok = _search(run, guess, n_start, target, lambda r: r.n_end)
            if not ok:
                self.warnings.append(
                    f"at time {float(self.rt[i + 1]):g}: {target} at risk printed, "
                    f"{result.n_end} reconstructed (no censoring pattern reaches it)"
                )
            self.censored_before += len(result.censor_times)
            return result
        if self.total_events is not None:
            target = max(self.total_events - int(self.deaths.sum()), 0)
            return _search(run, 0, n_start, target, lambda r: int(r.deaths.sum()))[0]
        nc = 0
        if self.rt.size > 1:
            # Guyot's rule: the last interval is censored at the rate of the earlier ones
            rate = self.censored_before / float(self.rt[-1] - self.rt[0])
            nc = min(_round(rate * (float(t[-1]) - float(self.rt[-1]))), n_start)
        return run(nc)

    def match_total(self) -> int:
        """Make the events equal the printed total where possible; return points changed."""
        if self.total_events is None or int(self.deaths.sum()) == self.total_events:
            return 0
        point_interval = (
            np.searchsorted(np.asarray(self.lows), np.arange(self.t.size), side="right") - 1
        )
        changed = _match_total(
            self.flat, self.deaths, self.raw, self.cens, point_interval, self.t, self.total_events
        )
        if changed > max(2, round(0.02 * self.total_events)):
            self.warnings.append(
                f"matching the printed total of {self.total_events} events re-rounded {changed} "
                "points: the curve, the risk table and the total disagree; check all three"
            )
        if int(self.deaths.sum()) != self.total_events:
            self.warnings.append(
                f"total events: {self.total_events} printed, {int(self.deaths.sum())} "
                f"reconstructed (no censoring pattern matches exactly)"
            )
        return changed


_CENSORING = {
    "risk_table": "spread evenly within each risk-table interval",
    "events": "chosen to match the printed total of events",
    "n0": "none before the last time (only n0 known: understates censoring)",
}


def reconstruct(
    time: Sequence[float] | FloatArray,
    surv: Sequence[float] | FloatArray,
    *,
    risk_time: Sequence[float] | FloatArray | None = None,
    n_risk: Sequence[float] | npt.NDArray[Any] | None = None,
    n0: int | None = None,
    total_events: int | None = None,
    flat_tail_guard: bool = True,
    flat_tol: float = 0.002,
) -> Reconstruction:
    """Guyot reconstruction of patient-level data from a clean digitised curve.

    Parameters
    ----------
    time, surv
        The clean curve (non-decreasing times from 0, non-increasing survival from 1).
    risk_time, n_risk
        The numbers-at-risk table (first time 0). Leave out for the ``events``/``n0`` modes.
    n0
        Initial number at risk when there is no table (with a table it must equal the
        table's first number).
    total_events
        Printed total number of events; the reconstruction then matches it exactly where any
        censoring pattern allows (``events_matched``).
    flat_tail_guard, flat_tol
        Deaths only where the curve has dropped by more than ``flat_tol`` since the last
        point that dropped (default on); off, any point lower than the one before may get one.
    """
    t = np.asarray(time, dtype=np.float64).ravel()
    s = np.asarray(surv, dtype=np.float64).ravel()
    if t.shape != s.shape:
        raise InputError(f"column 'survival': has {s.size} values, 'time' has {t.size}")
    rt, nr, mode = _table(risk_time, n_risk, n0, total_events)
    if total_events is not None and not 0 <= total_events <= int(nr[0]):
        raise InputError(
            f"total events {total_events} must be between 0 and the initial number {nr[0]}"
        )
    _check_curve(t, s)
    _check_table(t, rt, nr)
    t, s = _with_risk_points(t, s, rt)
    if not 0.0 <= flat_tol < 1.0:
        raise InputError(f"flat_tol {flat_tol!r} must be in [0, 1)")
    flat = _flat_points(s, flat_tol if flat_tail_guard else 0.0)
    state = _Walk(t, s, rt, nr, flat, total_events)
    state.walk()
    rerounded = state.match_total()
    censor_times = np.asarray([c[0] for c in state.cens], dtype=np.float64)
    ev_times = np.repeat(t, state.deaths)
    all_t = np.concatenate((ev_times, censor_times))
    all_e = np.concatenate(
        (np.ones(ev_times.size, dtype=np.int64), np.zeros(censor_times.size, dtype=np.int64))
    )
    order = np.lexsort((-all_e, all_t))
    settings: dict[str, Any] = {
        "algorithm": "Guyot et al. 2012 (BMC Med Res Methodol 12:9)",
        "mode": mode,
        "flat_tail_guard": flat_tail_guard,
        "flat_tol": flat_tol if flat_tail_guard else 0.0,
        "rerounded_points": rerounded,
        "censoring": _CENSORING[mode],
    }
    return Reconstruction(
        time=np.asarray(all_t[order], dtype=np.float64),
        event=np.asarray(all_e[order], dtype=np.int64),
        mode=mode,
        total_events_given=total_events,
        risk_check=tuple(state.checks),
        warnings=tuple(state.warnings),
        settings=settings,
    )


def _flat_points(s: FloatArray, tol: float) -> npt.NDArray[np.bool_]:
    """Points where the curve has not visibly dropped since the last point that did.

    With ``tol = 0`` only points no lower than the one before are flat.
    """
    flat = np.ones(s.size, dtype=bool)
    anchor = float(s[0])
    for k in range(1, s.size):
        if float(s[k]) < float(s[k - 1]) and anchor - float(s[k]) > tol:
            flat[k] = False
            anchor = float(s[k])
    return flat


def _with_risk_points(
    t: FloatArray, s: FloatArray, rt: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Add a point at each risk-table time that has none, at the curve's value there.

    The step function's value at ``r`` is that of the last point at or before ``r``, so the
    added point is flat (no deaths) and only marks where an interval starts.
    """
    missing = [r for r in rt.tolist() if not np.any(t == r)]
    if not missing:
        return t, s
    idx = np.searchsorted(t, np.asarray(missing), side="right") - 1
    new_t = np.concatenate((t, np.asarray(missing)))
    new_s = np.concatenate((s, s[idx]))
    order = np.lexsort((-new_s, new_t))
    return new_t[order], new_s[order]
