"""Frozen result objects returned by the pooling functions.

A result carries every number a report needs *and* every choice that produced it
(``settings``), so a pooled estimate can always be traced back to its method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

#: Keys of ``MetaResult.to_dict()`` that form the CLI ``--json`` contract, in order.
CONTRACT_KEYS: tuple[str, ...] = (
    "k",
    "measure",
    "method",
    "test",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_p",
    "back",
)
#: Keys of the ``back`` block of the contract.
BACK_KEYS: tuple[str, ...] = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")

Status = Literal["ok", "not_converged", "failed"]
NAN = math.nan


def _clean(value: float | int | None) -> float | int | None:
    """NaN and infinities are 'not applicable' and leave the JSON contract as ``None``."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class BackTransform:
    """Pooled results on the proportion scale.

    ``estimate`` is the back-transformed pooled value; for the logit this is the *median*
    proportion across studies, not the mean. ``mean`` (when computed) integrates the
    inverse link over the random-effects distribution, as metafor's ``transf.ilogit.int``.
    """

    estimate: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    pi_low: float = NAN
    pi_high: float = NAN
    mean: float = NAN
    mean_ci_low: float = NAN
    mean_ci_high: float = NAN
    transform: str = "none"
    label: str = "not back-transformed"

    def to_dict(self) -> dict[str, Any]:
        """Contract keys first, then the mean and the description of the transform."""
        out: dict[str, Any] = {key: _clean(getattr(self, key)) for key in BACK_KEYS}
        out["mean"] = _clean(self.mean)
        out["mean_ci_low"] = _clean(self.mean_ci_low)
        out["mean_ci_high"] = _clean(self.mean_ci_high)
        out["transform"] = self.transform
        out["label"] = self.label
        return out


@dataclass(frozen=True, slots=True)
class MetaResult:
    """One pooled analysis, mirroring the numbers metafor's ``rma()`` prints.

    ``i2`` and the weights are percentages. Quantities that do not apply (e.g. a prediction
    interval under a common-effect model, or τ² CIs for k = 1) are NaN here and ``None`` in
    ``to_dict()``.
    """

    k: int
    measure: str
    method: str
    test: str
    level: float
    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    se_tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    back: BackTransform = field(default_factory=BackTransform)
    weights: tuple[float, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    status: Status = "ok"
    reason: str = ""
    warnings: tuple[str, ...] = ()
    df: float = NAN
    i2_ci_low: float = NAN
    i2_ci_high: float = NAN
    iterations: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.settings, MappingProxyType):
            object.__setattr__(self, "settings", _frozen(self.settings))

    def to_dict(self) -> dict[str, Any]:
        """The CLI ``--json`` contract keys first (NaN → ``None``), then the extras."""
        out: dict[str, Any] = {}
        for key in CONTRACT_KEYS:
            if key == "back":
                out["back"] = self.back.to_dict()
            else:
                out[key] = _clean(getattr(self, key))
        for extra in fields(self):
            name = extra.name
            if name in out:
                continue
            value = getattr(self, name)
            if name == "settings":
                out[name] = dict(value)
            elif name in ("weights", "warnings"):
                out[name] = [_clean(v) if isinstance(v, float) else v for v in value]
            else:
                out[name] = _clean(value) if isinstance(value, float | int) else value
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row pandas DataFrame of the scalar results (pandas imported here, not at load)."""
        import pandas as pd

        row = {
            key: value
            for key, value in self.to_dict().items()
            if not isinstance(value, dict | list | tuple)
        }
        for key, value in self.back.to_dict().items():
            row[f"back_{key}"] = value
        return pd.DataFrame([row])

    def summary(self) -> str:
        """Readable multi-line text, in the spirit of metafor's ``print.rma``."""
        level = f"{self.level:g}%"
        stat_name = "t" if self.test == "knha" else "z"
        lines = [
            f"Meta-analysis ({self.method}, test={self.test}), k = {self.k}, "
            f"measure = {self.measure}",
        ]
        if self.status != "ok":
            lines.append(f"status: {self.status} — {self.reason}")
        lines.append(
            f"estimate = {_fmt(self.estimate)} (se {_fmt(self.se)}), "
            f"{stat_name} = {_fmt(self.stat)}, p = {_fmt_p(self.pval)}"
        )
        lines.append(f"{level} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]")
        if math.isfinite(self.pi_low):
            lines.append(f"{level} PI [{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]")
        lines.append(
            f"tau² = {_fmt(self.tau2)} [{_fmt(self.tau2_ci_low)}, {_fmt(self.tau2_ci_high)}], "
            f"I² = {_fmt(self.i2, 1)}%, H² = {_fmt(self.h2, 2)}"
        )
        lines.append(f"Q({self.q_df}) = {_fmt(self.q, 2)}, p = {_fmt_p(self.q_p)}")
        if math.isfinite(self.back.estimate):
            lines.append(
                f"{self.back.label}: {_fmt(self.back.estimate)} "
                f"[{_fmt(self.back.ci_low)}, {_fmt(self.back.ci_high)}]"
                + (
                    f", PI [{_fmt(self.back.pi_low)}, {_fmt(self.back.pi_high)}]"
                    if math.isfinite(self.back.pi_low)
                    else ""
                )
            )
        if math.isfinite(self.back.mean):
            lines.append(
                f"mean proportion: {_fmt(self.back.mean)} "
                f"[{_fmt(self.back.mean_ci_low)}, {_fmt(self.back.mean_ci_high)}]"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __repr__(self) -> str:
        shown = self.back if math.isfinite(self.back.estimate) else self
        i2 = f" I²={self.i2:.0f}%" if math.isfinite(self.i2) else ""
        return (
            f"<MetaResult {self.method}/{self.test} k={self.k} "
            f"estimate={shown.estimate:.2f} [{shown.ci_low:.2f}, {shown.ci_high:.2f}]{i2}>"
        )


def _fmt(value: float, digits: int = 4) -> str:
    return "NA" if not math.isfinite(value) else f"{value:.{digits}f}"


def _fmt_p(value: float) -> str:
    if not math.isfinite(value):
        return "NA"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"
