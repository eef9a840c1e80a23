"""The living review's "Survival after CAR T failure" section, from digitised Kaplan–Meier curves.

Survival after CAR T failure is the outcome that matters most and the one the text reports
worst (a median here, a 1-year rate there). When curves have been digitised into the evidence
base (``evidence/km_curves/``), this section reconstructs each arm's patients, prints each
arm's median and landmark survival, and pools the arms of each endpoint. Until then it says
which sources to digitise: the cohorts after CAR T failure whose OS or PFS is already in the
evidence base as rates or medians, largest first. Nothing here is typed in by hand: every
number comes from a curve file with its provenance, or is a cohort size with its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from postcart.evidence import Evidence
from postcart.evidence.curves import (
    CurveRecord,
    digitise_candidates,
    load_curves,
    prepare_record,
    reconstruct_curve,
)
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for, fmt_fixed
from postcart.stats.survival import KaplanMeier, PooledSurvival, pool_survival

LANDMARKS: tuple[float, ...] = (6.0, 12.0, 24.0)
ENDPOINT_LABEL = {"os": "overall survival", "pfs": "progression-free survival"}


@dataclass(frozen=True)
class ReconstructedArm:
    """One digitised arm, rebuilt."""

    record: CurveRecord
    km: KaplanMeier
    events: int
    steps: tuple[str, ...]


@dataclass(frozen=True)
class SurvivalSection:
    """The section's tables and what they were built from (for plots and results)."""

    tables: tuple[ReportTable, ...]
    arms: tuple[ReconstructedArm, ...] = ()
    pooled: dict[str, PooledSurvival] = field(default_factory=dict)


def _curve_ref(refs: RefBook, evidence: Evidence, record: CurveRecord) -> str:
    where = ", ".join(x for x in (record.figure, record.panel and f"panel {record.panel}",
                                  record.locator) if x)  # fmt: skip
    dig = record.digitiser
    tool = " ".join(x for x in (dig.tool, dig.version) if x)
    by = f" by {dig.by}" if dig.by else ""
    return refs.add(
        Ref(
            anchor=anchor_for(f"km-{record.key}"),
            label=f"digitised Kaplan–Meier curve ({record.arm}, {record.endpoint})",
            locator=f"{where}; digitised with {tool}{by}; curated in {record.file}",
            citation=evidence.source(record.source_key).citation,
        )
    )


def _pct(value: float) -> str:
    return f"{fmt_fixed(100.0 * value)}%"


def _arm_rows(evidence: Evidence, refs: RefBook, arms: tuple[ReconstructedArm, ...]) -> ReportTable:
    rows = []
    for arm in arms:
        ref = _curve_ref(refs, evidence, arm.record)
        med = arm.km.median()
        med_text = (
            "not reached"
            if med.estimate != med.estimate
            else (
                f"{fmt_fixed(med.estimate)} ({fmt_fixed(med.ci_low) or 'NR'}–"
                f"{fmt_fixed(med.ci_high) or 'NR'})"
            )
        )
        cells = [Cell(evidence.cohort(arm.record.cohort_key).label),
                 Cell(arm.record.endpoint.upper()), Cell(str(arm.km.n), ref),
                 Cell(str(arm.events), ref), Cell(med_text, ref)]  # fmt: skip
        for t in LANDMARKS:
            cells.append(
                Cell(_pct(arm.km.at(t).surv), ref) if t <= float(arm.km.time[-1]) else Cell()
            )
        rows.append(tuple(cells))
    return ReportTable(
        name="survival_arms",
        title="Survival after CAR T failure: reconstructed Kaplan–Meier curves",
        columns=(
            "Cohort",
            "Endpoint",
            "n",
            "Events",
            "Median, months (95% CI)",
            "6 months",
            "12 months",
            "24 months",
        ),
        rows=tuple(rows),
        method=(
            "Patients reconstructed from each digitised curve and its numbers at risk "
            "(Guyot et al. 2012, postcart.stats.survival); Kaplan–Meier with R survfit "
            "defaults (log CI, Brookmeyer–Crowley median CI)."
        ),
    )


