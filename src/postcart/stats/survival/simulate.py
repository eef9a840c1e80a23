"""The simulation oracle for the reconstruction: trials with known patients, digitised, rebuilt.

There is no published table of "true" patient data behind a Kaplan–Meier figure, so the only
way to know how wrong a reconstruction is, is to make the patients ourselves: draw a trial
with a seeded generator, draw its exact Kaplan–Meier curve, "digitise" it the way a person
clicking on the figure would (the corners of each step, with small errors in both axes),
reconstruct, and compare the reconstructed curve and hazard ratio with the truth. The tests
assert the accuracy targets on this harness and ``benchmarks/survival_reconstruction.py``
prints it.

The trials resemble survival after CAR T failure: median overall survival about 6 months
(Weibull, shape 0.9–1.3), 60–200 patients per arm, accrual over 12 months, analysis 24 months
after the last entry, a little drop-out; the second arm's hazard ratio is drawn from
[0.5, 1.0].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from postcart.stats.survival.clean import clean_curve
from postcart.stats.survival.cox import coxph
from postcart.stats.survival.km import FloatArray, KaplanMeier, kaplan_meier
from postcart.stats.survival.reconstruct import Reconstruction, reconstruct

Info = Literal["risk_table", "events", "n0"]
#: Landmarks (months) at which the reconstructed curve is compared with the truth.
LANDMARKS: tuple[float, ...] = (6.0, 12.0, 24.0)


@dataclass(frozen=True)
class Trial:
    """One simulated arm: the patients, as the truth to recover."""

    time: FloatArray
    event: npt.NDArray[np.int64]


def simulate_arm(
    rng: np.random.Generator,
    n: int,
    *,
    median: float = 6.0,
    shape: float = 1.0,
    hr: float = 1.0,
    accrual: float = 12.0,
    follow_up: float = 24.0,
    dropout_rate: float = 0.01,
) -> Trial:
    """Weibull survival with the given median (times ``hr`` on the hazard), with censoring."""
    scale = median / math.log(2.0) ** (1.0 / shape)
    u = rng.random(n)
    death = scale * (-np.log(u) / hr) ** (1.0 / shape)
    admin = accrual + follow_up - rng.uniform(0.0, accrual, n)
    dropout = rng.exponential(1.0 / dropout_rate, n)
    cens = np.minimum(admin, dropout)
    time = np.minimum(death, cens)
    event = (death <= cens).astype(np.int64)
    return Trial(time=np.round(time, 6), event=event)


def digitise(
    km: KaplanMeier,
    rng: np.random.Generator,
    *,
    noise_time: float = 0.02,
    noise_surv: float = 0.002,
) -> tuple[FloatArray, FloatArray]:
    """Points a person would click on the plotted curve: both corners of every step.

    Gaussian errors of SD ``noise_time`` (months) and ``noise_surv`` are added to each
    click: by default about half a pixel of a figure 900 px wide for 36 months and 250 px
    tall for survival 0–1, i.e. careful digitising at full zoom. The origin is clicked
    exactly (digitisers calibrate on it) and the end of the curve (last follow-up) is
    clicked too, so a flat tail is part of the data.
    """
    drops = km.n_event > 0
    et = km.time[drops]
    after = km.surv[drops]
    before = np.concatenate(([1.0], after[:-1]))
    t = np.column_stack((et, et)).ravel()
    s = np.column_stack((before, after)).ravel()
    t = np.append(t, km.time[-1])
    s = np.append(s, km.surv[-1])
    t = np.abs(t + rng.normal(0.0, noise_time, t.size))
    s = s + rng.normal(0.0, noise_surv, s.size)
    s = np.clip(s, -0.005, 1.005)
    return np.concatenate(([0.0], t)), np.concatenate(([1.0], s))


def risk_table(trial: Trial, every: float = 3.0) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Numbers at risk at 0, ``every``, 2·``every``, … up to the last follow-up time."""
    times = np.arange(0.0, float(trial.time.max()) + 1e-9, every)
    counts = np.array([int(np.sum(trial.time >= r)) for r in times], dtype=np.int64)
    return times, counts


