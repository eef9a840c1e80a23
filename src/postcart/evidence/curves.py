"""Digitised Kaplan–Meier curves as evidence: the points, the risk table, and where they came from.

Survival after CAR T failure is published as curves. A digitised curve is a clinical number
like any other, so it carries its provenance: which source, figure and panel, which arm and
endpoint, which tool digitised it and who did. The printed numbers at risk and total events
are numbers from the paper too and carry a locator of their own.

A curve lives in ``evidence/km_curves/`` as a YAML manifest beside its CSV files::

    key: smith2024_os_fig2a
    cohort: smith2024_post_cart          # a cohort key of the evidence base
    endpoint: os                         # os | pfs
    arm: all patients
    time_unit: months
    curve: smith2024_os_fig2a.csv        # plain time,survival or a WebPlotDigitizer export
    dataset: OS                          # optional: the dataset of a multi-dataset export
    risk_table: smith2024_os_fig2a_risk.csv      # optional, time,at_risk
    risk_table_locator: Figure 2A, numbers at risk below the x axis
    total_events: 54                     # optional
    total_events_locator: Figure 2A legend, "54 events"
    source: smith2024                    # a source key
    figure: Figure 2
    panel: A
    locator: page 6
    digitiser: {tool: WebPlotDigitizer, version: "4.7", by: AB, date: 2026-01-31}

:func:`prepare_curve` validates a curve and its table (never a silent fix: cleaning steps
are listed), :func:`reconstruct_curve` rebuilds its patients, :func:`load_curves` reads every
manifest. Problems name the file, the line and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from postcart.errors import InputError, Problem
from postcart.evidence.curve_readers import (
    CurveFileError,
    RawCurve,
    RawRiskTable,
    read_curve,
    read_risk_table,
)
from postcart.evidence.records import Evidence
from postcart.evidence.vocab import CohortRole, Measure
from postcart.stats.survival import CleanCurve, Reconstruction, clean_curve, reconstruct
from postcart.stats.survival.clean import SurvUnit

#: Where curve manifests live (none is curated yet).
CURVES_DIR = Path(__file__).resolve().parent / "km_curves"
Endpoint = Literal["os", "pfs"]
ENDPOINTS: tuple[Endpoint, ...] = ("os", "pfs")
#: Outcomes that a digitised curve would deepen, per endpoint.
SURVIVAL_MEASURES = {
    Measure.os_rate: "os",
    Measure.median_os: "os",
    Measure.pfs_rate: "pfs",
    Measure.median_pfs: "pfs",
}
#: Cohorts whose survival is "survival after CAR T failure".
AFTER_FAILURE_ROLES = (CohortRole.relapse_after_cart, CohortRole.salvage_after_cart)


@dataclass(frozen=True)
class Digitiser:
    """The tool and person that turned a figure into points."""

    tool: str
    version: str | None = None
    by: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class CurveRecord:
    """One digitised arm of one Kaplan–Meier figure, with its provenance."""

    key: str
    cohort_key: str
    endpoint: Endpoint
    arm: str
    source_key: str
    figure: str
    curve_file: str
    digitiser: Digitiser
    file: str
    panel: str | None = None
    locator: str | None = None
    dataset: str | None = None
    time_unit: str = "months"
    risk_table_file: str | None = None
    risk_table_locator: str | None = None
    total_events: int | None = None
    total_events_locator: str | None = None


@dataclass(frozen=True)
class PreparedCurve:
    """A validated curve: the cleaned points, the steps taken, and the risk table."""

    raw: RawCurve
    clean: CleanCurve
    risk: RawRiskTable | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def steps(self) -> tuple[str, ...]:
        """Everything done to the digitised points, in order (for the reader)."""
        return (f"read as {self.raw.format}", *self.clean.steps, *self.notes)


def _readdress(error: InputError, path: str, lines: tuple[int, ...]) -> CurveFileError:
    """Turn an engine message ("row 4, column 'survival': ...") into file:line: field."""
    text = str(error)
    match = re.match(r"row (\d+), column '([^']+)'(?: \(risk table\))?: (.*)", text)
    if match:
        row = int(match.group(1))
        line = lines[row - 1] if 0 < row <= len(lines) else None
        return CurveFileError(Problem(path, line, match.group(2), match.group(3)))
    match = re.match(r"column '([^']+)'(?: \(risk table\))?: (.*)", text)
    if match:
        return CurveFileError(Problem(path, None, match.group(1), match.group(2)))
    return CurveFileError(Problem(path, None, "curve", text))


def prepare_curve(
    raw: RawCurve, risk: RawRiskTable | None = None, *, unit: SurvUnit = "auto"
) -> PreparedCurve:
    """Clean the digitised points and check the risk table against them.

    The table must start at time 0, its times must increase and lie within the curve, and
    its counts must not increase.
    """
    try:
        clean = clean_curve(raw.time, raw.surv, unit=unit)
    except InputError as exc:
        raise _readdress(exc, raw.path, raw.lines) from None
    if risk is not None:
        _check_risk(risk, clean)
    return PreparedCurve(raw=raw, clean=clean, risk=risk)


def _check_risk(risk: RawRiskTable, clean: CleanCurve) -> None:
    def fail(i: int, fld: str, message: str) -> CurveFileError:
        return CurveFileError(Problem(risk.path, risk.lines[i], fld, message))

    if risk.time[0] != 0.0:
        raise fail(0, "time", f"the first row must be at time 0, not {risk.time[0]:g}")
    end = float(clean.time[-1])
    for i, t in enumerate(risk.time):
        if i and t <= risk.time[i - 1]:
            raise fail(i, "time", f"{t:g} does not come after {risk.time[i - 1]:g}")
        if t < 0.0 or t > end:
            raise fail(i, "time", f"{t:g} is outside the curve (0 to {end:g})")
        if i and risk.at_risk[i] > risk.at_risk[i - 1]:
            raise fail(
                i,
                "at_risk",
                f"{risk.at_risk[i]} is more than the {risk.at_risk[i - 1]} at risk before",
            )
    if risk.at_risk[0] < 1:
        raise fail(0, "at_risk", "the initial number at risk must be at least 1")


def reconstruct_curve(
    prepared: PreparedCurve,
    *,
    total_events: int | None = None,
    n0: int | None = None,
    flat_tail_guard: bool = True,
) -> Reconstruction:
    """Guyot reconstruction of a prepared curve (risk table, total events, or n0)."""
    risk = prepared.risk
    try:
        return reconstruct(
            prepared.clean.time,
            prepared.clean.surv,
            risk_time=list(risk.time) if risk is not None else None,
            n_risk=list(risk.at_risk) if risk is not None else None,
            n0=n0,
            total_events=total_events,
            flat_tail_guard=flat_tail_guard,
        )
    except InputError as exc:
        path = risk.path if risk is not None and "risk table" in str(exc) else prepared.raw.path
        lines = risk.lines if risk is not None and path == risk.path else ()
        raise _readdress(exc, path, lines) from None


# --- manifests ---------------------------------------------------------------------------

_REQUIRED = ("key", "cohort", "endpoint", "arm", "source", "figure", "curve", "digitiser")


def _manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CurveFileError(Problem(str(path), None, "file", f"unreadable: {exc}")) from None
    if not isinstance(data, dict):
        raise CurveFileError(Problem(str(path), None, "file", "expected a mapping of fields"))
    for name in _REQUIRED:
        if data.get(name) in (None, ""):
            raise CurveFileError(Problem(str(path), None, name, "required"))
    if data["endpoint"] not in ENDPOINTS:
        raise CurveFileError(
            Problem(str(path), None, "endpoint", f"{data['endpoint']!r} is not one of {ENDPOINTS}")
        )
    dig = data["digitiser"]
    if not isinstance(dig, dict) or not dig.get("tool"):
        raise CurveFileError(Problem(str(path), None, "digitiser", "needs at least 'tool'"))
    if data.get("total_events") is not None and not data.get("total_events_locator"):
        raise CurveFileError(
            Problem(str(path), None, "total_events_locator", "a printed total needs its locator")
        )
    if data.get("risk_table") and not data.get("risk_table_locator"):
        raise CurveFileError(
            Problem(str(path), None, "risk_table_locator", "a risk table needs its locator")
        )
    return data


def read_manifest(path: str | Path) -> CurveRecord:
    """One curve manifest (see the module docstring) as a record."""
    p = Path(path)
    data = _manifest(p)
    dig = data["digitiser"]
    return CurveRecord(
        key=str(data["key"]),
        cohort_key=str(data["cohort"]),
        endpoint=data["endpoint"],
        arm=str(data["arm"]),
        source_key=str(data["source"]),
        figure=str(data["figure"]),
        curve_file=str(p.parent / str(data["curve"])),
        digitiser=Digitiser(
            tool=str(dig["tool"]),
            version=None if dig.get("version") is None else str(dig["version"]),
            by=None if dig.get("by") is None else str(dig["by"]),
            date=None if dig.get("date") is None else str(dig["date"]),
        ),
        file=str(p),
        panel=None if data.get("panel") is None else str(data["panel"]),
        locator=data.get("locator"),
        dataset=data.get("dataset"),
        time_unit=str(data.get("time_unit", "months")),
        risk_table_file=str(p.parent / str(data["risk_table"])) if data.get("risk_table") else None,
        risk_table_locator=data.get("risk_table_locator"),
        total_events=None if data.get("total_events") is None else int(data["total_events"]),
        total_events_locator=data.get("total_events_locator"),
    )


def load_curves(
    folder: str | Path | None = None, evidence: Evidence | None = None
) -> tuple[CurveRecord, ...]:
    """Every manifest in ``folder`` (default :data:`CURVES_DIR`), checked against ``evidence``.

    With ``evidence``, each curve's cohort and source must exist there.
    """
    where = Path(folder) if folder is not None else CURVES_DIR
    if not where.is_dir():
        return ()
    records = tuple(read_manifest(p) for p in sorted(where.glob("*.yaml")))
    if evidence is not None:
        cohorts = {c.key for c in evidence.cohorts}
        sources = {s.key for s in evidence.sources}
        for rec in records:
            if rec.cohort_key not in cohorts:
                raise CurveFileError(
                    Problem(rec.file, None, "cohort", f"no cohort {rec.cohort_key!r}")
                )
            if rec.source_key not in sources:
                raise CurveFileError(
                    Problem(rec.file, None, "source", f"no source {rec.source_key!r}")
                )
    return records


def prepare_record(record: CurveRecord) -> PreparedCurve:
    """Read and validate the files a manifest names."""
    raw = read_curve(record.curve_file, dataset=record.dataset)
    risk = read_risk_table(record.risk_table_file) if record.risk_table_file else None
    return prepare_curve(raw, risk)


@dataclass(frozen=True)
class DigitiseCandidate:
    """A cohort after CAR T failure whose survival is printed as numbers, not yet as a curve."""

    cohort_key: str
    cohort_label: str
    source_key: str
    citation: str
    n: int | None
    endpoints: tuple[str, ...]
    reported: tuple[str, ...]
    outcome_refs: tuple[str, ...]


def digitise_candidates(
    evidence: Evidence, curves: Iterable[CurveRecord] = ()
) -> tuple[DigitiseCandidate, ...]:
    """Cohorts after CAR T failure with OS/PFS rates or medians and no curve yet, largest first.

    These are the sources whose Kaplan–Meier figures are worth digitising next.
    """
    have = {(c.cohort_key, c.endpoint) for c in curves}
    by_cohort: dict[str, list[tuple[str, str, str]]] = {}
    for outcome in evidence.outcomes:
        endpoint = SURVIVAL_MEASURES.get(outcome.measure)
        if endpoint is None or (outcome.cohort_key, endpoint) in have:
            continue
        what = outcome.measure.value
        if outcome.timepoint_months is not None:
            what += f" at {outcome.timepoint_months:g} mo"
        by_cohort.setdefault(outcome.cohort_key, []).append((endpoint, what, outcome.ref))
    found: list[DigitiseCandidate] = []
    for cohort in evidence.cohorts:
        if cohort.key not in by_cohort or cohort.role not in AFTER_FAILURE_ROLES:
            continue
        study = evidence.study(cohort.study_key)
        source = evidence.source(study.source_key)
        items = by_cohort[cohort.key]
        found.append(
            DigitiseCandidate(
                cohort_key=cohort.key,
                cohort_label=cohort.label,
                source_key=source.key,
                citation=source.citation,
                n=cohort.n,
                endpoints=tuple(sorted({e for e, _, _ in items})),
                reported=tuple(dict.fromkeys(w for _, w, _ in items)),
                outcome_refs=tuple(r for _, _, r in items),
            )
        )
    return tuple(sorted(found, key=lambda c: (-(c.n or 0), c.cohort_key)))
