"""Subgroup analysis: pool each level separately, then test whether the levels differ.

Two conventions, both as one would do them in metafor 3.8-1:

``tau2="separate"`` (default)
    Each level gets its own ``rma`` fit (own τ², the requested ``method``/``test``/``level``).
    The test of subgroup differences is a Wald-type Q-between on the level estimates,
    ``Q_b = Σ w_g (θ_g − θ̄)²`` with ``w_g = 1/SE_g²`` and ``θ̄`` their ``w_g``-weighted mean,
    referred to χ² with ``G − 1`` df. In metafor: fit each subgroup, then
    ``rma(yi=est, sei=se, mods=~factor(level), method="FE")`` and read ``QM``/``QMp``.
    Under ``test="knha"`` the SEs (and so the weights) are the Knapp–Hartung ones.
``tau2="common"``
    One τ² shared by all levels: the mixed-effects model ``rma(yi, vi, mods=~factor(level))``;
    Q-between is its omnibus ``QM`` (χ²(G − 1), or ``F(G − 1, k − G)`` under ``knha``), and
    the level estimates are the coefficients of ``mods=~factor(level) - 1``. Needs ``method``
    in REML/ML/DL/HE/FE (the moderator-capable estimators of ``regression.py``).

Levels keep their order of first appearance. The separate per-level fits (``MetaResult``)
are always returned, so a forest plot can show them under either convention.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import effects_and_variances
from postcart.stats.regression import (
    METHODS,
    TESTS,
    FloatArray,
    RegMethod,
    RegTest,
    meta_regression,
)
from postcart.stats.results import MetaResult
from postcart.stats.rma import rma

Tau2Convention = Literal["separate", "common"]


@dataclass(frozen=True)
class SubgroupResult:
    """Per-level pooled results and the test of subgroup differences."""

    levels: tuple[str, ...]
    fits: tuple[MetaResult, ...]
    estimate: FloatArray
    se: FloatArray
    q_between: float
    q_between_df: tuple[int, int | None]
    q_between_p: float
    tau2_convention: str
    common_tau2: float | None
    method: str
    test: str
    level: float

    def fit(self, level: Hashable) -> MetaResult:
        """The separate pooled result for one level."""
        return self.fits[self.levels.index(str(level))]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports."""
        return {
            "levels": list(self.levels),
            "fits": {lv: f.to_dict() for lv, f in zip(self.levels, self.fits, strict=True)},
            "estimate": self.estimate.tolist(),
            "se": self.se.tolist(),
            "q_between": self.q_between,
            "q_between_df": list(self.q_between_df),
            "q_between_p": self.q_between_p,
            "tau2_convention": self.tau2_convention,
            "common_tau2": self.common_tau2,
            "method": self.method,
            "test": self.test,
            "level": self.level,
        }

    def summary(self) -> str:
        """Per-level lines and the Q-between test."""
        rows = [f"Subgroups ({self.tau2_convention} tau^2; {self.method}, test {self.test})"]
        for i, (lv, f) in enumerate(zip(self.levels, self.fits, strict=True)):
            rows.append(
                f"  {lv}: k = {f.k}, estimate = {self.estimate[i]:.4f} (SE {self.se[i]:.4f}),"
                f" tau^2 = {f.tau2:.4f}, I^2 = {f.i2:.1f}%"
            )
        df = self.q_between_df
        name = f"Q_between(df = {df[0]})" if df[1] is None else f"F({df[0]}, {df[1]})"
        rows.append(f"  Test of subgroup differences: {name} = {self.q_between:.4f},"
                    f" p = {self.q_between_p:.4g}")  # fmt: skip
        return "\n".join(rows)


def _levels(groups: Sequence[Hashable], k: int) -> tuple[list[str], np.ndarray[Any, Any]]:
    labels = [str(g) for g in groups]
    if len(labels) != k:
        raise InputError(f"column 'groups': has {len(labels)} values, 'yi' has {k}")
    order = list(dict.fromkeys(labels))
    if len(order) < 2:
        raise InputError("column 'groups': a subgroup test needs at least 2 levels")
    return order, np.array([order.index(lb) for lb in labels])


def q_between(estimate: FloatArray, se: FloatArray) -> tuple[float, int, float]:
    """Wald-type heterogeneity of level estimates: ``(Q_b, G - 1, p)`` (χ² reference)."""
    w = 1.0 / se**2
    mean = float(np.sum(w * estimate) / np.sum(w))
    q = float(np.sum(w * (estimate - mean) ** 2))
    df = estimate.size - 1
    return q, df, float(sps.chi2.sf(q, df))


def subgroup_analysis(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    groups: Sequence[Hashable],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    tau2: Tau2Convention = "separate",
    measure: str = "GEN",
) -> SubgroupResult:
    """Pool within each subgroup and test for subgroup differences.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    groups
        Subgroup label per study (any hashable; compared as strings).
    method, test, level
        Passed to every ``rma`` fit (metafor defaults ``"REML"``, ``"z"``, ``95``).
    tau2
        ``"separate"`` (default; τ² per subgroup, Wald Q-between on the estimates) or
        ``"common"`` (one τ² via the meta-regression on the subgroup factor).
    measure
        Effect-size scale, forwarded to ``rma`` for back-transformation.

    Returns
    -------
    SubgroupResult
        Separate per-level ``MetaResult`` fits, the estimates used in the test, Q-between.
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    names, idx = _levels(groups, k)
    fits = tuple(
        rma(y[idx == g], v[idx == g], method=method, test=test, level=level, measure=measure)
        for g in range(len(names))
    )
    if tau2 == "separate":
        est = np.array([f.estimate for f in fits])
        se = np.array([f.se for f in fits])
        q, df, p = q_between(est, se)
        return SubgroupResult(
            levels=tuple(names), fits=fits, estimate=est, se=se, q_between=q,
            q_between_df=(df, None), q_between_p=p, tau2_convention="separate",
            common_tau2=None, method=method, test=test, level=level,
        )  # fmt: skip
    if tau2 != "common":
        raise InputError(f"column 'tau2': unknown convention {tau2!r}; use 'separate' or 'common'")
    if method not in METHODS or test not in TESTS:
        raise InputError(f"column 'method': common tau^2 supports {METHODS} with tests {TESTS}")
    dummies = (idx[:, None] == np.arange(len(names))[None, :]).astype(np.float64)
    reg_method: RegMethod = method  # type: ignore[assignment]
    reg_test: RegTest = test  # type: ignore[assignment]
    omnibus = meta_regression(y, v, dummies[:, 1:], method=reg_method, test=reg_test, level=level)
    cells = meta_regression(
        y, v, dummies, intercept=False, method=reg_method, test=reg_test, level=level
    )
    return SubgroupResult(
        levels=tuple(names), fits=fits, estimate=cells.beta, se=cells.se,
        q_between=omnibus.qm, q_between_df=omnibus.qm_df, q_between_p=omnibus.qm_p,
        tau2_convention="common", common_tau2=omnibus.tau2, method=method, test=test,
        level=level,
    )  # fmt: skip
