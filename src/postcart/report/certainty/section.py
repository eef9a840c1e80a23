"""The certainty part of the report, assembled once: tables, risk-of-bias figures, GRADE."""

from __future__ import annotations

from collections.abc import Sequence

from postcart.evidence import Evidence
from postcart.report.cells import RefBook, ReportTable
from postcart.report.certainty import Assessed, assess
from postcart.report.certainty.rob_tables import assessed_studies, rob_table, unmatched_table
from postcart.report.certainty.tables import profile_table, sof_table
from postcart.report.certainty.trail import trail_table
from postcart.report.plots.risk_of_bias import render_risk_of_bias
from postcart.report.pooling import Pooled

#: Captions of the risk-of-bias figures, by figure name prefix.
CAPTIONS = {
    "rob_summary": "Risk of bias, summary: share of studies per judgement, item by item; the "
                   "first bar shows how many studies in pooled analyses are rated at all",
    "rob_traffic": "Risk of bias, traffic light",
}  # fmt: skip


def caption(name: str) -> str:
    """The caption of figure ``name`` (``rob_traffic_<tool>`` names its tool)."""
    if name.startswith("rob_traffic_"):
        return f"{CAPTIONS['rob_traffic']}: {name.removeprefix('rob_traffic_')}"
    return CAPTIONS.get(name, name)


def certainty_section(
    evidence: Evidence, analyses: Sequence[Pooled], refs: RefBook
) -> tuple[Assessed, list[ReportTable], dict[str, dict[str, bytes]]]:
    """GRADE for every pooled analysis; SoF, profile, RoB and trail tables; RoB figures."""
    assessed = assess(evidence, analyses)
    tables = [
        sof_table(analyses, assessed, refs),
        profile_table(analyses, assessed, refs),
        rob_table(analyses, evidence, assessed.rob, refs),
        unmatched_table(evidence, assessed.rob),
        trail_table(evidence, analyses, refs),
    ]
    in_pooled = {r.study_key for a in analyses if a.pooled for r in a.rows}
    pooled = [s for s in assessed_studies(analyses, assessed.rob) if s in in_pooled]
    names = {s.key: s.name for s in evidence.studies}
    figures = render_risk_of_bias(assessed.rob, pooled, names)
    return assessed, tables, figures
