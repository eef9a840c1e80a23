"""Cumulative meta-analysis: one ``cumul()`` (all k prefix fits through ``rma_batch``)
against a naive loop of k ``rma()`` calls, on the same seeded data; prints the ratio.

Exits non-zero when the two disagree (1e-10 relative on estimate, se and τ²); a missed
speed target prints MISSED but does not fail (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from postcart.stats import cumul, rma

TARGET = 5.0  # cumul() at least 5x faster than the loop at k = 200


def _best_of(repeats: int, call: object) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=200, help="studies (= cumulative steps)")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    ni = rng.integers(10, 400, size=args.k)
    vi = 4.0 / ni
    yi = rng.normal(0.4, np.sqrt(vi + 0.1))
    order = rng.permutation(args.k)

    def loop() -> list[float]:
        idx = np.argsort(order, kind="stable")
        return [rma(yi[idx[: j + 1]], vi[idx[: j + 1]], test="knha").estimate
                for j in range(args.k)]  # fmt: skip

    def vectorised() -> np.ndarray:
        return cumul(yi, vi, order=order.tolist(), test="knha").estimate

    fast, slow = _best_of(3, vectorised), _best_of(1, loop)
    res = cumul(yi, vi, order=order.tolist(), test="knha")
    idx = np.argsort(order, kind="stable")
    worst = 0.0
    for j in range(args.k):
        single = rma(yi[idx[: j + 1]], vi[idx[: j + 1]], test="knha")
        for ours, ref in ((res.estimate[j], single.estimate), (res.se[j], single.se),
                          (res.tau2[j], single.tau2)):  # fmt: skip
            worst = max(worst, abs(ours - ref) / max(abs(ref), 1e-12))
    ratio = slow / fast
    flag = "" if ratio >= TARGET else "  MISSED"
    print(
        f"cumul(REML, knha), k = {args.k}: loop of rma {slow:.3f} s, cumul {fast:.3f} s "
        f"-> {ratio:.0f}x faster (target {TARGET:g}x){flag}  (agreement {worst:.1e})"
    )
    return 0 if worst <= 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
