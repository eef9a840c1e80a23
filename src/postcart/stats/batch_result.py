"""Results of many meta-analyses fitted at once: one numpy array per ``MetaResult`` field.

Keeping the field names of ``MetaResult`` means code written for one analysis reads the same
for ten thousand, and ``batch[i]`` gives back exactly the ``MetaResult`` a single fit returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from postcart.stats.results import BackTransform, MetaResult, Status

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]

#: Per-row float fields shared by ``MetaResult`` and ``BatchResult``.
FLOAT_FIELDS: tuple[str, ...] = (
    "estimate", "se", "stat", "pval", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "se_tau2", "tau2_ci_low", "tau2_ci_high", "tau", "i2", "h2", "q", "q_p", "df",
    "i2_ci_low", "i2_ci_high",
)  # fmt: skip
#: Per-row float fields of ``BackTransform``.
BACK_FLOAT_FIELDS: tuple[str, ...] = (
    "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mean", "mean_ci_low", "mean_ci_high",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BackTransformArrays:
    """``BackTransform`` for a batch: each float field is an array of length m."""

    estimate: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    pi_low: FloatArray
    pi_high: FloatArray
    mean: FloatArray
    mean_ci_low: FloatArray
    mean_ci_high: FloatArray
    transform: str = "none"
    label: str = "not back-transformed"

    @classmethod
    def empty(cls, m: int) -> BackTransformArrays:
        """All-NaN arrays: no back-transform applies (e.g. a generic effect size)."""
        values: dict[str, Any] = {name: np.full(m, np.nan) for name in BACK_FLOAT_FIELDS}
        return cls(**values)

    def row(self, i: int) -> BackTransform:
        """The ``BackTransform`` of row ``i``."""
        values = {name: float(getattr(self, name)[i]) for name in BACK_FLOAT_FIELDS}
        return BackTransform(**values, transform=self.transform, label=self.label)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """m pooled analyses; arrays are indexed by analysis (row of the input).

    ``weights`` is ``(m, k_max)`` in percent, NaN where the mask hid a study. ``extras``
    holds per-row numbers that ``MetaResult`` keeps in ``settings["extras"]``.
    """

    k: NDArray[np.int64]
    measure: str
    method: str
    test: str
    level: float
    estimate: FloatArray
    se: FloatArray
    stat: FloatArray
    pval: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    pi_low: FloatArray
    pi_high: FloatArray
    tau2: FloatArray
    se_tau2: FloatArray
    tau2_ci_low: FloatArray
    tau2_ci_high: FloatArray
    tau: FloatArray
    i2: FloatArray
    h2: FloatArray
    q: FloatArray
    q_df: NDArray[np.int64]
    q_p: FloatArray
    back: BackTransformArrays
    weights: FloatArray
    status: tuple[Status, ...]
    reason: tuple[str, ...]
    warnings: tuple[tuple[str, ...], ...]
    df: FloatArray
    iterations: NDArray[np.int64]
    i2_ci_low: FloatArray
    i2_ci_high: FloatArray
    settings: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, FloatArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.settings, MappingProxyType):
            object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if not isinstance(self.extras, MappingProxyType):
            object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    def __len__(self) -> int:
        return len(self.estimate)

    def __getitem__(self, i: int) -> MetaResult:
        """The ``MetaResult`` of analysis ``i`` (negative indices count from the end)."""
        i = range(len(self))[i]
        settings = dict(self.settings)
        if self.extras:
            settings["extras"] = {name: float(values[i]) for name, values in self.extras.items()}
        row_weights = self.weights[i]
        return MetaResult(
            k=int(self.k[i]),
            measure=self.measure,
            method=self.method,
            test="z" if self.k[i] == 1 else self.test,  # metafor: one study forces z
            level=self.level,
            q_df=int(self.q_df[i]),
            back=self.back.row(i),
            weights=tuple(float(w) for w in row_weights[np.isfinite(row_weights)]),
            settings=settings,
            status=self.status[i],
            reason=self.reason[i],
            warnings=self.warnings[i],
            iterations=int(self.iterations[i]),
            **{name: float(getattr(self, name)[i]) for name in FLOAT_FIELDS},
        )

    def ok(self) -> NDArray[np.bool_]:
        """Boolean mask of the analyses whose status is ``"ok"``."""
        return np.array([s == "ok" for s in self.status], dtype=bool)

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis: the scalar fields plus ``back_*`` columns (pandas loaded here)."""
        import pandas as pd

        columns: dict[str, Any] = {"k": self.k}
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if isinstance(value, np.ndarray) and value.ndim == 1 and name != "k":
                columns[name] = value
        columns["status"] = list(self.status)
        columns["reason"] = list(self.reason)
        for name in BACK_FLOAT_FIELDS:
            columns[f"back_{name}"] = getattr(self.back, name)
        for name, values in self.extras.items():
            columns[name] = values
        return pd.DataFrame(columns)


