"""Replay a finished screening with the prioritiser to measure how much work it would have saved.

A labelled set (``record_id,title,abstract,label_included[,label_abstract_screening]``) is screened
again in the order the model proposes, starting from a few seeded "prior" decisions; the recall
curve and work saved over sampling (WSS, Cohen 2006) are compared with random order. Priors are
left out of every metric (as asreview-insights does), so the model gets no credit for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from postcart.errors import InputError
from postcart.literature.prioritise import ModelKind, Prioritiser, screening_text


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Texts and 0/1 labels of a finished screening."""

    record_ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: tuple[bool, ...]
    label_column: str


def read_labelled_csv(path: str | Path, label_column: str = "label_included") -> LabelledSet:
    """Load a labelled screening CSV; a missing column or non-0/1 label raises InputError."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        detail = " ".join(str(error).split()).removeprefix("Error tokenizing data. C error: ")
        raise InputError(f"{path}: not a readable CSV table ({detail})") from None
    for column in ("record_id", "title", "abstract", label_column):
        if column not in frame.columns:
            raise InputError(f"{path}: column {column!r} missing")
    bad = frame.index[~frame[label_column].isin(["0", "1"])]
    if len(bad):
        raise InputError(f"{path}: row {int(bad[0]) + 2}: {label_column} must be 0 or 1")
    texts = [screening_text(t, a) for t, a in zip(frame["title"], frame["abstract"], strict=True)]
    return LabelledSet(
        tuple(frame["record_id"]), tuple(texts), tuple(frame[label_column] == "1"), label_column
    )


@dataclass(frozen=True, slots=True)
class Metrics:
    """Screening-effort figures for one order of the non-prior records."""

    n_records: int
    n_included: int
    records_to_95: int
    records_to_100: int
    wss95: float
    wss100: float
    recall_curve: tuple[float, ...]


def records_to_recall(found: Sequence[int] | np.ndarray, n_included: int, recall: float) -> int:
    """Records screened until ``found`` reaches ``ceil(recall * n_included)`` inclusions."""
    needed = math.ceil(round(recall * n_included, 9))
    return int(np.searchsorted(np.asarray(found), needed) + 1)


def metrics(ordered_labels: Sequence[bool]) -> Metrics:
    """WSS@r = (N - k_r) / N - (1 - r), k_r = records screened to reach recall r."""
    labels = np.asarray(ordered_labels, dtype=bool)
    n, r = labels.size, int(labels.sum())
    if r == 0:
        raise InputError("no included records left after the priors: nothing to find")
    found = np.cumsum(labels)
    k95 = records_to_recall(found, r, 0.95)
    k100 = records_to_recall(found, r, 1.0)
    return Metrics(
        n_records=n,
        n_included=r,
        records_to_95=k95,
        records_to_100=k100,
        wss95=(n - k95) / n - 0.05,
        wss100=(n - k100) / n,
        recall_curve=tuple(float(v) for v in found / r),
    )


def random_records_to_recall(n_records: int, n_included: int, recall: float) -> float:
    """Expected records screened in random order to find ``ceil(recall * R)`` of ``R`` inclusions.

    The j-th inclusion of R among N shuffled records sits on average at ``j (N + 1) / (R + 1)``.
    """
    needed = math.ceil(round(recall * n_included, 9))
    return needed * (n_records + 1) / (n_included + 1)


@dataclass(frozen=True, slots=True)
class Simulation:
    """One simulated screening: priors, the order that followed, and its metrics."""

    model: ModelKind
    seed: int
    priors: tuple[int, ...]
    order: tuple[int, ...]
    metrics: Metrics
    random_records_to_95: float
    random_wss95: float
    n_retrains: int


def seeded_priors(labels: Sequence[bool], n_included: int, n_excluded: int, seed: int) -> list[int]:
    """Deterministic prior picks: ``n_included`` relevant and ``n_excluded`` irrelevant rows."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=bool)
    pos = rng.choice(np.flatnonzero(y), size=n_included, replace=False)
    neg = rng.choice(np.flatnonzero(~y), size=n_excluded, replace=False)
    return sorted(int(i) for i in np.concatenate([pos, neg]))


def simulate(
    data: LabelledSet,
    model: ModelKind = ModelKind.LOGISTIC,
    seed: int = 0,
    n_prior_included: int = 2,
    n_prior_excluded: int = 2,
    min_batch: int = 5,
    growth: float = 0.05,
) -> Simulation:
    """Screen ``data`` in model order; the batch grows with the labels (``growth`` x labelled).

    Retraining after every batch rather than every record keeps the run to seconds; once every
    inclusion has been found the remaining records are appended in the last ranking.
    """
    prioritiser = Prioritiser(data.texts, model=model, seed=seed)
    priors = seeded_priors(data.labels, n_prior_included, n_prior_excluded, seed)
    labels: dict[int, bool] = {i: data.labels[i] for i in priors}
    remaining_relevant = sum(data.labels) - sum(labels.values())
    order: list[int] = []
    retrains = 0
    while len(labels) < len(data.labels):
        ranking = prioritiser.rank(labels)
        retrains += 1
        if remaining_relevant == 0:
            order.extend(ranking)
            break
        batch = max(min_batch, int(growth * len(labels)))
        for index in ranking[:batch]:
            labels[index] = data.labels[index]
            remaining_relevant -= data.labels[index]
            order.append(index)
    found = metrics([data.labels[i] for i in order])
    random_k95 = random_records_to_recall(found.n_records, found.n_included, 0.95)
    return Simulation(
        model=model,
        seed=seed,
        priors=tuple(priors),
        order=tuple(order),
        metrics=found,
        random_records_to_95=random_k95,
        random_wss95=(found.n_records - random_k95) / found.n_records - 0.05,
        n_retrains=retrains,
    )
