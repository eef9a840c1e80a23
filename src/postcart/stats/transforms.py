"""Back-transforms from the analysis scale to proportions, as metafor's ``transf.*``.

The inverse logit of a pooled logit is the *median* study proportion; the mean needs an
integral over the random-effects distribution (``transf.ilogit.int``). The Freeman–Tukey
inverse needs one sample size, and metafor (and meta) use the harmonic mean: with unequal
study sizes that single n can put the pooled proportion far from every study (Schwarzer
et al. 2019), so we flag it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

from postcart.stats._checks import FloatArray
from postcart.stats.results import BackTransform

#: R's ``integrate()`` default rel.tol and abs.tol (``.Machine$double.eps^0.25``).
R_INTEGRATE_TOL = float(np.finfo(np.float64).eps ** 0.25)
#: R's ``integrate()`` default number of subintervals.
R_INTEGRATE_LIMIT = 100
#: Ratio of largest to smallest n above which a harmonic-mean PFT back-transform is unreliable.
PFT_SIZE_RATIO_WARNING = 10.0


def ilogit(x: FloatArray) -> FloatArray:
    """Inverse logit, metafor ``transf.ilogit`` (R ``plogis``)."""
    return np.asarray(special.expit(x), dtype=np.float64)


def iarcsin(x: FloatArray) -> FloatArray:
    """Inverse arcsine square root, metafor ``transf.iarcsin``: sin²(x) clamped to [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    out = np.sin(x) ** 2
    out = np.where(x < 0, 0.0, out)
    return np.where(x > math.asin(1.0), 1.0, out)


def pft(p: float, n: float) -> float:
    """Freeman–Tukey transform of a proportion ``p`` at size ``n``, metafor ``transf.pft``."""
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def harmonic_mean(ni: FloatArray) -> float:
    """Harmonic mean of the study sizes (the single n the PFT inverse needs)."""
    return float(1.0 / np.mean(1.0 / np.asarray(ni, dtype=np.float64)))


def ipft(x: FloatArray, n: float) -> FloatArray:
    """Inverse Freeman–Tukey at size ``n`` (Miller 1978), metafor ``transf.ipft``.

    Values below the transform of 0 (or above that of 1) at this n map to 0 (or 1).
    """
    x = np.asarray(x, dtype=np.float64)
    s = np.sin(2 * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = 1 - (s + (s - 1 / s) / n) ** 2
        out = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(inner))
    out = np.where(np.isnan(out), np.nan, out)
    out = np.where(x > pft(1.0, n), 1.0, out)
    return np.where(x < pft(0.0, n), 0.0, out)


def ipft_hm(x: FloatArray, ni: FloatArray) -> FloatArray:
    """Inverse Freeman–Tukey at the harmonic-mean n, metafor ``transf.ipft.hm``."""
    return ipft(x, harmonic_mean(ni))


def pft_warnings(pooled: float, ni: FloatArray) -> list[str]:
    """Reasons a harmonic-mean PFT back-transform may mislead (empty when it looks safe)."""
    n_hm = harmonic_mean(ni)
    reasons = []
    low, high = pft(0.0, n_hm), pft(1.0, n_hm)
    if not low <= pooled <= high:
        reasons.append(
            f"PFT pooled value {pooled:.4g} lies outside the range the harmonic-mean n = "
            f"{n_hm:.4g} can represent [{low:.4g}, {high:.4g}]; the back-transform is "
            "clamped to 0 or 1"
        )
    ratio = float(np.max(ni) / np.min(ni))
    if ratio > PFT_SIZE_RATIO_WARNING:
        reasons.append(
            f"study sizes differ {ratio:.0f}-fold; the PFT back-transform at the harmonic-mean "
            "n can be far from every study (Schwarzer et al. 2019). Prefer PLO or a GLMM"
        )
    return reasons


def ilogit_mean(x: float, tau2: float) -> float:
    """Mean proportion ∫ ilogit(z) φ(z; x, τ²) dz, metafor ``transf.ilogit.int``.

    Integrates over x ± 10τ with QUADPACK at R ``integrate()``'s default tolerances so the
    numbers agree with metafor; with τ² = 0 it is the plain inverse logit.
    """
    if not math.isfinite(x):
        return math.nan
    if tau2 == 0:
        return float(special.expit(x))
    sd = math.sqrt(tau2)

    scale = 1.0 / (sd * math.sqrt(2 * math.pi))

    def integrand(z: float) -> float:
        density = scale * math.exp(-0.5 * ((z - x) / sd) ** 2)
        logistic = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return logistic * density

    value, _ = integrate.quad(
        integrand,
        x - 10 * sd,
        x + 10 * sd,
        epsabs=R_INTEGRATE_TOL,
        epsrel=R_INTEGRATE_TOL,
        limit=R_INTEGRATE_LIMIT,
    )
    return float(value)


def back_transform(
    measure: str,
    interval: tuple[float, float, float, float, float],
    tau2: float,
    ni: FloatArray | None,
) -> tuple[BackTransform, list[str]]:
    """Put (estimate, ci_low, ci_high, pi_low, pi_high) on the proportion scale.

    Returns the block and any warnings about it. For PLO the inverse logit is labelled as
    the *median* proportion and the mean (``transf.ilogit.int``) is added.
    """
    values = np.asarray(interval, dtype=np.float64)
    notes: list[str] = []
    if measure == "PLO":
        est, lo, hi, p_lo, p_hi = (float(v) for v in ilogit(values))
        return (
            BackTransform(
                est,
                lo,
                hi,
                p_lo,
                p_hi,
                mean=ilogit_mean(float(values[0]), tau2),
                mean_ci_low=ilogit_mean(float(values[1]), tau2),
                mean_ci_high=ilogit_mean(float(values[2]), tau2),
                transform="transf.ilogit",
                label="median proportion (inverse logit of the pooled logit)",
            ),
            notes,
        )
    if measure == "PR":
        est, lo, hi, p_lo, p_hi = (float(v) for v in values)
        if (math.isfinite(p_lo) and p_lo < 0) or (math.isfinite(p_hi) and p_hi > 1):
            notes.append("prediction interval for the raw proportion extends beyond [0, 1]")
        return BackTransform(
            est, lo, hi, p_lo, p_hi, transform="identity", label="pooled proportion"
        ), notes
    if measure == "PAS":
        est, lo, hi, p_lo, p_hi = (float(v) for v in iarcsin(values))
        return BackTransform(
            est,
            lo,
            hi,
            p_lo,
            p_hi,
            transform="transf.iarcsin",
            label="proportion (sin² of the pooled arcsine)",
        ), notes
    if measure == "PFT":
        if ni is None:
            notes.append("PFT back-transform needs the study sizes ni; not computed")
            return BackTransform(transform="none"), notes
        sizes = np.asarray(ni, dtype=np.float64)
        est, lo, hi, p_lo, p_hi = (float(v) for v in ipft_hm(values, sizes))
        notes.extend(pft_warnings(float(values[0]), sizes))
        return BackTransform(
            est,
            lo,
            hi,
            p_lo,
            p_hi,
            transform="transf.ipft.hm",
            label="proportion (Freeman–Tukey inverse at harmonic-mean n)",
        ), notes
    return BackTransform(), notes