def status_from_reason(reason: list[str]) -> tuple[Status, ...]:
    """``"ok"`` where no reason was given, ``"not_converged"`` otherwise."""
    ok: Status = "ok"
    failed: Status = "not_converged"
    return tuple(failed if r else ok for r in reason)


def without_false_ok(result: BatchResult) -> BatchResult:
    """Mark ``"failed"`` (with a reason) every row reported ``"ok"`` whose estimate or se is
    not finite: a status of ``"ok"`` promises a number a reader can use."""
    bad = ~(np.isfinite(result.estimate) & np.isfinite(result.se))
    rows = [i for i in np.flatnonzero(bad) if result.status[i] == "ok"]
    if not rows:
        return result
    status = list(result.status)
    reason = list(result.reason)
    for i in rows:
        status[i] = "failed"
        reason[i] = (
            f"no finite estimate (estimate {float(result.estimate[i])!r}, "
            f"se {float(result.se[i])!r})"
        )
    return replace(result, status=tuple(status), reason=tuple(reason))


def take_rows(parts: list[BatchResult], rows: list[NDArray[np.int64]], m: int) -> BatchResult:
    """Reassemble a batch fitted in parts: ``parts[j]`` holds the original rows ``rows[j]``.

    Weight matrices of different widths are padded with NaN to the widest part.
    """
    order = np.empty(m, dtype=np.int64)
    order[np.concatenate(rows)] = np.arange(m)
    width = max(p.weights.shape[1] for p in parts)
    values: dict[str, Any] = {}
    for f in fields(BatchResult):
        name = f.name
        first = getattr(parts[0], name)
        if name == "weights":
            padded = [np.pad(p.weights, ((0, 0), (0, width - p.weights.shape[1])),
                             constant_values=np.nan) for p in parts]  # fmt: skip
            values[name] = np.concatenate(padded)[order]
        elif isinstance(first, np.ndarray):
            values[name] = np.concatenate([getattr(p, name) for p in parts])[order]
        elif isinstance(first, tuple):
            joined = [item for p in parts for item in getattr(p, name)]
            values[name] = tuple(joined[i] for i in order)
        elif name == "back":
            arrays = {
                b: np.concatenate([getattr(p.back, b) for p in parts])[order]
                for b in BACK_FLOAT_FIELDS
            }
            values[name] = BackTransformArrays(**arrays, transform=first.transform,
                                               label=first.label)  # fmt: skip
        elif name == "extras":
            values[name] = {
                key: np.concatenate([p.extras[key] for p in parts])[order] for key in first
            }
        else:
            values[name] = first
    return BatchResult(**values)


def stack_results(rows: list[MetaResult], used: NDArray[np.bool_], test: str) -> BatchResult:
    """Stack single results into a ``BatchResult`` (weights padded to the mask's shape).

    ``test`` is the one requested: a row with k = 1 reports ``"z"`` (metafor's fallback), so
    the batch-wide test and settings are taken from the request and the first row with k > 1.
    """
    first = next((r for r in rows if r.k > 1), rows[0])

    def column(name: str) -> FloatArray:
        return np.array([getattr(r, name) for r in rows], dtype=np.float64)

    def back_column(name: str) -> FloatArray:
        return np.array([getattr(r.back, name) for r in rows], dtype=np.float64)

    weights = np.full(used.shape, np.nan)
    for i, r in enumerate(rows):
        if r.weights:
            weights[i, used[i]] = r.weights
    back_values: dict[str, Any] = {name: back_column(name) for name in BACK_FLOAT_FIELDS}
    back = BackTransformArrays(
        **back_values, transform=first.back.transform, label=first.back.label
    )
    values: dict[str, Any] = {name: column(name) for name in FLOAT_FIELDS}
    return BatchResult(
        k=np.array([r.k for r in rows], dtype=np.int64), measure=first.measure,
        method=first.method, test=test, level=first.level,
        q_df=np.array([r.q_df for r in rows], dtype=np.int64), back=back, weights=weights,
        status=tuple(r.status for r in rows), reason=tuple(r.reason for r in rows),
        warnings=tuple(r.warnings for r in rows),
        iterations=np.array([r.iterations for r in rows], dtype=np.int64),
        settings=dict(first.settings), **values,
    )  # fmt: skip
