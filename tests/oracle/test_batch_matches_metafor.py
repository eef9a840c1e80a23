"""``rma_batch`` against metafor 3.8-1 ``rma()`` (+ ``predict``, ``confint``), row by row.

320 seeded ragged datasets (k = 1 to 40; logit proportions with zero/all-event studies and
generic effect sizes) are fitted by metafor in the session's R process, for every estimator
``rma_batch`` runs vectorised (and PM through its row-by-row path); each row of the batch
must agree with metafor to 1e-6 relative on every number metafor reports.

Tests z and knha run on all 320 datasets, t and adhoc on half of them (both measures, both
levels, every k): they differ from z and knha only in the variance factor and the critical
value, and all four tests on every dataset took the module from ~32 s to ~60 s on 2 cores
(~47 s this way).

A further 16 datasets of event counts go through metafor's ``escalc(measure = "PFT")``,
``rma()`` and ``predict(transf = transf.ipft.hm, targs = list(ni = ni))`` for every
estimator and test; ``rma_batch(measure="PFT", ni=...)`` on metafor's yi/vi must give the
same rows and back-transformed proportions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from postcart.stats import escalc
from postcart.stats.batch import rma_batch
from postcart.stats.inference import TESTS

from .compare import WorstDiff, mismatches
from .r_session import RSession

pytestmark = pytest.mark.metafor

SEED = 20261125
N_DATASETS = 320
METHODS = ("REML", "DL", "FE", "ML", "HE", "HS", "EB", "PM")
LEVELS = (95.0, 90.0)
#: Tests compared on every dataset; the rest of ``TESTS`` on datasets 0, 1, 4, 5, 8, 9, ...
EVERY_DATASET_TESTS = ("z", "knha")
N_PFT_DATASETS = 16


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
        tests = TESTS if i % 4 < 2 else EVERY_DATASET_TESTS
        out.append({"id": f"b{i:03d}-k{k}-{measure}", "yi": yi.tolist(), "vi": vi.tolist(),
                    "measure": measure, "level": LEVELS[i % 3 == 0],
                    "tests": list(tests)})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def metafor_answers(r_session: RSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = datasets()
    answers = r_session.call(
        "oracle_batch_grid(d$datasets, d$methods)", {"datasets": data, "methods": list(METHODS)}
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
    worst, compared, failures = WorstDiff(), 0, []
    for test in TESTS:
        for measure in ("PLO", "GEN"):
            for level in LEVELS:
                rows = [i for i, d in enumerate(data) if d["measure"] == measure
                        and d["level"] == level and test in d["tests"]]  # fmt: skip
                yi, vi, mask = _padded([data[i] for i in rows])
                batch = rma_batch(yi, vi, mask, method=method, test=test, level=level,
                                  measure=measure)  # fmt: skip
                for j, i in enumerate(rows):
                    tests = data[i]["tests"]
                    theirs = answers[i][METHODS.index(method) * len(tests) + tests.index(test)]
                    ours = batch[j]
                    if "error" in theirs:
                        assert ours.status != "ok" or ours.warnings, data[i]["id"]
                        continue
                    compared += 1
                    failures += [f"{data[i]['id']}-{test}: {p}"
                                 for p in mismatches(ours, theirs, worst)]  # fmt: skip
    assert compared >= 0.9 * sum(len(d["tests"]) for d in data), compared
    assert not failures, "\n".join(failures[:25])


def pft_datasets() -> list[dict[str, Any]]:
    """Seeded event counts for PFT: rare events (several 0/n studies), an n/n study, k = 1,
    sizes 5 to 1000 in one dataset (metafor's harmonic mean is then far from most studies),
    with and without escalc's continuity correction."""
    rng = np.random.default_rng(SEED + 1)
    out = []
    for i in range(N_PFT_DATASETS):
        k = int(rng.choice([1, 2, 3, 5, 8, 13])) if i else 1
        ni = rng.choice([5, 12, 30, 80, 250, 1000], size=k)
        p = 0.01 if i % 3 == 0 else rng.uniform(0.05, 0.95)
        xi = rng.binomial(ni, p)
        if i % 4 == 1:
            xi[0] = ni[0]
        out.append({"id": f"pft{i:02d}-k{k}", "xi": xi.tolist(), "ni": ni.tolist(),
                    "add": 0.5 * (i % 2), "level": LEVELS[i % 3 == 0]})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def metafor_pft_answers(r_session: RSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = pft_datasets()
    answers = r_session.call(
        "oracle_batch_pft(d$datasets, d$methods, d$tests)",
        {"datasets": data, "methods": list(METHODS), "tests": list(TESTS)},
    )
    for row, answer in zip(data, answers, strict=True):
        row["yi"], row["vi"] = _listed(answer["yi"]), _listed(answer["vi"])
    return data, [answer["fits"] for answer in answers]


def _listed(value: Any) -> list[Any]:
    """jsonlite unboxes a length-1 vector to a scalar; k = 1 datasets need it back as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("method", METHODS)
def test_pft_batch_rows_match_metafor(
    method: str, metafor_pft_answers: tuple[list[Any], list[Any]]
) -> None:
    data, fits = metafor_pft_answers
    worst, compared, failures = WorstDiff(), 0, []
    assert any(0 in d["xi"] for d in data), "no zero-event study"
    for t_index, test in enumerate(TESTS):
        for level in LEVELS:
            rows = [i for i, d in enumerate(data) if d["level"] == level]
            yi, vi, mask = _padded([data[i] for i in rows])
            ni = np.ones_like(yi)
            for j, i in enumerate(rows):
                ni[j, : len(data[i]["ni"])] = data[i]["ni"]
            batch = rma_batch(yi, vi, mask, method=method, test=test, level=level,
                              measure="PFT", ni=ni)  # fmt: skip
            for j, i in enumerate(rows):
                theirs = fits[i][METHODS.index(method) * len(TESTS) + t_index]
                if "error" in theirs:
                    assert batch[j].status != "ok" or batch[j].warnings, data[i]["id"]
                    continue
                compared += 1
                failures += [f"{data[i]['id']}-{test}: {p}"
                             for p in mismatches(batch[j], theirs, worst)]  # fmt: skip
    assert compared >= N_PFT_DATASETS * len(TESTS) - 4, compared
    assert not failures, "\n".join(failures[:25])