def rebuild(
    trial: Trial,
    rng: np.random.Generator,
    info: Info,
    *,
    noise_time: float = 0.02,
    noise_surv: float = 0.002,
) -> Reconstruction:
    """Digitise one arm's true curve and reconstruct it with the given information."""
    true_km = kaplan_meier(trial.time, trial.event)
    dt, ds = digitise(true_km, rng, noise_time=noise_time, noise_surv=noise_surv)
    curve = clean_curve(dt, ds, unit="proportion")
    if info == "risk_table":
        rt, nr = risk_table(trial)
        keep = rt <= curve.time[-1]
        return reconstruct(
            curve.time,
            curve.surv,
            risk_time=rt[keep],
            n_risk=nr[keep],
            total_events=int(trial.event.sum()),
        )
    if info == "events":
        return reconstruct(
            curve.time, curve.surv, n0=trial.time.size, total_events=int(trial.event.sum())
        )
    return reconstruct(curve.time, curve.surv, n0=trial.time.size)


@dataclass(frozen=True)
class Accuracy:
    """Reconstruction error over simulated two-arm trials (one information level)."""

    info: Info
    trials: int
    mean_abs_ds: dict[float, float]
    events_exact: float
    mean_abs_dloghr: float
    p95_abs_dloghr: float

    def to_dict(self) -> dict[str, Any]:
        """JSON view (landmarks as strings)."""
        return {
            "info": self.info,
            "trials": self.trials,
            "mean_abs_ds": {f"{k:g}": v for k, v in self.mean_abs_ds.items()},
            "events_exact": self.events_exact,
            "mean_abs_dloghr": self.mean_abs_dloghr,
            "p95_abs_dloghr": self.p95_abs_dloghr,
        }


def accuracy_study(
    trials: int = 100,
    *,
    seed: int = 20120209,
    info: Info = "risk_table",
    noise_time: float = 0.02,
    noise_surv: float = 0.002,
) -> Accuracy:
    """Simulate ``trials`` two-arm trials, reconstruct both arms, compare with the truth.

    ``mean_abs_ds[t]`` averages ``|S_rec(t) - S_true(t)|`` over both arms of every trial
    whose true curve reaches ``t``; ``events_exact`` is the share of arms whose
    reconstructed events equal the true count; the log HR is Cox (Efron) on both arms.
    """
    rng = np.random.default_rng(seed)
    ds: dict[float, list[float]] = {t: [] for t in LANDMARKS}
    exact: list[bool] = []
    dloghr: list[float] = []
    for _ in range(trials):
        shape = float(rng.uniform(0.9, 1.3))
        hr = float(rng.uniform(0.5, 1.0))
        arms = [
            simulate_arm(rng, int(rng.integers(60, 201)), shape=shape),
            simulate_arm(rng, int(rng.integers(60, 201)), shape=shape, hr=hr),
        ]
        recs = [
            rebuild(arm, rng, info, noise_time=noise_time, noise_surv=noise_surv) for arm in arms
        ]
        for arm, rec in zip(arms, recs, strict=True):
            true_km = kaplan_meier(arm.time, arm.event)
            rec_km = rec.km()
            for t in LANDMARKS:
                if t <= float(true_km.time[-1]) and t <= float(rec_km.time[-1]):
                    ds[t].append(abs(rec_km.at(t).surv - true_km.at(t).surv))
            exact.append(rec.events == int(arm.event.sum()))
        true_hr = _log_hr(arms[0].time, arms[0].event, arms[1].time, arms[1].event)
        rec_hr = _log_hr(recs[0].time, recs[0].event, recs[1].time, recs[1].event)
        dloghr.append(abs(rec_hr - true_hr))
    return Accuracy(
        info=info,
        trials=trials,
        mean_abs_ds={t: float(np.mean(v)) if v else math.nan for t, v in ds.items()},
        events_exact=float(np.mean(exact)),
        mean_abs_dloghr=float(np.mean(dloghr)),
        p95_abs_dloghr=float(np.percentile(dloghr, 95)),
    )


def _log_hr(t0: FloatArray, e0: Any, t1: FloatArray, e1: Any) -> float:
    time = np.concatenate((t0, t1))
    event = np.concatenate((e0, e1))
    x = np.concatenate((np.zeros(t0.size), np.ones(t1.size)))
    return coxph(time, event, x).coef
