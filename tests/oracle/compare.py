"""Comparing our results with metafor's, key by key, with named tolerances."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from postcart.stats import MetaResult

#: Relative agreement required with metafor for every number (the engine's contract).
REL_TOL = 1e-6
#: Absolute floor for values that should be 0 (τ² at the boundary, I² = 0, p ≈ 0):
#: R prints 15 significant digits and sums in a different order.
ABS_FLOOR = 1e-12

#: metafor itself loses digits when one study's variance is this many times another's: it
#: forms Q as Y'PY with P = W − W1(1'W1)⁻¹1'W, a difference of huge numbers. Example (see
#: tests/stats/test_rma.py): vi = (1.25e-13, 0.0463) has exact Q = 0.59999820000063
#: (rational arithmetic); metafor gives 0.600002269 (rel. error 6.8e-6). metafor warns at 1e7.
ILL_CONDITIONED_VI_RATIO = 1e5
#: Relative agreement required for such ill-conditioned data.
ILL_CONDITIONED_REL_TOL = 1e-4

#: Bounds metafor finds with ``uniroot(tol = .Machine$double.eps^0.25)``: on ill-conditioned
#: data tiny rounding differences can move the last Brent step, so they only have to agree
#: to that tolerance (absolute, on the τ² scale; the I² bounds follow from them).
ROOT_KEYS: frozenset[str] = frozenset({"tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high"})
R_UNIROOT_TOL = 2.220446049250313e-16**0.25

#: Scalar keys compared for every fit (contract keys, then extras).
SCALAR_KEYS: tuple[str, ...] = (
    "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low",
    "tau2_ci_high", "i2", "h2", "q", "q_df", "q_p", "stat", "pval", "se_tau2",
    "i2_ci_low", "i2_ci_high",
)  # fmt: skip
#: Back-transformed keys compared where metafor back-transforms.
BACK_KEYS: tuple[str, ...] = (
    "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mean", "mean_ci_low", "mean_ci_high",
)  # fmt: skip
#: Keys we deliberately leave empty for a common-effect model (metafor's PI equals its CI).
FE_EMPTY: frozenset[str] = frozenset({"pi_low", "pi_high"})


@dataclass
class WorstDiff:
    """Largest relative difference seen per key, for the report."""

    per_key: dict[str, float] = field(default_factory=dict)

    def note(self, key: str, rel: float) -> None:
        if rel >= self.per_key.get(key, 0.0):
            self.per_key[key] = rel


def relative_difference(ours: float, theirs: float) -> float:
    """|ours − theirs| / |theirs|, or 0 when within the absolute floor."""
    diff = abs(ours - theirs)
    if diff <= ABS_FLOOR:
        return 0.0
    return diff / abs(theirs) if theirs != 0 else math.inf


def _as_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def tolerance_for(vi: Any) -> float:
    """REL_TOL, or ILL_CONDITIONED_REL_TOL when max(vi)/min(vi) ≥ ILL_CONDITIONED_VI_RATIO."""
    values = [float(v) for v in (vi if isinstance(vi, list) else [vi])]
    ill = max(values) / min(values) >= ILL_CONDITIONED_VI_RATIO
    return ILL_CONDITIONED_REL_TOL if ill else REL_TOL


def _compare(key: str, a: float, b: float, rel_tol: float, worst: WorstDiff | None) -> str:
    """One key: '' when it agrees, else the problem."""
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        same = (math.isnan(a) and math.isnan(b)) or a == b
        return "" if same else f"{key}: ours {a!r}, metafor {b!r}"
    if rel_tol > REL_TOL and key in ROOT_KEYS:
        if key.startswith("tau2") and abs(a - b) > R_UNIROOT_TOL:
            return f"{key}: ours {a!r}, metafor {b!r} (beyond uniroot tol)"
        return ""
    rel = relative_difference(a, b)
    if worst is not None:
        worst.note(key, rel)
    return f"{key}: ours {a!r}, metafor {b!r} (rel {rel:.2e})" if rel > rel_tol else ""


def mismatches(
    ours: MetaResult,
    theirs: Mapping[str, Any],
    worst: WorstDiff | None = None,
    rel_tol: float = REL_TOL,
) -> list[str]:
    """Every key where our result and metafor's disagree beyond ``rel_tol`` (empty = equal)."""
    problems: list[str] = []
    common = theirs["method"] in ("FE", "EE", "CE")
    if ours.test != theirs["test"]:
        problems.append(f"test: ours {ours.test!r}, metafor {theirs['test']!r}")
    pairs = [(key, getattr(ours, key), theirs.get(key)) for key in SCALAR_KEYS]
    back = theirs.get("back")
    if isinstance(back, Mapping):
        pairs += [(f"back.{key}", getattr(ours.back, key), back.get(key)) for key in BACK_KEYS]
    pairs += [
        (f"weights[{i}]", mine, ref)
        for i, (mine, ref) in enumerate(
            zip(ours.weights, _listed(theirs.get("weights")), strict=True)
        )
    ]
    for key, mine, ref in pairs:
        if common and key.split(".")[-1] in FE_EMPTY:
            continue
        name = "weights" if key.startswith("weights") else key
        problem = _compare(key, _as_float(mine), _as_float(ref), rel_tol, None)
        if worst is not None and not problem:
            a, b = _as_float(mine), _as_float(ref)
            if math.isfinite(a) and math.isfinite(b):
                worst.note(name, relative_difference(a, b))
        if problem:
            problems.append(problem)
    return problems


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
