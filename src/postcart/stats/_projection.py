"""The residual projection ``P = W − W X (X'WX)⁻¹ X'W`` that every τ² estimator is built from.

metafor writes each estimator in terms of a handful of quantities of ``P`` for the weights
at hand (``y'Py``, ``tr P``, ``Σᵢⱼ Pᵢⱼ² aᵢ bⱼ``, ``Py``, ``log|X'WX|``). Writing the estimators
once against this small interface lets the same code serve the intercept-only model, where
each quantity collapses to O(k) sums, and meta-regression with a ``k × p`` design matrix,
where ``P`` is formed through a QR decomposition of ``W^½ X`` (calendar-year moderators make
``X'WX`` too ill-conditioned for the normal equations).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from postcart.stats._checks import FloatArray


class Projection(Protocol):
    """What the τ² estimators need to know about ``P`` for one set of weights."""

    #: Columns of the design matrix (1 for the intercept-only model).
    p: int

    def rss(self, y: FloatArray) -> float:
        """``y'Py``: the weighted residual sum of squares (Cochran's Q for w = 1/v)."""

    def residuals(self, y: FloatArray) -> FloatArray:
        """``Py`` (so that ``y'PPy`` is its squared norm)."""

    def trace(self) -> float:
        """``tr P``."""

    def diagonal(self) -> FloatArray:
        """``diag P``."""

    def sum_sq(self, a: FloatArray | float = 1.0, b: FloatArray | float = 1.0) -> float:
        """``Σᵢⱼ Pᵢⱼ² aᵢ bⱼ`` (``tr PP``, ``tr PVPV``, ``Σ PV∘P`` for the right a, b)."""

    def logdet_xwx(self) -> float:
        """``log |X'WX|`` (the REML likelihood's extra term)."""


def sum_of_others(values: FloatArray) -> FloatArray:
    """For each cell, Σ of the other cells along the last axis (one dataset per row of a
    batch), from prefix and suffix sums: no cancellation when one study carries nearly all
    the weight, unlike total − value. Masked cells must be 0 (zeros add exactly)."""
    zeros = np.zeros((*values.shape[:-1], 1))
    prefix = np.concatenate((zeros, np.cumsum(values, axis=-1)[..., :-1]), axis=-1)
    suffix = np.cumsum(values[..., ::-1], axis=-1)[..., ::-1]
    return np.asarray(prefix + np.concatenate((suffix[..., 1:], zeros), axis=-1), dtype=np.float64)


class InterceptProjection:
    """``P`` for ``X = 1``: ``Pᵢᵢ = wᵢ(Σw − wᵢ)/Σw`` and ``Pᵢⱼ = −wᵢwⱼ/Σw``, never formed."""

    p = 1

    def __init__(self, w: FloatArray) -> None:
        self.w = w
        self.total = float(np.sum(w))

    def rss(self, y: FloatArray) -> float:
        mean = float(np.sum(self.w * y)) / self.total
        return float(np.sum(self.w * (y - mean) ** 2))

    def residuals(self, y: FloatArray) -> FloatArray:
        mean = float(np.sum(self.w * y)) / self.total
        return np.asarray(self.w * (y - mean), dtype=np.float64)

    def trace(self) -> float:
        return float(np.sum(self.diagonal()))

    def diagonal(self) -> FloatArray:
        return np.asarray(self.w * sum_of_others(self.w) / self.total, dtype=np.float64)

    def sum_sq(self, a: FloatArray | float = 1.0, b: FloatArray | float = 1.0) -> float:
        w = self.w
        a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), w.shape)
        b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), w.shape)
        diagonal = self.diagonal()
        off_diagonal = float(np.sum(w**2 * a_arr * sum_of_others(w**2 * b_arr))) / self.total**2
        return float(np.sum(diagonal**2 * a_arr * b_arr)) + off_diagonal

    def logdet_xwx(self) -> float:
        return math.log(self.total)


class DesignProjection:
    """``P`` for a general ``k × p`` design, as ``W^½ (I − QQ') W^½`` with ``QR = W^½ X``."""

    def __init__(self, X: FloatArray, w: FloatArray) -> None:
        self.p = X.shape[1]
        q, r = np.linalg.qr(np.sqrt(w)[:, None] * X)
        root_w = np.sqrt(w)
        self.matrix = np.asarray(
            root_w[:, None] * (np.eye(w.size) - q @ q.T) * root_w[None, :], dtype=np.float64
        )
        self._logdet = 2.0 * float(np.sum(np.log(np.abs(np.diag(r)))))

    def rss(self, y: FloatArray) -> float:
        return float(y @ self.matrix @ y)

    def residuals(self, y: FloatArray) -> FloatArray:
        return np.asarray(self.matrix @ y, dtype=np.float64)

    def trace(self) -> float:
        return float(np.trace(self.matrix))

    def diagonal(self) -> FloatArray:
        return np.asarray(np.diag(self.matrix), dtype=np.float64)

    def sum_sq(self, a: FloatArray | float = 1.0, b: FloatArray | float = 1.0) -> float:
        k = self.matrix.shape[0]
        a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), (k,))
        b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), (k,))
        return float(a_arr @ (self.matrix**2) @ b_arr)

    def logdet_xwx(self) -> float:
        return self._logdet


def projection(X: FloatArray | None, w: FloatArray) -> Projection:
    """``P`` for weights ``w``: the O(k) form when ``X`` is None (intercept only)."""
    if X is None:
        return InterceptProjection(w)
    return DesignProjection(X, w)
