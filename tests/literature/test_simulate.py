"""Screening metrics by hand, TF-IDF and models on toy data, and the Nagtegaal benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from postcart.literature.linear import fit_linear_svm, fit_logistic
from postcart.literature.prioritise import ModelKind, Prioritiser
from postcart.literature.simulate import (
    metrics,
    random_records_to_recall,
    read_labelled_csv,
    simulate,
)
from postcart.literature.tfidf import tfidf


def test_metrics_by_hand() -> None:
    # N = 10, R = 4, inclusions at positions 1, 2, 5, 9 (1-based).
    # 95 % recall needs ceil(3.8) = 4 found -> k = 9; WSS@95 = (10 - 9)/10 - 0.05 = 0.05
    # 100 % recall also at k = 9 -> WSS@100 = 0.1
    order = [1, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    found = metrics([bool(v) for v in order])
    assert (found.records_to_95, found.records_to_100) == (9, 9)
    assert found.wss95 == pytest.approx(0.05)
    assert found.wss100 == pytest.approx(0.1)
    assert found.recall_curve[:3] == (0.25, 0.5, 0.5)


def test_random_expectation_by_hand() -> None:
    # the j-th of R=1 inclusion among N=9 records: mean position (9 + 1)/(1 + 1) = 5
    assert random_records_to_recall(9, 1, 0.95) == 5.0
    # 95 % of R=20 -> 19th inclusion; N=99 -> 19 * 100 / 21
    assert random_records_to_recall(99, 20, 0.95) == pytest.approx(19 * 100 / 21)


def test_tfidf_by_hand() -> None:
    # two documents, unigrams: "car" in both (idf = log(3/3)+1 = 1), "cell" in one (log(3/2)+1)
    result = tfidf(["car cell", "car"], max_n=1, max_df=1.0)
    row0 = dict(zip(result.terms, result.matrix.toarray()[0], strict=True))
    idf_cell = np.log(1.5) + 1.0
    norm = np.sqrt(1.0 + idf_cell**2)
    assert row0["car"] == pytest.approx(1.0 / norm)
    assert row0["cell"] == pytest.approx(idf_cell / norm)
    assert result.matrix.toarray()[1].tolist() == [1.0, 0.0]


def test_models_separate_toy_data() -> None:
    texts = ["lymphoma car t relapse"] * 3 + ["cardiology stent trial"] * 9
    x = tfidf(texts).matrix
    y = np.array([True] * 3 + [False] * 9)
    for model in (fit_logistic(x, y), fit_linear_svm(x, y, c=1.0)):
        scores = model.score(x)
        assert scores[:3].min() > scores[3:].max()


def test_prioritiser_puts_similar_records_first() -> None:
    texts = ["car t relapse lymphoma", "stent", "car t lymphoma salvage", "knee", "stent knee"]
    ranking = Prioritiser(texts).rank({0: True, 1: False})
    assert ranking[0] == 2


@pytest.mark.slow
def test_nagtegaal_wss95_beats_target_and_svm_baseline(shared_dir: Path) -> None:
    data = read_labelled_csv(shared_dir / "data/screening/Nagtegaal_2019.csv", "label_included")
    assert (len(data.labels), sum(data.labels)) == (2019, 101)  # data/README.md
    logistic = simulate(data, ModelKind.LOGISTIC, seed=0)
    svm = simulate(data, ModelKind.SVM, seed=0)
    assert logistic.metrics.wss95 >= 0.65
    assert logistic.metrics.wss95 > svm.metrics.wss95
    assert logistic.metrics.wss95 > logistic.random_wss95 + 0.5
    again = simulate(data, ModelKind.LOGISTIC, seed=0)
    assert again.order == logistic.order  # deterministic with a seed
