"""Living versions and "what changed": certainty changes, estimates beyond the old CI, triggers.

The version test builds twice from a copy of the evidence with one study's file removed: the
second build must be version 2, name the removed file as its trigger, list the removed study,
keep version 1 readable, and plan the same inputs again as version 2 (a rebuild).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from postcart.evidence.loader import DATA_DIR
from postcart.report.build import Report, build_report
from postcart.report.compare import certainty_changes, compare
from postcart.report.versions import plan


def _results(built: tuple[Path, Report]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((built[0] / "results.json").read_text(encoding="utf-8"))
    return data


def test_results_carry_certainty_per_pooled_analysis(built: tuple[Path, Report]) -> None:
    results = _results(built)
    pooled = {k for k, v in results["analyses"].items() if v["status"] == "pooled"}
    assert set(results["certainty"]) == pooled
    orr = results["certainty"]["rw_orr"]
    assert orr["level"] in ("high", "moderate", "low", "very_low")
    assert set(orr["domains"]) == {"risk_of_bias", "inconsistency", "indirectness",
                                   "imprecision", "publication_bias"}  # fmt: skip


def test_compare_lists_certainty_changes(built: tuple[Path, Report]) -> None:
    new = _results(built)
    old = json.loads(json.dumps(new))
    name = "rw_orr"
    title = new["certainty"][name]["title"]
    old["certainty"][name]["label"] = "High"
    old["certainty"].pop("rw_cr")
    lines = certainty_changes(old, new)
    assert f"{title}: High → {new['certainty'][name]['label']}" in lines
    cr = new["certainty"]["rw_cr"]
    assert f"{cr['title']}: not rated → {cr['label']}" in lines
    changes = compare(old, new)
    assert not changes.unchanged
    assert any(line.startswith("Certainty: ") for line in changes.lines())
    # A results file written before certainty existed has nothing to compare.
    old.pop("certainty")
    assert certainty_changes(old, new) == []


def test_compare_lists_estimates_outside_the_previous_ci(built: tuple[Path, Report]) -> None:
    new = _results(built)
    old = json.loads(json.dumps(new))
    a = old["analyses"]["rw_orr"]
    value = new["analyses"]["rw_orr"]["pooled_percent"]
    # Old CI ends 0.5 points below the new value: the new value lies outside it.
    a["ci_percent"] = [value - 10, value - 0.5]
    changes = compare(old, new)
    assert any(a["title"] in line and "outside the previous 95% CI" in line
               for line in changes.beyond_ci)  # fmt: skip
    a["ci_percent"] = [value - 10, value + 0.5]
    assert compare(old, new).beyond_ci == ()


def test_living_versions_count_trigger_and_keep_old_versions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("risk_of_bias"))
    out = tmp_path / "out"
    first = build_report(out, data_dir=data)
    assert first.version is not None
    assert (first.version.number, first.changes) == (1, None)
    (data / "ghafouri_rw.yaml").unlink()
    second = build_report(out, data_dir=data, trigger="test: one study withdrawn")
    assert second.version is not None
    assert (second.version.number, second.version.previous) == (2, 1)
    assert second.changes is not None
    assert second.changes.since_version == 1
    assert "files removed: evidence/ghafouri_rw.yaml" in second.version.trigger
    assert "test: one study withdrawn" in second.version.trigger
    assert "ghafouri" in second.changes.removed_studies
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "What changed since version 1" in html
    assert "Removed study: ghafouri" in html
    assert "Living version 2" in html
    assert "Living version 1" in (out / "versions" / "v1" / "index.html").read_text("utf-8")
    index = json.loads((out / "versions" / "index.json").read_text(encoding="utf-8"))
    assert [v["number"] for v in index["versions"]] == [1, 2]
    # Same inputs again: the same version (a rebuild), not a third one.
    assert plan(out, data, "test: one study withdrawn") == second.version
