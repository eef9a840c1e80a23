"""The outcome export: agreed column order, one row per outcome, three formats that agree."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from postcart.evidence import EXPORT_COLUMNS, build_database, load, read_database
from postcart.evidence.export import ExportFormat, export_file, export_text

AGREED = [
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
]


def test_columns_start_with_the_agreed_order(good_dir: Path) -> None:
    frame = load(good_dir).to_frame()
    assert list(EXPORT_COLUMNS) == AGREED
    assert list(frame.columns[: len(AGREED)]) == AGREED
    assert {"events_basis", "provenance_kind", "outcome_key", "therapy"} <= set(frame.columns)


def test_rows_carry_their_cohort_and_source(good_dir: Path) -> None:
    frame = load(good_dir).to_frame()
    assert len(frame) == 8  # outcomes counted by hand in the good fixtures
    # Sorted by source, study, cohort and position: fixture-a's four cohort-a1 rows come first.
    assert list(frame["source_key"]) == ["fixture-a"] * 5 + ["fixture-b"] * 3
    first = frame.iloc[0]
    assert first["outcome_key"] == "a1-orr"
    assert first["product"] == "prod-a+prod-b"
    assert (first["first_author"], first["year"], first["seed_ref"], first["n"]) == (
        "Alpha",
        2021,
        3,
        22,
    )
    assert (first["value"], first["events"], first["events_basis"]) == (82.0, 18, "derived_exact")
    assert first["quote"] == "The ORR was 82 % in fixture A."
    subgroup = frame[frame["cohort_key"] == "cohort-a2"].iloc[0]
    assert subgroup["disease"] == "DLBCL"  # the cohort's own disease overrides the study's
    assert subgroup["therapy"] == "ther-x"
    # 50 % of 200 fits 99, 100 and 101: not exact, so round(50 % × 200) labelled approximate.
    assert (subgroup["events"], subgroup["events_basis"]) == (100, "approximate")


def test_csv_json_and_xlsx_hold_the_same_table(good_dir: Path, tmp_path: Path) -> None:
    evidence = load(good_dir)
    from_csv = pd.read_csv(StringIO(export_text(evidence, ExportFormat.csv)))
    rows = json.loads(export_text(evidence, ExportFormat.json))
    xlsx = export_file(evidence, ExportFormat.xlsx, tmp_path / "sub" / "evidence.xlsx")
    from_xlsx = pd.read_excel(xlsx, sheet_name="outcomes")
    assert isinstance(rows, list)
    assert list(rows[0]) == list(from_csv.columns) == list(from_xlsx.columns)
    assert len(rows) == len(from_csv) == len(from_xlsx) == 8
    assert rows[0]["events"] == 18
    assert rows[3]["ci_low"] == 3.1
    assert (rows[4]["events"], rows[4]["events_basis"]) == (100, "approximate")
    pd.testing.assert_frame_equal(from_csv, from_xlsx, check_dtype=False)


def test_export_is_deterministic(good_dir: Path) -> None:
    evidence = load(good_dir)
    assert export_text(evidence, ExportFormat.csv) == export_text(load(good_dir), ExportFormat.csv)


def test_export_from_database_equals_export_from_files(db_url: str, good_dir: Path) -> None:
    build_database(db_url, good_dir)
    for fmt in (ExportFormat.csv, ExportFormat.json):
        assert export_text(read_database(db_url), fmt) == export_text(load(good_dir), fmt)


def test_xlsx_has_no_text_form(good_dir: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        export_text(load(good_dir), ExportFormat.xlsx)
