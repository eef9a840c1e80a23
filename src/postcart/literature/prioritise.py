"""Order unscreened records so the likely inclusions come first (active learning).

Each time labels arrive the linear model is refitted on every labelled record and the rest are
ranked by decision value ("certainty" querying). Until both an inclusion and an exclusion are
known there is nothing to learn from, so records keep their import order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import numpy as np
import scipy.sparse as sp

from postcart.literature.linear import LinearModel, fit_linear_svm, fit_logistic
from postcart.literature.tfidf import tfidf


class ModelKind(StrEnum):
    """Which classifier scores the records."""

    LOGISTIC = "logistic"
    SVM = "svm"


#: Regularisation strength per model, set once a priori (not tuned on the benchmark sets).
DEFAULT_C = {ModelKind.LOGISTIC: 4.0, ModelKind.SVM: 0.1}


def screening_text(title: str, abstract: str) -> str:
    """The text the model reads: the title counts twice because it is dense with topic words."""
    return f"{title} {title} {abstract}"


class Prioritiser:
    """Ranks the records of one project; keeps the last model to warm-start the next fit."""

    def __init__(
        self,
        texts: Sequence[str],
        model: ModelKind = ModelKind.LOGISTIC,
        c: float | None = None,
        seed: int = 0,
    ) -> None:
        self.features: sp.csr_matrix = tfidf(texts).matrix
        self.model = model
        self.c = DEFAULT_C[model] if c is None else c
        self.seed = seed
        self._last: LinearModel | None = None

    def fit(self, labels: Mapping[int, bool]) -> LinearModel | None:
        """Fit on ``labels`` (row index -> relevant); ``None`` while one class is still missing."""
        if not labels:
            return None
        rows = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        y = np.fromiter(labels.values(), dtype=bool, count=len(labels))
        if y.all() or not y.any():
            return None
        x = self.features[rows]
        if self.model is ModelKind.LOGISTIC:
            self._last = fit_logistic(x, y, c=self.c, warm=self._last)
        else:
            self._last = fit_linear_svm(x, y, c=self.c, seed=self.seed)
        return self._last

    def rank(self, labels: Mapping[int, bool]) -> list[int]:
        """Unlabelled row indices, most likely relevant first (ties: lower index first)."""
        unlabelled = np.array(
            [i for i in range(self.features.shape[0]) if i not in labels], dtype=np.int64
        )
        fitted = self.fit(labels)
        if fitted is None or unlabelled.size == 0:
            return [int(i) for i in unlabelled]
        scores = fitted.score(self.features[unlabelled])
        order = np.lexsort((unlabelled, -scores))
        return [int(i) for i in unlabelled[order]]
