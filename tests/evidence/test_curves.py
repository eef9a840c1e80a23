"""Curve files as evidence: formats recognised, problems named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.evidence import load
from postcart.evidence.curve_readers import CurveFileError, read_curve, read_risk_table
from postcart.evidence.curves import (
    digitise_candidates,
    load_curves,
    prepare_curve,
    prepare_record,
    read_manifest,
    reconstruct_curve,
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


PLAIN = "time,survival\n0,100\n1,100\n1,90\n2,90\n2,80\n5,80\n"


def test_plain_csv_in_percent(tmp_path: Path) -> None:
    raw = read_curve(_write(tmp_path, "c.csv", PLAIN))
    assert raw.format.startswith("plain CSV")
    assert raw.lines == (2, 3, 4, 5, 6, 7)
    prepared = prepare_curve(raw)
    assert prepared.clean.unit == "percent"
    assert "survival read as percent (starts above 1.5)" in prepared.steps


@pytest.mark.parametrize(
    ("text", "fmt", "dataset"),
    [
        ("0.0,1.0\n1.02,0.91\n2.5,0.80\n", "x,y rows", None),
        ("X,Y\n0.0,1.0\n1.02,0.91\n2.5,0.80\n", "X,Y header", None),
        (
            "OS,,PFS,\nX,Y,X,Y\n0,1,0,1\n1.02,0.91,0.5,0.7\n2.5,0.80,,\n",
            "all datasets",
            "OS",
        ),
        ("0;1\n1,02;0,91\n2,5;0,80\n", "x,y rows", None),
    ],
)
def test_webplotdigitizer_layouts(tmp_path: Path, text: str, fmt: str, dataset: str | None) -> None:
    raw = read_curve(_write(tmp_path, "wpd.csv", text), dataset=dataset)
    assert fmt in raw.format
    assert raw.time == (0.0, 1.02, 2.5)
    assert raw.surv == (1.0, 0.91, 0.80)


def test_multi_dataset_export_needs_a_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "wpd.csv", "OS,,PFS,\nX,Y,X,Y\n0,1,0,1\n1,0.9,1,0.8\n")
    with pytest.raises(CurveFileError, match=r"wpd.csv:1: dataset: several datasets"):
        read_curve(path)
    assert read_curve(path, dataset="PFS").surv == (1.0, 0.8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,survival\n0,1\n1,abc\n", r"c.csv:3: survival: 'abc' is not a number"),
        ("time,survival\n0,1\n1,0.9\n2,1.4\n", r"c.csv:4: survival: 1.4 is above 1"),
        ("time,survival\n0,1\n-3,0.9\n2,0.8\n", r"c.csv:3: time: -3 is below 0"),
        ("time,survival\n0,1\n1,0.4\n9,0.9\n", r"c.csv:4: survival: the curve rises by 0.5"),
        ("when,alive\n0,1\n", r"c.csv:1: header: expected 'time,survival'"),
        ("time,survival\n0,1\n", r"c.csv: time: the curve has 1 point"),
        ("", r"c.csv: file: no data rows"),
    ],
)
def test_curve_problems_name_file_line_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "c.csv", text)
    with pytest.raises(CurveFileError, match=message):
        prepare_curve(read_curve(path))


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        ("time,at_risk\n1,10\n", r"r.csv:2: time: the first row must be at time 0"),
        ("time,at_risk\n0,10\n9,5\n", r"r.csv:3: time: 9 is outside the curve"),
        ("time,at_risk\n0,10\n2,12\n", r"r.csv:3: at_risk: 12 is more than the 10"),
        ("time,at_risk\n0,10\n2,7.5\n", r"r.csv:3: at_risk: '7.5' is not a whole number"),
        ("time,at_risk\n0,10\n3,8\n2,7\n", r"r.csv:4: time: 2 does not come after 3"),
        ("t,n\n0,10\n", r"r.csv:1: header: expected 'time,at_risk'"),
    ],
)
def test_risk_table_problems(tmp_path: Path, risk: str, message: str) -> None:
    raw = read_curve(_write(tmp_path, "c.csv", PLAIN))
    with pytest.raises(CurveFileError, match=message):
        prepare_curve(raw, read_risk_table(_write(tmp_path, "r.csv", risk)))


def test_reconstruct_with_risk_table(tmp_path: Path) -> None:
    raw = read_curve(_write(tmp_path, "c.csv", PLAIN))
    risk = read_risk_table(_write(tmp_path, "r.csv", "time,at_risk\n0,10\n3,8\n"))
    rec = reconstruct_curve(prepare_curve(raw, risk), total_events=2)
    assert (rec.n, rec.events, rec.events_matched) == (10, 2, True)


MANIFEST = """\
key: test_os
cohort: {cohort}
endpoint: os
arm: all patients
source: {source}
figure: Figure 1
panel: A
curve: c.csv
risk_table: r.csv
risk_table_locator: Figure 1A, table below the axis
digitiser: {{tool: WebPlotDigitizer, version: "4.7", by: test}}
"""


def test_manifest_round_trip_and_cross_checks(tmp_path: Path) -> None:
    evidence = load()
    cohort = evidence.cohorts[0]
    source = evidence.source(evidence.study(cohort.study_key).source_key)
    _write(tmp_path, "c.csv", PLAIN)
    _write(tmp_path, "r.csv", "time,at_risk\n0,10\n3,8\n")
    _write(tmp_path, "m.yaml", MANIFEST.format(cohort=cohort.key, source=source.key))
    (record,) = load_curves(tmp_path, evidence)
    assert record.digitiser.tool == "WebPlotDigitizer"
    assert record.digitiser.version == "4.7"
    prepared = prepare_record(record)
    assert prepared.risk is not None
    _write(tmp_path, "m.yaml", MANIFEST.format(cohort="nope", source=source.key))
    with pytest.raises(CurveFileError, match=r"m.yaml: cohort: no cohort 'nope'"):
        load_curves(tmp_path, evidence)


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("figure: Figure 1\n", "figure: required"),
        ("risk_table_locator: Figure 1A, table below the axis\n", "a risk table needs its locator"),
    ],
)
def test_manifest_requires_provenance(tmp_path: Path, drop: str, message: str) -> None:
    text = MANIFEST.format(cohort="c", source="s").replace(drop, "")
    with pytest.raises(CurveFileError, match=message):
        read_manifest(_write(tmp_path, "m.yaml", text))


def test_no_curves_yet_so_candidates_come_from_the_evidence() -> None:
    evidence = load()
    assert load_curves() == ()
    candidates = digitise_candidates(evidence)
    assert candidates
    for cand in candidates:
        cohort = evidence.cohort(cand.cohort_key)
        assert cohort.role.value in ("relapse_after_cart", "salvage_after_cart")
        assert set(cand.endpoints) <= {"os", "pfs"}
    sizes = [c.n or 0 for c in candidates]
    assert sizes == sorted(sizes, reverse=True)
