"""The outcome table everyone exports and analyses: one row per outcome, fixed column order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from postcart.evidence.records import Evidence, Outcome, Provenance

#: The agreed export columns, in this order (the team's spreadsheet contract).
EXPORT_COLUMNS: tuple[str, ...] = (
    "source_key",
    "seed_ref",
    "first_author",
    "year",
    "study_design",
    "disease",
    "cohort",
    "intervention",
    "product",
    "n",
    "measure",
    "timepoint_months",
    "value",
    "unit",
    "events",
    "ci_low",
    "ci_high",
    "quote",
)

#: Further columns after the agreed ones: what is needed to trace and re-analyse a row.
EXTRA_COLUMNS: tuple[str, ...] = (
    "label",
    "statistic",
    "range_low",
    "range_high",
    "events_basis",
    "denominator",
    "ci_level",
    "analysis_unit",
    "criteria",
    "n_studies",
    "provenance_kind",
    "section",
    "locator",
    "provenance_source_key",
    "url",
    "discrepancy",
    "discrepancy_note",
    "note",
    "study_key",
    "study_name",
    "cohort_key",
    "outcome_key",
    "therapy",
    "cohort_role",
    "denominator_basis",
    "denominator_uncertain",
    "selection",
    "n_source",
    "doi",
    "pmid",
    "file",
    "line",
)

COLUMNS: tuple[str, ...] = EXPORT_COLUMNS + EXTRA_COLUMNS

#: Integer columns kept as nullable integers, so 18 is written "18", not "18.0".
_INTEGER_COLUMNS = ("seed_ref", "year", "n", "events", "denominator", "n_studies", "line")
_FLOAT_COLUMNS = (
    "timepoint_months",
    "value",
    "ci_low",
    "ci_high",
    "range_low",
    "range_high",
    "ci_level",
)


def _row(evidence: Evidence, outcome: Outcome) -> dict[str, object]:
    cohort = evidence.cohort(outcome.cohort_key)
    study = evidence.study(cohort.study_key)
    source = evidence.source(study.source_key)
    provenance = outcome.provenance
    return {
        "source_key": source.key,
        "seed_ref": source.seed_ref,
        "first_author": source.first_author,
        "year": source.year,
        "study_design": study.design.value,
        "disease": (cohort.disease or study.disease).value,
        "cohort": cohort.label,
        "intervention": cohort.intervention,
        "product": "+".join(cohort.products) or None,
        "n": cohort.n,
        "measure": outcome.measure.value,
        "timepoint_months": outcome.timepoint_months,
        "value": outcome.value,
        "unit": outcome.unit.value,
        "events": outcome.events,
        "ci_low": outcome.ci_low,
        "ci_high": outcome.ci_high,
        "quote": provenance.quote,
        "label": outcome.label,
        "statistic": outcome.statistic.value,
        "range_low": outcome.range_low,
        "range_high": outcome.range_high,
        "events_basis": outcome.events_basis.value,
        "denominator": outcome.denominator,
        "ci_level": outcome.ci_level,
        "analysis_unit": outcome.analysis_unit,
        "criteria": outcome.criteria,
        "n_studies": outcome.n_studies,
        "provenance_kind": provenance.kind.value,
        "section": provenance.section,
        "locator": provenance.locator,
        "provenance_source_key": provenance.source_key,
        "url": provenance.url,
        "discrepancy": outcome.discrepancy_with,
        "discrepancy_note": outcome.discrepancy_note,
        "note": outcome.note,
        "study_key": study.key,
        "study_name": study.name,
        "cohort_key": cohort.key,
        "outcome_key": outcome.key,
        "therapy": cohort.therapy,
        "cohort_role": cohort.role.value,
        "denominator_basis": (outcome.denominator_basis or cohort.denominator_basis).value,
        "denominator_uncertain": outcome.denominator_uncertain,
        "selection": cohort.selection,
        "n_source": _where(cohort.n_provenance),
        "doi": source.doi,
        "pmid": source.pmid,
        "file": outcome.file,
        "line": outcome.line,
    }


def _where(provenance: Provenance | None) -> str | None:
    """Where a number was read, in one cell: kind, locator and quote."""
    if provenance is None:
        return None
    parts = [provenance.kind.value, provenance.locator or "", provenance.source_key or ""]
    text = " ".join(p for p in parts if p)
    return f"{text}: “{' '.join(provenance.quote.split())}”" if provenance.quote else text


def outcomes_frame(evidence: Evidence) -> pd.DataFrame:
    """Every outcome as a row, ordered by source, study, cohort and position in the cohort."""
    rows = [_row(evidence, outcome) for outcome in evidence.outcomes]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in _INTEGER_COLUMNS:
        frame[name] = frame[name].astype("Int64")
    for name in _FLOAT_COLUMNS:
        frame[name] = frame[name].astype("float64")
    frame["_ordinal"] = pd.Series([o.ordinal for o in evidence.outcomes], dtype="int64")
    keys = ["source_key", "study_key", "cohort_key", "_ordinal"]
    frame = frame.sort_values(keys, kind="stable").drop(columns="_ordinal")
    return frame.reset_index(drop=True)