def _pooled_rows(pooled: dict[str, PooledSurvival]) -> ReportTable:
    rows = []
    for endpoint, res in pooled.items():
        for lm in res.landmarks:
            d = lm.to_dict()
            if d["estimate"] is None:
                continue
            rows.append((Cell(endpoint.upper()), Cell(f"{lm.time:g} months"), Cell(str(d["k"])),
                         Cell(f"{_pct(d['estimate'])} ({_pct(d['ci_low'])}–{_pct(d['ci_high'])})"),
                         Cell(fmt_fixed(d["i2"]))))  # fmt: skip
        med = res.median
        text = "not reached" if med.estimate != med.estimate else fmt_fixed(med.estimate)
        rows.append((Cell(endpoint.upper()), Cell("median, months"), Cell(str(len(res.studies))),
                     Cell(text), Cell("")))  # fmt: skip
    return ReportTable(
        name="survival_pooled",
        title="Survival after CAR T failure: pooled across cohorts",
        columns=("Endpoint", "Time", "k", "Pooled survival (95% CI)", "I² (%)"),
        rows=tuple(rows),
        method=(
            "Landmark survival of each reconstructed curve (Greenwood SE) pooled by random "
            "effects (REML, Knapp–Hartung) on the log(−log) scale; the median read off the "
            "pooled curve (Combescure et al. 2014, each time pooled on its own)."
        ),
    )


_WORDS = {"os_rate": "OS rate", "pfs_rate": "PFS rate", "median_os": "median OS",
          "median_pfs": "median PFS"}  # fmt: skip


def _measure_words(reported: str) -> str:
    head, _, tail = reported.partition(" ")
    return " ".join(x for x in (_WORDS.get(head, head), tail) if x)


def _to_digitise(evidence: Evidence, refs: RefBook, curves: tuple[CurveRecord, ...]) -> ReportTable:
    rows = []
    for cand in digitise_candidates(evidence, curves):
        cohort = evidence.cohort(cand.cohort_key)
        first = evidence.outcome(cand.outcome_refs[0])
        rows.append((
            Cell(cohort.label),
            Cell(evidence.source(cand.source_key).first_author or cand.source_key,
                 refs.for_source(evidence, cand.source_key)),
            Cell("" if cand.n is None else str(cand.n),
                 None if cand.n is None else refs.for_cohort_n(evidence, cohort)),
            Cell(", ".join(e.upper() for e in cand.endpoints)),
            Cell("; ".join(_measure_words(w) for w in cand.reported),
                 refs.for_outcome(evidence, first)),
        ))  # fmt: skip
    return ReportTable(
        name="survival_to_digitise",
        title="Survival after CAR T failure: Kaplan–Meier figures to digitise",
        columns=("Cohort", "Source", "n", "Endpoints", "Survival reported in the text as"),
        rows=tuple(rows),
        method=(
            "No Kaplan–Meier curve has been digitised for these cohorts yet. They report OS or "
            "PFS after CAR T failure only as rates or medians; digitising their figures "
            "(with the numbers at risk) lets survival be pooled over time. Largest cohorts first."
        ),
        notes=("How to digitise and add a curve: docs/survival.md.",),
    )


def survival_section(
    evidence: Evidence, refs: RefBook, *, curves_dir: Path | None = None
) -> SurvivalSection:
    """Tables of the section: reconstructed and pooled survival, and the figures to digitise."""
    curves = load_curves(curves_dir, evidence)
    to_digitise = _to_digitise(evidence, refs, curves)
    if not curves:
        return SurvivalSection(tables=(to_digitise,))
    arms = []
    for record in curves:
        rec = reconstruct_curve(prepare_record(record), total_events=record.total_events)
        steps = prepare_record(record).steps
        arms.append(ReconstructedArm(record, rec.km(), rec.events, steps))
    pooled: dict[str, PooledSurvival] = {}
    for endpoint in ("os", "pfs"):
        mine = [a for a in arms if a.record.endpoint == endpoint]
        if len(mine) >= 2:
            pooled[endpoint] = pool_survival(
                [a.km for a in mine], labels=[a.record.key for a in mine], times=LANDMARKS
            )
    tables = [_arm_rows(evidence, refs, tuple(arms))]
    if pooled:
        tables.append(_pooled_rows(pooled))
    tables.append(to_digitise)
    return SurvivalSection(tables=tuple(tables), arms=tuple(arms), pooled=pooled)


def survival_tables(evidence: Evidence, refs: RefBook) -> list[ReportTable]:
    """The section's tables, for the report assembly (the one-line hook in ``model.py``)."""
    return list(survival_section(evidence, refs).tables)
