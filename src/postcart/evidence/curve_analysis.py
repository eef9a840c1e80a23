"""From curve files to answers: the one call behind each ``postcart km`` command.

``analyse_curve`` reads one digitised arm (and its risk table), reconstructs its patients and
summarises them; ``pool_curves`` does that for every arm a list file names and pools them;
``compare_arms`` gives the Cox hazard ratio of two arms of one figure. Each returns a frozen
result with ``to_dict()`` (the ``--json`` contract) and ``summary()`` (the text a reader sees),
so the CLI only opens, calls and prints.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcart.errors import Problem
from postcart.evidence.curve_readers import CurveFileError, read_curve, read_risk_table
from postcart.evidence.curves import PreparedCurve, prepare_curve, reconstruct_curve
from postcart.stats.survival import (
    CoxResult,
    KaplanMeier,
    PooledSurvival,
    Reconstruction,
    cox_arms,
    pool_survival,
)
from postcart.stats.survival.clean import SurvUnit

DEFAULT_LANDMARKS: tuple[float, ...] = (6.0, 12.0, 24.0)


def _fmt(value: float | None, digits: int = 2) -> str:
    """A computed number at fixed precision; "NR" (not reached / not estimable) if undefined."""
    if value is None or not math.isfinite(value):
        return "NR"
    return f"{value:.{digits}f}"


@dataclass(frozen=True)
class CurveAnalysis:
    """One reconstructed arm: the cleaning steps, the patients, the KM summary."""

    label: str
    prepared: PreparedCurve
    reconstruction: Reconstruction
    km: KaplanMeier
    landmarks: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """``n``, ``events``, ``ipd`` and the rest of the reconstruction, plus KM answers."""
        out = self.reconstruction.to_dict()
        ipd = out.pop("ipd")
        median = self.km.median()
        out.update(
            label=self.label,
            curve_file=self.prepared.raw.path,
            curve_format=self.prepared.raw.format,
            cleaning=list(self.prepared.steps),
            median=median.to_dict(),
            landmarks=[
                self.km.at(t).to_dict() for t in self.landmarks if t <= float(self.km.time[-1])
            ],
            ipd=ipd,
        )
        return out

    def summary(self) -> str:
        """Plain text for the terminal."""
        rec, med = self.reconstruction, self.km.median()
        lines = [
            f"{self.label}: {rec.n} patients, {rec.events} events reconstructed ({rec.mode})",
            f"  median {_fmt(med.estimate)} (95% CI {_fmt(med.ci_low)} to {_fmt(med.ci_high)})",
        ]
        for t in self.landmarks:
            if t <= float(self.km.time[-1]):
                lm = self.km.at(t)
                ci = f"95% CI {_fmt(lm.ci_low, 3)} to {_fmt(lm.ci_high, 3)}"
                lines.append(f"  S({t:g}) = {lm.surv:.3f} ({ci})")
        if rec.total_events_given is not None:
            lines.append(
                f"  total events printed {rec.total_events_given}, reconstructed {rec.events}"
            )
        for row in rec.risk_check:
            if row.published != row.reconstructed:
                lines.append(
                    f"  at risk at {row.time:g}: printed {row.published}, "
                    f"reconstructed {row.reconstructed}"
                )
        lines += [f"  cleaning: {step}" for step in self.prepared.steps]
        lines += [f"  warning: {w}" for w in rec.warnings]
        return "\n".join(lines)


def analyse_curve(
    curve: str | Path,
    *,
    at_risk: str | Path | None = None,
    events: int | None = None,
    n0: int | None = None,
    dataset: str | None = None,
    unit: SurvUnit = "auto",
    flat_tail_guard: bool = True,
    landmarks: Sequence[float] = DEFAULT_LANDMARKS,
    label: str | None = None,
) -> CurveAnalysis:
    """Read, validate, reconstruct and summarise one digitised arm."""
    raw = read_curve(curve, dataset=dataset)
    risk = read_risk_table(at_risk) if at_risk is not None else None
    prepared = prepare_curve(raw, risk, unit=unit)
    if risk is None and n0 is None:
        raise CurveFileError(
            Problem(raw.path, None, "n0", "without a risk table the initial number (n0) is needed")
        )
    rec = reconstruct_curve(prepared, total_events=events, n0=n0, flat_tail_guard=flat_tail_guard)
    return CurveAnalysis(
        label=label or Path(curve).stem,
        prepared=prepared,
        reconstruction=rec,
        km=rec.km(),
        landmarks=tuple(float(t) for t in landmarks),
    )


@dataclass(frozen=True)
class PoolAnalysis:
    """Every arm of a list file reconstructed, then pooled."""

    arms: tuple[CurveAnalysis, ...]
    pooled: PooledSurvival

    def to_dict(self) -> dict[str, Any]:
        """The pooled result plus each arm's reconstruction summary (without the IPD)."""
        out = self.pooled.to_dict()
        out["reconstructions"] = [
            {k: v for k, v in arm.to_dict().items() if k != "ipd"} for arm in self.arms
        ]
        return out

    def summary(self) -> str:
        """Plain text: one line per landmark and the pooled median."""
        lines = [
            f"{len(self.arms)} curves pooled (random effects, {self.pooled.settings['method']}"
            f", {self.pooled.settings['test']}, {self.pooled.settings['scale']} scale)"
        ]
        for lm in self.pooled.landmarks:
            d = lm.to_dict()
            if d["estimate"] is None:
                lines.append(f"  S({lm.time:g}): not pooled (k = {d['k']})")
                continue
            lines.append(
                f"  S({lm.time:g}) = {d['estimate']:.3f} (95% CI {_fmt(d['ci_low'], 3)} to "
                f"{_fmt(d['ci_high'], 3)}), k = {d['k']}, I2 = {_fmt(d['i2'], 1)}%"
            )
        med = self.pooled.median
        lines.append(
            f"  pooled median {_fmt(med.estimate)} (95% CI {_fmt(med.ci_low)} to "
            f"{_fmt(med.ci_high)}), read off the pooled curve up to {med.horizon:g}"
        )
        lines += [f"  {arm.summary()}".replace("\n", "\n  ") for arm in self.arms]
        return "\n".join(lines)


