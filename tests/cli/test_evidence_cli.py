"""``postcart evidence ...`` and ``postcart run`` driven through typer's test runner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from postcart.cli import app as root_app
from postcart.cli.evidence import app

EVIDENCE = Path(__file__).resolve().parent.parent / "data" / "evidence"
GOOD = EVIDENCE / "good"
BROKEN = EVIDENCE / "broken"
runner = CliRunner()


def test_validate_good_files_prints_counts() -> None:
    result = runner.invoke(app, ["validate", str(GOOD)])
    assert result.exit_code == 0, result.output
    # Counted by hand in tests/data/evidence/good.
    assert "valid: 3 sources, 2 studies, 3 cohorts, 8 outcomes" in result.output


def test_validate_lists_every_problem_as_file_line_field_message() -> None:
    files = [BROKEN / "percent_range.yaml", BROKEN / "yaml_syntax.yaml"]
    result = runner.invoke(app, ["validate", *map(str, files)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(BROKEN))]
    pattern = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>\S+): (?P<message>.+)$")
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    found = {(Path(m["file"]).name, m["field"]) for m in parsed if m}
    assert ("percent_range.yaml", "studies[0].cohorts[0].outcomes[0].value") in found
    assert ("yaml_syntax.yaml", "(yaml)") in found


def test_build_then_export_csv_and_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    built = runner.invoke(app, ["build", "--db", db, "--data", str(GOOD)])
    assert built.exit_code == 0, built.output
    assert "3 sources, 2 studies, 3 cohorts, 8 outcomes" in built.output
    csv = runner.invoke(app, ["export", "--format", "csv", "--db", db])
    assert csv.exit_code == 0, csv.output
    header, *rows = csv.stdout.strip().splitlines()
    assert header.startswith("source_key,seed_ref,first_author,year,study_design,disease,")
    assert len(rows) == 8
    out = tmp_path / "evidence.json"
    written = runner.invoke(app, ["export", "-f", "json", "-o", str(out), "--db", db])
    assert written.exit_code == 0, written.output
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 8


def test_export_builds_an_empty_database_first(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    out = tmp_path / "evidence.xlsx"
    result = runner.invoke(
        app, ["export", "-f", "xlsx", "-o", str(out), "--db", db, "--data", str(GOOD)]
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_excel(out)) == 8


def test_xlsx_to_stdout_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["export", "-f", "xlsx", "--db", db, "--data", str(GOOD)])
    assert result.exit_code == 2


def test_summary_tables() -> None:
    result = runner.invoke(app, ["summary", str(GOOD)])
    assert result.exit_code == 0, result.output
    assert "Outcomes per measure" in result.output
    # orr appears four times in the fixtures (a1, a2, b1, and the range across studies).
    assert re.search(r"orr\s+│\s+4\s", result.output)


def test_every_command_ends_its_help_with_an_example() -> None:
    for command in app.registered_commands:
        assert command.callback is not None
        doc = (command.callback.__doc__ or "").strip().splitlines()
        assert doc[-1].strip().startswith("Example: postcart evidence"), command.name


def test_run_writes_the_three_exports(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'run.db'}"
    out = tmp_path / "out"
    result = runner.invoke(root_app, ["run", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    frames = [
        pd.read_csv(out / "evidence.csv"),
        pd.DataFrame(json.loads((out / "evidence.json").read_text(encoding="utf-8"))),
        pd.read_excel(out / "evidence.xlsx"),
    ]
    assert len({len(frame) for frame in frames}) == 1
    assert len(frames[0]) >= 100
    assert str(out.resolve()) in result.output.replace("\n", "")


def test_build_from_an_empty_folder_or_a_partial_one_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'guard.db'}"
    assert runner.invoke(app, ["build", "--db", db, "--data", str(GOOD)]).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = runner.invoke(app, ["build", "--db", db, "--data", str(empty)])
    assert refused.exit_code == 1
    assert "no *.yaml evidence files" in refused.output
    partial = runner.invoke(app, ["build", "--db", db, "--data", str(GOOD / "catalogue.yaml")])
    assert partial.exit_code == 1
    assert "would remove 2 stored source(s)" in partial.output
    assert "fixture-a, fixture-b" in partial.output
    allowed = runner.invoke(
        app, ["build", "--db", db, "--data", str(GOOD / "catalogue.yaml"), "--allow-removal"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "removed sources: fixture-a, fixture-b" in allowed.output
