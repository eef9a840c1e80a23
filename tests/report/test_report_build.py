"""Same data ⇒ same bytes; the snapshot and the 'what changed' section."""

from __future__ import annotations

import json
from pathlib import Path

from postcart.evidence import Evidence
from postcart.report.build import Report, build_report
from postcart.report.compare import compare


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_rebuild_is_byte_identical(
    built: tuple[Path, Report], evidence: Evidence, tmp_path: Path
) -> None:
    first = _files(built[0])
    build_report(tmp_path, evidence=evidence)
    second = _files(tmp_path)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    assert {"index.html", "report.md", "results.json", "tables/report_tables.xlsx"} <= set(first)
    assert any(name.endswith(".pdf") for name in first)


def test_snapshot_is_from_the_data(built: tuple[Path, Report], evidence: Evidence) -> None:
    snap = built[1].snapshot
    assert snap.newest_source_year == max(s.year for s in evidence.sources if s.year)
    html = (built[0] / "index.html").read_text(encoding="utf-8")
    assert snap.content_hash in html


def test_compare_reports_new_studies_and_moves(built: tuple[Path, Report]) -> None:
    new = json.loads((built[0] / "results.json").read_text(encoding="utf-8"))
    old = json.loads(json.dumps(new))
    dropped = old["studies"].pop(0)
    name, analysis = next((k, v) for k, v in old["analyses"].items() if v["status"] == "pooled")
    analysis["pooled_percent"] -= 5.0
    changes = compare(old, new)
    assert changes.new_studies == (dropped,)
    assert any(analysis["title"] in line for line in changes.moved)
    assert compare(new, new).unchanged
    assert name


def test_compare_section_in_html(built: tuple[Path, Report], evidence: Evidence,
                                 tmp_path: Path) -> None:  # fmt: skip
    build_report(tmp_path, evidence=evidence, compare_to=built[0] / "results.json")
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "What changed since" in html
    assert "Nothing changed." in html
