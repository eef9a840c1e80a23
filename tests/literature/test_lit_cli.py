"""``postcart lit`` end to end on a temporary SQLite database and a shared PubMed export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from postcart.cli.literature import app

from .eutils_server import ReplayServer, article_pmids, dated_corpus_answer

ENV = {"POSTCART_PASSWORD": "secret", "POSTCART_REVIEWER": "ann"}


def _run(args: list[str], db: str, stdin: str = "") -> str:
    result = CliRunner().invoke(app, [*args, "--db", db], env=ENV, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_export_round_trip(shared_dir: Path, tmp_path: Path) -> None:
    source = shared_dir / "data/literature/biopython/pubmed_result2.txt"
    pmids = [
        line.split("-", 1)[1].strip()
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.startswith("PMID-")
    ]
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    _run(["import", str(source), "--project", "demo"], db)
    out = tmp_path / "records.csv"
    _run(["export", "--project", "demo", "--format", "csv", "-o", str(out)], db)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["pmid"] for r in rows] == pmids
    assert {r["source_file"] for r in rows} == {str(source)}
    assert all(r["title"] for r in rows)
    assert {"record_id", "title", "year", "doi", "pmid", "source_file"} <= set(rows[0])


def test_screen_from_stdin_then_prisma(shared_dir: Path, tmp_path: Path) -> None:
    source = shared_dir / "data/literature/biopython/pubmed_result2.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    n_records = sum(line.startswith("PMID-") for line in lines)
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    _run(["import", str(source)], db)
    _run(["dedup"], db)
    output = _run(["screen"], db, stdin="y\nn\nm\nq\n")
    assert output.count("saved:") == 3
    prisma_dir = tmp_path / "prisma"
    _run(["prisma", "-o", str(prisma_dir)], db)
    counts = json.loads((prisma_dir / "prisma_counts.json").read_text(encoding="utf-8"))
    cumulative = counts[-1]
    assert sum(cumulative["identified"].values()) == n_records
    assert cumulative["records_screened"] == 3
    assert cumulative["records_excluded"] == 1
    assert cumulative["reports_sought"] == 2
    assert (prisma_dir / "prisma_cumulative.svg").exists()


def test_wrong_password_is_refused(shared_dir: Path, tmp_path: Path) -> None:
    source = shared_dir / "data/literature/biopython/pubmed_result2.txt"
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    _run(["import", str(source)], db)
    result = CliRunner().invoke(
        app, ["export", "--db", db], env={**ENV, "POSTCART_PASSWORD": "wrong"}
    )
    assert result.exit_code == 1
    assert "wrong password" in result.output


def test_simulate_json(tmp_path: Path) -> None:
    lines = ["record_id,title,abstract,label_included"]
    for i in range(40):
        relevant = i % 10 == 0
        topic = "car t cell lymphoma relapse" if relevant else f"cardiac stent number {i}"
        lines.append(f"{i},{topic},{topic} abstract,{int(relevant)}")
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", str(labelled), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(io.StringIO(result.output).read())
    # 4 relevant, 2 taken as priors -> 2 left among 36 records; all found first -> k95 = 2
    assert (figures["n_records"], figures["n_included"]) == (36, 2)
    assert figures["records_to_95"] == 2
    assert figures["wss95"] == round((36 - 2) / 36 - 0.05, 4)


def test_search_imports_hits_as_new_update(shared_dir: Path, tmp_path: Path) -> None:
    folder = shared_dir / "data/literature/biopython"
    expected = article_pmids((folder / "pubmed1.xml").read_bytes())
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    _run(["import", str(folder / "pubmed_result2.txt")], db)
    with ReplayServer(shared_dir) as server:
        server.esearch_answer = dated_corpus_answer({p: date(2025, 3, 1) for p in expected})
        env = {**ENV, "NCBI_EMAIL": "team@example.org", "POSTCART_EUTILS_URL": server.base_url}
        result = CliRunner().invoke(app, ["search", "car_t_b_cell_lymphoma", "--db", db], env=env)
        assert result.exit_code == 0, result.output
        sent = server.seen("esearch")[0]
    assert "B-cell lymphoma" in str(sent)
    out = tmp_path / "all.csv"
    _run(["export", "-o", str(out)], db)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sorted(r["pmid"] for r in rows[-len(expected) :]) == sorted(expected)
    prisma_dir = tmp_path / "prisma"
    _run(["prisma", "-o", str(prisma_dir)], db)
    counts = json.loads((prisma_dir / "prisma_counts.json").read_text(encoding="utf-8"))
    assert [c["update_no"] for c in counts] == [1, 2, None]
    assert counts[1]["identified"] == {"PubMed": len(expected)}


HOSTILE_RIS = """TY  - JOUR
TI  - =HYPERLINK("http://example.invalid","CAR T relapse")
AU  - @Doe, J
PY  - 2024
JO  - +Journal
ER  -
"""


def test_export_neutralises_formulas_in_csv_and_writes_real_xlsx(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    source = tmp_path / "hostile.ris"
    source.write_text(HOSTILE_RIS, encoding="utf-8")
    _run(["import", str(source)], db)
    out = tmp_path / "records.csv"
    _run(["export", "--format", "csv", "-o", str(out)], db)
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["title"] == "'" + '=HYPERLINK("http://example.invalid","CAR T relapse")'
    assert row["journal"] == "'+Journal"
    book = tmp_path / "records.xlsx"
    _run(["export", "--format", "xlsx", "-o", str(book)], db)
    import openpyxl

    sheet = openpyxl.load_workbook(book).active  # a real workbook, not CSV renamed
    header, first = list(sheet.iter_rows(max_row=2))
    assert header[1].value == "title"
    assert first[1].value.startswith("=HYPERLINK")
    assert first[1].data_type == "s"


def test_export_refuses_an_unknown_format_and_xlsx_to_stdout(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    for args in (["export", "--format", "docx"], ["export", "--format", "xlsx"]):
        result = CliRunner().invoke(app, [*args, "--db", db], env=ENV)
        assert result.exit_code == 1, result.output
        assert "error:" in result.output
        assert "Traceback" not in result.output
