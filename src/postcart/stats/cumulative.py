"""Cumulative meta-analysis as metafor's ``cumul()``: the pooled result after each study is
added, in the order of a key (publication date, living-review update number, …).

A living review changes its numbers one update at a time; the cumulative analysis shows when
an estimate settled and which update moved it, which the final pooled number alone cannot.

Step j pools the first j studies of the ordering with the same model (τ² estimator, test,
level) as the full analysis, exactly as ``cumul.rma.uni`` refits ``rma.uni`` on
``subset = 1:j``; the first step (k = 1) uses z, as metafor does. Ties in the key keep the
input order (R's ``order()`` is stable, also with ``decreasing=TRUE``).

All k fits run at once through :func:`rma_batch` with a triangular mask, rather than k
separate ``rma`` calls (``benchmarks/bench_cumul.py`` prints the ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats._checks import FloatArray, as_vector, effects_and_variances
from postcart.stats.batch import rma_batch
from postcart.stats.batch_result import BatchResult
from postcart.stats.results import Status

#: Per-step arrays, named like ``MetaResult`` fields.
STEP_FIELDS: tuple[str, ...] = (
    "estimate", "se", "stat", "pval", "ci_low", "ci_high", "pi_low", "pi_high",
    "q", "q_p", "tau2", "i2", "h2",
)  # fmt: skip


@dataclass(frozen=True)
class Cumulative:
    """One row per step: the model refitted on the first ``k[j]`` studies of ``order``.

    ``order`` holds the 0-based input index of the study added at each step, ``labels``
    its label and ``keys`` its value of the ordering key. ``back_*`` are the proportion-scale
    estimate and CI (NaN for ``measure="GEN"``). ``fits[j]`` is the full ``MetaResult``.
    """

    order: tuple[int, ...]
    labels: tuple[str, ...]
    keys: tuple[Any, ...]
    k: npt.NDArray[np.int64]
    estimate: FloatArray
    se: FloatArray
    stat: FloatArray
    pval: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    pi_low: FloatArray
    pi_high: FloatArray
    q: FloatArray
    q_p: FloatArray
    tau2: FloatArray
    i2: FloatArray
    h2: FloatArray
    back_estimate: FloatArray
    back_ci_low: FloatArray
    back_ci_high: FloatArray
    status: tuple[Status, ...]
    measure: str
    method: str
    test: str
    level: float
    decreasing: bool
    fits: BatchResult

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python columns (NaN → ``None``) for JSON and tables."""
        out: dict[str, Any] = {
            "study": list(self.labels),
            "key": [_plain(key) for key in self.keys],
            "order": [i + 1 for i in self.order],
            "k": self.k.tolist(),
        }
        for name in (*STEP_FIELDS, "back_estimate", "back_ci_low", "back_ci_high"):
            out[name] = [_finite_or_none(v) for v in getattr(self, name)]
        out["status"] = list(self.status)
        out.update(measure=self.measure, method=self.method, test=self.test, level=self.level,
                   decreasing=self.decreasing)  # fmt: skip
        return out

    def summary(self) -> str:
        """Table like ``print(cumul(res))``: one line per added study."""
        head = f"{'study':>12s}{'k':>4s}{'estimate':>10s}{'ci.lb':>9s}{'ci.ub':>9s}"
        rows = [head + f"{'tau2':>9s}{'I2':>8s}"]
        for j, label in enumerate(self.labels):
            rows.append(
                f"{label[:12]:>12s}{self.k[j]:4d}{self.estimate[j]:10.4f}"
                f"{self.ci_low[j]:9.4f}{self.ci_high[j]:9.4f}{self.tau2[j]:9.4f}"
                f"{self.i2[j]:8.2f}"
            )
        return "\n".join(rows)


def cumul(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    order: Sequence[Any] | None = None,
    decreasing: bool = False,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    measure: str = "GEN",
    ni: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
) -> Cumulative:
    """Cumulative meta-analysis, as ``cumul(rma(yi, vi, ...), order=order)``.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances, in input order.
    order
        One sortable key per study (numbers, ISO dates, ``datetime.date``…); studies are added
        in increasing key order (``decreasing=True`` reverses it), ties in input order.
        Default: input order.
    method, test, level, measure, ni
        The model refitted at each step (as :func:`rma`; ``ni`` only for ``"PFT"``).
    labels
        Study labels (default ``"1"`` … ``"k"``).
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    keys = list(range(k)) if order is None else list(order)
    if len(keys) != k:
        raise InputError(f"order: {len(keys)} keys for {k} studies")
    names = tuple(str(i) for i in range(1, k + 1)) if labels is None else tuple(map(str, labels))
    if len(names) != k:
        raise InputError(f"labels: {len(names)} labels for {k} studies")
    sequence = _sorted_indices(keys, decreasing)
    sizes = None
    if ni is not None:
        sizes = as_vector(ni, "ni")
        if len(sizes) != k:
            raise InputError(f"column 'ni': {len(sizes)} sizes for {k} studies")
    idx = np.array(sequence, dtype=np.int64)
    mask = np.tri(k, dtype=bool)  # row j uses the first j + 1 studies of the ordering
    tiled = np.broadcast_to
    fits = rma_batch(
        tiled(y[idx], (k, k)), tiled(v[idx], (k, k)), mask, method=method, test=test,
        level=level, measure=measure,
        ni=None if sizes is None else tiled(sizes[idx], (k, k)),
    )  # fmt: skip
    steps = {name: np.asarray(getattr(fits, name), dtype=np.float64) for name in STEP_FIELDS}
    return Cumulative(
        order=tuple(sequence), labels=tuple(names[i] for i in sequence),
        keys=tuple(keys[i] for i in sequence), k=fits.k,
        back_estimate=fits.back.estimate, back_ci_low=fits.back.ci_low,
        back_ci_high=fits.back.ci_high, status=fits.status, measure=measure, method=method,
        test=test, level=float(level), decreasing=decreasing, fits=fits, **steps,
    )  # fmt: skip


def _sorted_indices(keys: list[Any], decreasing: bool) -> list[int]:
    """Stable order of the keys (Python's sort stays stable with ``reverse=True``, as R's)."""
    for row, key in enumerate(keys, start=1):
        if key is None or (isinstance(key, float) and not np.isfinite(key)):
            raise InputError(f"row {row}, column 'order': missing key")
    try:
        return sorted(range(len(keys)), key=keys.__getitem__, reverse=decreasing)
    except TypeError as exc:
        raise InputError(f"column 'order': keys cannot be compared ({exc})") from None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
