"""Baujat plot data as metafor's ``baujat()``: which studies drive heterogeneity, and which
move the pooled estimate (Baujat et al. 2002, Stat Med 21:2641).

For study i of an intercept-only model with estimate μ̂ and τ̂²:

* x (contribution to heterogeneity) = (yᵢ − μ̂)² / (vᵢ + τ̂²), the squared Pearson residual;
  under a common-effect model the x values sum to Q.
* y (influence on the pooled result) = (μ̂₍₋ᵢ₎ − μ̂)² / Var(μ̂₍₋ᵢ₎), from the model refitted
  without study i (its own τ², and its Knapp–Hartung-scaled variance under ``test="knha"``).

A study far right is inconsistent with the rest; one high up changes the answer. The two
together say whether a heterogeneous study also matters, which I² cannot. The k
leave-one-out fits run at once through :func:`rma_batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats._checks import FloatArray, effects_and_variances
from postcart.stats.batch import rma_batch
from postcart.stats.rma import rma


@dataclass(frozen=True)
class Baujat:
    """One point per study; ``xlab``/``ylab`` are metafor's axis titles."""

    x: FloatArray
    y: FloatArray
    labels: tuple[str, ...]
    estimate: float
    tau2: float
    method: str
    test: str
    xlab: str
    ylab: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON."""
        return {
            "study": list(self.labels), "x": self.x.tolist(), "y": self.y.tolist(),
            "estimate": self.estimate, "tau2": self.tau2, "method": self.method,
            "test": self.test, "xlab": self.xlab, "ylab": self.ylab,
        }  # fmt: skip


def baujat(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    labels: Sequence[str] | None = None,
) -> Baujat:
    """Baujat-plot coordinates, as ``baujat(rma(yi, vi, method=method, test=test))``.

    Needs k ≥ 2 (metafor stops for k = 1: there is nothing to leave out).
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    if k < 2:
        raise InputError(f"column 'yi': a Baujat plot needs at least 2 studies, got {k}")
    names = tuple(str(i) for i in range(1, k + 1)) if labels is None else tuple(map(str, labels))
    if len(names) != k:
        raise InputError(f"labels: {len(names)} labels for {k} studies")
    full = rma(y, v, method=method, test=test, level=level)
    if full.status == "failed":
        raise InputError(f"no pooled estimate to compare with: {full.reason}")
    tau2 = 0.0 if method == "FE" else full.tau2
    mask = ~np.eye(k, dtype=bool)  # row i leaves study i out
    left_out = rma_batch(np.broadcast_to(y, (k, k)), np.broadcast_to(v, (k, k)), mask,
                         method=method, test=test, level=level)  # fmt: skip
    x = (y - full.estimate) ** 2 / (v + tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        influence = (left_out.estimate - full.estimate) ** 2 / left_out.se**2
    common = method == "FE"
    return Baujat(
        x=x, y=np.asarray(influence, dtype=np.float64), labels=names, estimate=full.estimate,
        tau2=tau2, method=method, test=full.test,
        xlab="Contribution to Overall Heterogeneity" if common else "Squared Pearson Residual",
        ylab="Influence on Overall Result",
    )  # fmt: skip
