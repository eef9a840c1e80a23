"""Seeded random datasets for the live metafor comparison, edge cases included on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np

from postcart.stats import escalc

#: How many random datasets are drawn (each is fitted with every estimator and every test).
N_DATASETS = 320
#: Fixed seed: the same datasets on every run and machine.
SEED = 20261124
MEASURES = ("PLO", "PR", "PAS", "PFT", "GEN")
METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
TESTS = ("z", "t", "knha", "adhoc")
#: Study sizes mixing n = 1 and huge n, so the weights span many orders of magnitude.
SIZES = (1, 2, 5, 12, 30, 80, 250, 1000, 50_000, 2_000_000)


def _counts(rng: np.random.Generator, k: int, kind: int) -> tuple[list[int], list[int]]:
    ni = rng.choice(SIZES, size=k)
    if kind == 0:  # zero events everywhere
        xi = np.zeros(k, dtype=int)
    elif kind == 1:  # all events everywhere
        xi = ni.copy()
    elif kind == 2:  # identical studies
        ni = np.full(k, ni[0])
        xi = np.full(k, rng.integers(0, ni[0] + 1))
    else:
        p = 1 / (1 + np.exp(-rng.normal(rng.normal(-0.3, 1.5), rng.uniform(0, 1.5), size=k)))
        xi = rng.binomial(ni, p)
    return [int(x) for x in xi], [int(n) for n in ni]


def random_datasets() -> list[dict[str, Any]]:
    """Datasets with ids such as ``r017-k5-PLO``; proportion data carry xi/ni and yi/vi."""
    rng = np.random.default_rng(SEED)
    datasets = []
    for i in range(N_DATASETS):
        k = int(rng.choice([1, 1, 2, 2, 3, 4, 5, 7, 10, 15, 25, 60]))
        measure = MEASURES[i % len(MEASURES)]
        kind = int(rng.integers(0, 12))
        if measure == "GEN":
            yi = rng.normal(0.2, rng.uniform(0, 1.0), size=k)
            vi = rng.exponential(0.1, size=k) + 1e-4
            if kind == 2:
                yi, vi = np.full(k, yi[0]), np.full(k, vi[0])
            data: dict[str, Any] = {"yi": yi.tolist(), "vi": vi.tolist()}
        else:
            xi, ni = _counts(rng, k, kind)
            sizes = escalc(measure, xi=xi, ni=ni)
            data = {"xi": xi, "ni": ni, "yi": sizes.yi.tolist(), "vi": sizes.vi.tolist()}
        data.update(id=f"r{i:03d}-k{k}-{measure}", measure=measure, level=(95, 90, 99)[i % 3])
        datasets.append(data)
    return datasets


def fits(datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One case per dataset × estimator × test, in the form ``oracle_rma`` expects."""
    return [
        {**data, "id": f"{data['id']}-{method}-{test}", "method": method, "test": test}
        for data in datasets
        for method in METHODS
        for test in TESTS
    ]
