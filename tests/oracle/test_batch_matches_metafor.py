"""``rma_batch`` against metafor 3.8-1 ``rma()`` (+ ``predict``, ``confint``), row by row.

320 seeded ragged datasets (k = 1 to 40; logit proportions with zero/all-event studies and
generic effect sizes) are fitted by metafor in the session's R process, for every estimator
``rma_batch`` runs vectorised (and PM through its row-by-row path) and both tests; each
row of the batch must agree with metafor to 1e-6 relative on every number metafor reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from postcart.stats import escalc
from postcart.stats.batch import rma_batch

from .compare import WorstDiff, mismatches
from .r_session import RSession

pytestmark = pytest.mark.metafor

SEED = 20261125
N_DATASETS = 320
METHODS = ("REML", "DL", "FE", "ML", "HE", "HS", "EB", "PM")
TESTS = ("knha", "z")
LEVELS = (95.0, 90.0)


def datasets() -> list[dict[str, Any]]:
    """Seeded datasets; odd ones are logit proportions (with 0/n studies), even ones generic."""
    rng = np.random.default_rng(SEED)
    out = []
    for i in range(N_DATASETS):
        k = int(rng.choice([1, 2, 2, 3, 4, 6, 9, 14, 20, 30, 40]))
        if i % 2:
            ni = rng.choice([5, 12, 30, 80, 250, 1000], size=k)
            p = 1 / (1 + np.exp(-rng.normal(rng.normal(-0.5, 1.2), rng.uniform(0, 1.2), k)))
            xi = rng.binomial(ni, p)
            sizes = escalc("PLO", xi=xi, ni=ni)
            yi, vi, measure = sizes.yi, sizes.vi, "PLO"
        else:
            yi = rng.normal(0.3, rng.uniform(0, 0.8), size=k)
            vi = rng.exponential(0.1, size=k) + 1e-3
            measure = "GEN"
        out.append({"id": f"b{i:03d}-k{k}-{measure}", "yi": yi.tolist(), "vi": vi.tolist(),
                    "measure": measure, "level": LEVELS[i % 3 == 0]})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def metafor_answers(r_session: RSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = datasets()
    answers = r_session.call(
        "oracle_rma_grid(d$datasets, d$methods, d$tests)",
        {"datasets": data, "methods": list(METHODS), "tests": list(TESTS)},
    )
    return data, answers


def _padded(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = max(len(r["yi"]) for r in rows)
    yi, vi = np.zeros((len(rows), width)), np.ones((len(rows), width))
    mask = np.zeros((len(rows), width), dtype=bool)
    for j, row in enumerate(rows):
        k = len(row["yi"])
        yi[j, :k], vi[j, :k], mask[j, :k] = row["yi"], row["vi"], True
    return yi, vi, mask


@pytest.mark.parametrize("method", METHODS)
def test_batch_rows_match_metafor(
    method: str, metafor_answers: tuple[list[Any], list[Any]]
) -> None:
    data, answers = metafor_answers
    per_dataset = len(METHODS) * len(TESTS)
    worst, compared, failures = WorstDiff(), 0, []
    for t_index, test in enumerate(TESTS):
        for measure in ("PLO", "GEN"):
            for level in LEVELS:
                rows = [i for i, d in enumerate(data) if d["measure"] == measure
                        and d["level"] == level]  # fmt: skip
                yi, vi, mask = _padded([data[i] for i in rows])
                batch = rma_batch(yi, vi, mask, method=method, test=test, level=level,
                                  measure=measure)  # fmt: skip
                for j, i in enumerate(rows):
                    theirs = answers[i * per_dataset + METHODS.index(method) * len(TESTS) + t_index]
                    ours = batch[j]
                    if "error" in theirs:
                        assert ours.status != "ok" or ours.warnings, data[i]["id"]
                        continue
                    compared += 1
                    failures += [f"{data[i]['id']}-{test}: {p}"
                                 for p in mismatches(ours, theirs, worst)]  # fmt: skip
    assert compared >= 600, compared
    assert not failures, "\n".join(failures[:25])
