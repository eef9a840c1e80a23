"""The normal–normal (two-step) meta-analysis, as ``metafor::rma.uni`` for an intercept.

Assembles τ² (``tau2.py``), the pooled estimate and intervals (``inference.py``),
heterogeneity (``heterogeneity.py``) and the back-transform (``transforms.py``) into one
frozen ``MetaResult`` that records every choice made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from postcart.stats._checks import (
    as_vector,
    check_choice,
    check_level,
    effects_and_variances,
)
from postcart.stats.effect_sizes import MEASURES
from postcart.stats.heterogeneity import heterogeneity, q_profile_ci
from postcart.stats.inference import (
    PI_TYPES,
    RESCALED_TESTS,
    TESTS,
    PiType,
    pooled_inference,
)
from postcart.stats.results import MetaResult, Status
from postcart.stats.tau2 import TAU2_METHODS, estimate_tau2, resolve_control
from postcart.stats.transforms import back_transform

#: metafor warns when max(vi)/min(vi) reaches 1/evtol (evtol = 1e-7).
VI_RATIO_WARNING = 1e7
NAN = math.nan


def rma(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    measure: str = "GEN",
    ni: npt.ArrayLike | None = None,
    control: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    pi_type: PiType = "default",
) -> MetaResult:
    """Pool effect sizes under a random-effects (or common-effect) model, as ``rma.uni``.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (e.g. from :func:`escalc`).
    method
        τ² estimator: ``"REML"`` (metafor's default), ``"DL"``, ``"ML"``, ``"PM"``,
        ``"HE"``, ``"SJ"``, ``"EB"``, ``"HS"``, or ``"FE"`` for a common-effect model.
    test
        ``"z"`` (metafor's default), ``"t"`` (t with k − 1 df), ``"knha"`` (Knapp–Hartung)
        or ``"adhoc"`` (Knapp–Hartung with its variance factor floored at 1); see
        :mod:`postcart.stats.inference`. As in metafor, k = 1 forces ``"z"`` with a warning.
    level
        Confidence level in percent for the CI, PI and τ² CI (metafor ``level=95``).
    measure
        Scale of ``yi``: ``"PLO"``, ``"PR"``, ``"PAS"``, ``"PFT"`` (back-transformed to a
        proportion) or ``"GEN"`` (left as is).
    ni
        Study sizes; only needed to back-transform ``"PFT"`` (harmonic-mean n).
    control
        metafor's ``control=`` settings (``threshold``, ``maxiter``, ``stepadj``,
        ``tau2_init``, ``tau2_max``, ``tol``, ``ll0check``).
    settings
        Extra provenance to record (e.g. the continuity correction used by ``escalc``).
    pi_type
        Critical value of the prediction interval, as metafor's ``predict(pi.type=)``:
        ``"default"`` (the CI's), ``"riley"`` (t on k − 2 df, Riley et al. 2011), ``"t"``
        (t on k − 1 df) or ``"simple"`` (z, without the se of μ̂); see
        :mod:`postcart.stats.inference`.

    Returns
    -------
    MetaResult
        ``status`` is ``"not_converged"`` or ``"failed"`` (with ``reason``) where metafor
        would stop with an error; the numbers then describe the last iterate, or are NaN.
        A fit whose estimate or se is not finite (e.g. variances so extreme that the weights
        overflow) is ``"failed"``, never ``"ok"``.
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    check_choice("method", method, TAU2_METHODS)
    check_choice("test", test, TESTS)
    check_choice("measure", measure, MEASURES)
    check_choice("pi_type", pi_type, PI_TYPES)
    alpha = check_level(level)
    sizes = None if ni is None else as_vector(ni, "ni")
    notes: list[str] = []
    if k == 1 and test != "z":
        notes.append('test set to "z" because k = 1 (as metafor)')
        test = "z"
    if method == "FE" and test in RESCALED_TESTS:
        notes.append("Knapp–Hartung is not meant for a common-effect (FE) model")
    if float(np.max(v) / np.min(v)) >= VI_RATIO_WARNING:
        notes.append("ratio of largest to smallest sampling variance is extremely large")
    con = resolve_control(control, y)
    fit = estimate_tau2(method, y, v, con)
    notes.extend(fit.warnings)
    status: Status = "ok"
    if math.isnan(fit.tau2):
        status = "failed"
    elif not fit.converged:
        status = "not_converged"
    tau2 = fit.tau2
    common = method == "FE"
    record = _settings(method, test, level, k, con, settings, pi_type)
    if status == "failed":
        return _failed(k, measure, method, test, level, fit.reason, record, notes)
    inf = pooled_inference(y, v, tau2, test=test, alpha=alpha, pi_type=pi_type)
    if not (math.isfinite(inf.estimate) and math.isfinite(inf.se)):
        reason = (
            f"no finite estimate (estimate {inf.estimate!r}, se {inf.se!r}): the sampling "
            "variances are too extreme for floating point"
        )
        return _failed(k, measure, method, test, level, reason, record, notes)
    het = heterogeneity(y, v, tau2, common=common)
    pi_low, pi_high = (NAN, NAN) if common else (inf.pi_low, inf.pi_high)
    tau2_ci_low = tau2_ci_high = i2_ci_low = i2_ci_high = NAN
    if not common and k >= 2:
        ci = q_profile_ci(y, v, tau2, alpha, het.typical_vi)
        tau2_ci_low, tau2_ci_high = ci.low, ci.high
        i2_ci_low, i2_ci_high = ci.i2_low, ci.i2_high
        if ci.note:
            notes.append(ci.note)
    back, back_notes = back_transform(
        measure, (inf.estimate, inf.ci_low, inf.ci_high, pi_low, pi_high), tau2, sizes
    )
    notes.extend(back_notes)
    return MetaResult(
        k=k,
        measure=measure,
        method=method,
        test=test,
        level=float(level),
        estimate=inf.estimate,
        se=inf.se,
        stat=inf.stat,
        pval=inf.pval,
        ci_low=inf.ci_low,
        ci_high=inf.ci_high,
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=tau2,
        se_tau2=fit.se_tau2,
        tau2_ci_low=tau2_ci_low,
        tau2_ci_high=tau2_ci_high,
        tau=math.sqrt(tau2),
        i2=het.i2,
        h2=het.h2,
        q=het.q,
        q_df=het.q_df,
        q_p=het.q_p,
        back=back,
        weights=tuple(float(w) for w in inf.weights),
        settings=record,
        status=status,
        reason=fit.reason,
        warnings=tuple(notes),
        df=inf.df,
        i2_ci_low=i2_ci_low,
        i2_ci_high=i2_ci_high,
        iterations=fit.iterations,
    )


#: How each test builds the CI, in words a methods section can quote.
CI_METHODS = {
    "z": "Wald z",
    "t": "t(k−1), variance unscaled",
    "knha": "Knapp–Hartung t(k−1)",
    "adhoc": "Knapp–Hartung t(k−1), variance factor floored at 1 (ad hoc correction)",
}

#: How a non-default ``pi_type`` picks the PI's critical value (the default reuses the CI's).
PI_CRITICAL_VALUES = {
    "riley": "crit from t(max(1, k−2)) (pi.type='riley', Riley et al. 2011)",
    "t": "crit from t(max(1, k−1)) (pi.type='t')",
}


def _settings(
    method: str,
    test: str,
    level: float,
    k: int,
    control: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
    pi_type: PiType = "default",
) -> dict[str, Any]:
    """Every choice behind the numbers, in words a methods section can quote."""
    common = method == "FE"
    ci_method = CI_METHODS[test]
    record: dict[str, Any] = {
        "engine": "postcart.stats.rma (mirrors metafor 3.8 rma.uni)",
        "estimator": "common effect (tau2 = 0)" if common else method,
        "ci_method": ci_method,
        "level": level,
        "pi_formula": _pi_formula(common, pi_type, ci_method),
        "tau2_ci": "none" if common or k < 2 else "Q-profile (metafor confint type='QP')",
        "i2_definition": "Q-based" if common else "tau2-based, typical vi = (k−1)/tr(P)",
        "continuity_correction": "not applied here (yi/vi given)",
        "transform": "as given",
        "preset": "none",
        "control": {key: control[key] for key in sorted(control)},
    }
    record.update(extra or {})
    return record


def _pi_formula(common: bool, pi_type: PiType, ci_method: str) -> str:
    """The prediction interval's formula in words (unchanged wording for the default)."""
    if common:
        return "none (common-effect model)"
    if pi_type == "simple":
        return "metafor predict(pi.type='simple'): estimate ± z·sqrt(tau2)"
    crit = PI_CRITICAL_VALUES.get(pi_type, f"crit from {ci_method}")
    return f"metafor predict(): estimate ± crit·sqrt(se² + tau2), {crit}"


def _failed(
    k: int,
    measure: str,
    method: str,
    test: str,
    level: float,
    reason: str,
    record: Mapping[str, Any],
    notes: list[str],
) -> MetaResult:
    """A result that says why there is no estimate, instead of raising mid-analysis."""
    return MetaResult(
        k=k, measure=measure, method=method, test=test, level=float(level),
        estimate=NAN, se=NAN, stat=NAN, pval=NAN, ci_low=NAN, ci_high=NAN,
        pi_low=NAN, pi_high=NAN, tau2=NAN, se_tau2=NAN, tau2_ci_low=NAN,
        tau2_ci_high=NAN, tau=NAN, i2=NAN, h2=NAN, q=NAN, q_df=k - 1, q_p=NAN,
        settings=record, status="failed", reason=reason, warnings=tuple(notes),
    )  # fmt: skip