LIST_COLUMNS = ("study", "curve", "at_risk", "events", "n0", "dataset")


def _read_list(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            rows = [
                (i + 2, {(k or "").strip(): (v or "").strip() for k, v in row.items()})
                for i, row in enumerate(reader)
            ]
    except OSError as exc:
        raise CurveFileError(
            Problem(str(path), None, "file", f"cannot read ({exc.strerror})")
        ) from None
    if "study" not in header or "curve" not in header:
        raise CurveFileError(
            Problem(
                str(path),
                1,
                "header",
                f"needs columns study,curve (and optionally "
                f"at_risk,events,n0,dataset); found {header}",
            )
        )
    return rows


def _whole(path: Path, line: int, name: str, text: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise CurveFileError(
            Problem(str(path), line, name, f"{text!r} is not a whole number")
        ) from None


def pool_curves(
    list_file: str | Path,
    *,
    times: Sequence[float] = DEFAULT_LANDMARKS,
    method: str = "REML",
    test: str = "knha",
) -> PoolAnalysis:
    """Reconstruct every arm the list file names (paths relative to it) and pool them."""
    path = Path(list_file)
    arms: list[CurveAnalysis] = []
    for line, row in _read_list(path):
        base = path.parent
        arms.append(
            analyse_curve(
                base / row["curve"],
                at_risk=base / row["at_risk"] if row.get("at_risk") else None,
                events=_whole(path, line, "events", row.get("events", "")),
                n0=_whole(path, line, "n0", row.get("n0", "")),
                dataset=row.get("dataset") or None,
                landmarks=times,
                label=row["study"] or f"line {line}",
            )
        )
    if len(arms) < 2:
        raise CurveFileError(Problem(str(path), None, "study", "pooling needs at least 2 curves"))
    pooled = pool_survival(
        [a.km for a in arms], labels=[a.label for a in arms], times=times, method=method, test=test
    )
    return PoolAnalysis(arms=tuple(arms), pooled=pooled)


@dataclass(frozen=True)
class ArmComparison:
    """Two reconstructed arms of one figure and the Cox hazard ratio between them."""

    reference: CurveAnalysis
    other: CurveAnalysis
    cox: CoxResult

    def to_dict(self) -> dict[str, Any]:
        """HR of ``other`` versus ``reference`` and both reconstructions (without IPD)."""
        return {
            "cox": self.cox.to_dict(),
            "reference": {k: v for k, v in self.reference.to_dict().items() if k != "ipd"},
            "other": {k: v for k, v in self.other.to_dict().items() if k != "ipd"},
        }

    def summary(self) -> str:
        """Plain text for the terminal."""
        c = self.cox
        head = (
            f"HR {self.other.label} vs {self.reference.label}: {_fmt(c.hr)} "
            f"(95% CI {_fmt(c.ci_low)} to {_fmt(c.ci_high)}), p = {_fmt(c.p, 4)}, Cox {c.ties} ties"
            if c.status == "ok"
            else f"HR not estimable: {c.reason}"
        )
        return "\n".join([head, self.reference.summary(), self.other.summary()])


def compare_arms(reference: CurveAnalysis, other: CurveAnalysis) -> ArmComparison:
    """Cox hazard ratio (Efron ties, as R ``coxph``) of ``other`` versus ``reference``."""
    r, o = reference.reconstruction, other.reconstruction
    return ArmComparison(reference, other, cox_arms(r.time, r.event, o.time, o.event))


def compare_curve_files(
    reference: str | Path,
    other: str | Path,
    *,
    reference_at_risk: str | Path | None = None,
    other_at_risk: str | Path | None = None,
    reference_events: int | None = None,
    other_events: int | None = None,
    reference_n0: int | None = None,
    other_n0: int | None = None,
) -> ArmComparison:
    """Reconstruct two arms of one figure from their files and compare them (Cox HR)."""
    ref = analyse_curve(
        reference, at_risk=reference_at_risk, events=reference_events, n0=reference_n0
    )
    oth = analyse_curve(other, at_risk=other_at_risk, events=other_events, n0=other_n0)
    return compare_arms(ref, oth)
