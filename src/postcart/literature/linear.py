"""Linear classifiers on sparse TF-IDF rows: L2 logistic regression and a hinge-loss SVM.

Both weight classes so the rare inclusions (often < 5 % of a search) count as much as the mass of
exclusions; without it the model learns "exclude everything" and ranks at random.
Logistic regression is fitted by L-BFGS (``scipy.optimize``) and accepts a warm start, so
retraining after every batch of labels costs a few iterations, not a fit from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]


def balanced_weights(y: NDArray[np.bool_]) -> FloatArray:
    """Per-sample weights ``n / (2 n_class)``: both classes carry half the total weight."""
    n = y.size
    n_pos = int(y.sum())
    n_neg = n - n_pos
    w_pos = n / (2.0 * n_pos) if n_pos else 0.0
    w_neg = n / (2.0 * n_neg) if n_neg else 0.0
    return np.where(y, w_pos, w_neg)


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Coefficients and intercept of a fitted linear scorer."""

    coef: FloatArray
    intercept: float

    def score(self, x: sp.csr_matrix) -> FloatArray:
        """Decision values ``x @ coef + intercept`` (higher = more likely relevant)."""
        return np.asarray(x @ self.coef, dtype=float) + self.intercept


def fit_logistic(
    x: sp.csr_matrix,
    y: NDArray[np.bool_],
    c: float = 1.0,
    warm: LinearModel | None = None,
    max_iter: int = 200,
    gtol: float = 1e-4,
) -> LinearModel:
    """Minimise ``C * sum_i w_i log(1 + exp(-s_i z_i)) + ||coef||^2 / 2`` (intercept unpenalised).

    ``s_i = +1`` for relevant, ``-1`` otherwise; ``w_i`` are :func:`balanced_weights`.
    """
    signs = np.where(y, 1.0, -1.0)
    weights = c * balanced_weights(y)
    n_features = x.shape[1]
    # Columns no labelled row uses have gradient = coef, so their optimum is 0: fit the rest only.
    active = np.unique(x.indices)
    x = x[:, active].tocsr()
    xt = x.T.tocsr()

    def objective(params: FloatArray) -> tuple[float, FloatArray]:
        coef, intercept = params[:-1], params[-1]
        margin = signs * (np.asarray(x @ coef) + intercept)
        loss = float(weights @ np.logaddexp(0.0, -margin)) + 0.5 * float(coef @ coef)
        # d/dz log(1 + e^{-s z}) = -s * sigmoid(-s z)
        slope = -signs * weights * np.exp(-np.logaddexp(0.0, margin))
        grad = np.empty_like(params)
        grad[:-1] = np.asarray(xt @ slope) + coef
        grad[-1] = slope.sum()
        return loss, grad

    start = np.zeros(active.size + 1)
    if warm is not None and warm.coef.size == n_features:
        start[:-1] = warm.coef[active]
        start[-1] = warm.intercept
    options = {"maxiter": max_iter, "gtol": gtol}
    result = minimize(objective, start, jac=True, method="L-BFGS-B", options=options)
    params = np.asarray(result.x, dtype=float)
    coef = np.zeros(n_features)
    coef[active] = params[:-1]
    return LinearModel(coef, float(params[-1]))


def fit_linear_svm(
    x: sp.csr_matrix,
    y: NDArray[np.bool_],
    c: float = 0.1,
    epochs: int = 20,
    tol: float = 1e-3,
    seed: int = 0,
) -> LinearModel:
    """Hinge-loss SVM ``C sum_i w_i max(0, 1 - s_i z_i) + ||w||^2 / 2``, dual coordinate descent.

    The dual has box constraints ``0 <= alpha_i <= C w_i``; each coordinate step is exact, so the
    true (non-smoothed) hinge is solved. The intercept is an extra constant feature, as LIBLINEAR
    does (Hsieh et al. 2008, ICML).
    """
    signs = np.where(y, 1.0, -1.0)
    upper = c * balanced_weights(y)
    n, n_features = x.shape
    w = np.zeros(n_features + 1)
    alpha = np.zeros(n)
    indptr, indices, data = x.indptr, x.indices, x.data
    rows = [(indices[indptr[i] : indptr[i + 1]], data[indptr[i] : indptr[i + 1]]) for i in range(n)]
    qii = np.array([float(d @ d) + 1.0 for _, d in rows])
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        largest_step = 0.0
        for i in rng.permutation(n):
            idx, val = rows[i]
            gradient = signs[i] * (float(w[idx] @ val) + w[-1]) - 1.0
            new_alpha = min(max(alpha[i] - gradient / qii[i], 0.0), upper[i])
            step = new_alpha - alpha[i]
            if step != 0.0:
                w[idx] += step * signs[i] * val
                w[-1] += step * signs[i]
                alpha[i] = new_alpha
                largest_step = max(largest_step, abs(step))
        if largest_step < tol:
            break
    return LinearModel(w[:-1].copy(), float(w[-1]))
