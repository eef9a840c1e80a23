"""Every public export in ``shared/data/literature`` imports with the right count and fields.

Where the expected numbers come from (never from our parser):
- RIS: ``grep -c '^TY  -'`` on each file (Cochrane pads to ``TY  -  JOUR``; counted by eye:
  3 records each, despite the "Record #3 of 18" banner). Every RIS file also has as many ``ER``
  lines as ``TY`` lines.
- MEDLINE: ``grep -c '^PMID-'`` (``_baseline_pubmed.ris`` is MEDLINE despite its name: 50).
- PubMed XML: ``grep -o '<PubmedArticle>' | wc -l`` (pubmed1/2: 2 each, pubmed4/5: 1 each);
  PMC: one ``<article `` element.
- CSV/TSV/XLSX: data rows read with Python's ``csv`` module or opened in openpyxl, minus the
  header and, for Embase/Excel, a 3-line "SEARCH QUERY" banner; Abstrackr has 12 rows = header +
  10 records + one "citations that are not yet labeled by anyone" divider row.
- Titles, years, DOIs and PMIDs of first records were read by eye in the files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from postcart.errors import RecordParseError
from postcart.literature.readers import read_records

CFF = "data/literature/citation-file-formatting"
BIO = "data/literature/biopython"

# path, format, count, first title starts with, first year, first DOI, first PMID
EXPECTED: list[tuple[str, str, int, str, int | None, str | None, str | None]] = [
    (
        f"{BIO}/pubmed1.xml",
        "pubmed_xml",
        2,
        "The treatment of AIDS behind the walls",
        1990,
        None,
        "12091962",
    ),
    (
        f"{BIO}/pubmed2.xml",
        "pubmed_xml",
        2,
        "Is cryopreservation a homogeneous process?",
        2001,
        "10.1006/cryo.2001.2328",
        "11748933",
    ),
    (
        f"{BIO}/pubmed4.xml",
        "pubmed_xml",
        1,
        "Leucocyte telomere length, genetic variants at the TERT gene",
        2017,
        "10.1136/gutjnl-2016-312510",
        "27797938",
    ),
    (
        f"{BIO}/pubmed5.xml",
        "pubmed_xml",
        1,
        "Occupational pesticide exposure and subclinical hy",
        2018,
        "10.1136/oemed-2017-104431",
        "28775130",
    ),
    (
        f"{BIO}/efetch_pmc.xml",
        "pmc_xml",
        1,
        "“Lung diffusing capacity for nitric oxide",
        2021,
        "10.1183/23120541.50193-2021",
        "34527728",
    ),
    (
        f"{BIO}/pubmed_result1.txt",
        "medline",
        1,
        "The Bio* toolkits--a brief overview.",
        2002,
        None,
        "12230038",
    ),
    (
        f"{BIO}/pubmed_result2.txt",
        "medline",
        4,
        "A high level interface to SCOP and ASTRAL",
        2006,
        "10.1186/1471-2105-7-10",
        "16403221",
    ),
    (
        f"{CFF}/_baseline_pubmed.ris",
        "medline",
        50,
        "Time lapse: A glimpse into prehistoric genomics",
        2020,
        "10.1016/j.ejmg.2019.03.004",
        "30922926",
    ),
    (
        f"{CFF}/_baseline.ris",
        "ris",
        100,
        "The Value of Radiologic Interventions and 18",
        2012,
        "10.1007/s11307-012-0572-0",
        "22752652",
    ),
    (
        f"{CFF}/_baseline_citavi.ris",
        "ris",
        100,
        "Postoperative headache after surgical",
        2021,
        "10.1007/s00405-021-06627-6",
        None,
    ),
    (
        f"{CFF}/_baseline_cinahl.ris",
        "ris",
        9,
        "Osteohistological insight into the growth",
        2024,
        "10.1371/journal.pone.0298242",
        None,
    ),
    (
        f"{CFF}/_baseline_cochrane_endnote.ris",
        "ris",
        3,
        "The Incredible Years Therapeutic Dinosaur",
        2011,
        "10.1186/1745-6215-12-39",
        "21314913",
    ),
    (
        f"{CFF}/_baseline_cochrane_procite.ris",
        "ris",
        3,
        "The Incredible Years Therapeutic",
        2011,
        "10.1186/1745-6215-12-39",
        "21314913",
    ),
    (
        f"{CFF}/_baseline_cochrane_refman.ris",
        "ris",
        3,
        "The Incredible Years Therapeutic",
        2011,
        "10.1186/1745-6215-12-39",
        "21314913",
    ),
    (
        f"{CFF}/_baseline_covidence_endnote.ris",
        "ris",
        10,
        "Cellular structure of dinosaur scales",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_covidence_mendeley.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_covidence_refworks.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_covidence_zotero.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_embase.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_endnote.ris",
        "ris",
        10,
        "Description of a new specimen of Haplocantho",
        2024,
        "10.1002/ar.25520",
        None,
    ),
    (
        f"{CFF}/_baseline_eppireviewer.ris",
        "ris",
        10,
        "A juvenile bird with possible crown-group",
        2024,
        "10.1186/s12862-024-02210-9",
        None,
    ),
    (
        f"{CFF}/_baseline_eric_ovid.ris",
        "ris",
        10,
        "Creationism and the Dinosaur Boom.",
        1989,
        None,
        None,
    ),
    (
        f"{CFF}/_baseline_googlescholar.ris",
        "ris",
        10,
        "Did dinosaurs invent flowers?",
        2001,
        None,
        None,
    ),
    (
        f"{CFF}/_baseline_mdpi.ris",
        "ris",
        11,
        "Oil and the Best Brain of the 20th Century",
        2010,
        "10.3390/en3050940",
        None,
    ),
    (
        f"{CFF}/_baseline_mendeley.ris",
        "ris",
        10,
        "Description of a new specimen of Haplocantho",
        2024,
        "10.1002/ar.25520",
        None,
    ),
    (
        f"{CFF}/_baseline_openalex.ris",
        "ris",
        9,
        "A bioprovince for the Barremian–Aptian",
        2024,
        "10.1016/j.cretres.2023.105752",
        None,
    ),
    (
        f"{CFF}/_baseline_rayyan.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_refworks.ris",
        "ris",
        10,
        "Description of a new specimen of Haplocantho",
        2024,
        "10.1002/ar.25520",
        None,
    ),
    (
        f"{CFF}/_baseline_scopus.ris",
        "ris",
        10,
        "Global latitudinal gradients and the evoluti",
        2024,
        "10.1038/s41467-024-46843-2",
        None,
    ),
    (
        f"{CFF}/_baseline_zotero.ris",
        "ris",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline.csv",
        "delimited",
        100,
        "The Value of Radiologic Interventions",
        2012,
        "10.1007/s11307-012-0572-0",
        "22752652",
    ),
    (
        f"{CFF}/_baseline.tsv",
        "delimited",
        100,
        "The Value of Radiologic Interventions",
        2012,
        "10.1007/s11307-012-0572-0",
        "22752652",
    ),
    (
        f"{CFF}/_baseline.xlsx",
        "xlsx",
        100,
        "The Value of Radiologic Interventions",
        2012,
        "10.1007/s11307-012-0572-0",
        "22752652",
    ),
    (
        f"{CFF}/_baseline_refworks.tsv",
        "delimited",
        100,
        "The effect of intra-arterial angiotensin II",
        2014,
        "10.1016/j.jvir.2013.12.293",
        None,
    ),
    (
        f"{CFF}/_baseline_abstrackr.csv",
        "delimited",
        10,
        "A new small duckbilled dinosaur",
        None,
        None,
        None,
    ),
    (
        f"{CFF}/_baseline_cinahl.csv",
        "delimited",
        10,
        "Osteohistological insight into the growth",
        2024,
        "10.1371/journal.pone.0298242",
        None,
    ),
    (
        f"{CFF}/_baseline_cochrane.csv",
        "delimited",
        3,
        "The Incredible Years Therapeutic",
        2011,
        "10.1186/1745-6215-12-39",
        "21314913",
    ),
    (
        f"{CFF}/_baseline_covidence.csv",
        "delimited",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_embase.csv",
        "delimited",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        "38773066",
    ),
    (
        f"{CFF}/_baseline_excel.csv",
        "delimited",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        "38773066",
    ),
    (
        f"{CFF}/_baseline_googlescholar.csv",
        "delimited",
        10,
        "Did dinosaurs invent flowers?",
        2001,
        None,
        None,
    ),
    (
        f"{CFF}/_baseline_openalex.csv",
        "delimited",
        9,
        "A bioprovince for the Barremian–Aptian",
        2024,
        "10.1016/j.cretres.2023.105752",
        None,
    ),
    (
        f"{CFF}/_baseline_pubmed.csv",
        "delimited",
        10,
        "Time lapse: A glimpse into prehistoric",
        2020,
        "10.1016/j.ejmg.2019.03.004",
        "30922926",
    ),
    (
        f"{CFF}/_baseline_rayyan.csv",
        "delimited",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_zotero.csv",
        "delimited",
        10,
        "Cellular structure of dinosaur",
        2024,
        "10.1038/s41467-024-48400-3",
        None,
    ),
    (
        f"{CFF}/_baseline_eppireviewer.xlsx",
        "xlsx",
        10,
        "A juvenile bird with possible",
        2024,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("relative", "fmt", "count", "title", "year", "doi", "pmid"),
    EXPECTED,
    ids=[row[0].rsplit("/", 1)[1] for row in EXPECTED],
)
def test_shared_file_imports(
    shared_dir: Path,
    relative: str,
    fmt: str,
    count: int,
    title: str,
    year: int | None,
    doi: str | None,
    pmid: str | None,
) -> None:
    stream = read_records(shared_dir / relative)
    records = list(stream)
    assert stream.format == fmt
    assert len(records) == count
    assert stream.errors == []
    first = records[0]
    assert first.title.startswith(title)
    assert first.year == year
    assert first.doi == doi
    assert first.pmid == pmid
    assert all(record.title for record in records)
    assert all(record.source_file.endswith(relative.rsplit("/", 1)[1]) for record in records)


def test_every_shared_literature_file_is_covered(shared_dir: Path) -> None:
    """A new file dropped into the shared folder must get an expectation here."""
    on_disk = {
        str(p.relative_to(shared_dir))
        for p in (shared_dir / "data/literature").rglob("*")
        if p.is_file() and not p.name.startswith("esearch")
    }
    assert on_disk == {row[0] for row in EXPECTED}


@pytest.mark.parametrize("name", ["esearch1.xml", "esearch2.xml"])
def test_esearch_answers_are_refused_not_read_as_empty(shared_dir: Path, name: str) -> None:
    """An esearch answer is a list of PMIDs, not records; zero records would hide the mistake."""
    with pytest.raises(RecordParseError, match="efetch"):
        list(read_records(shared_dir / BIO / name))


def _csv_column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    "name", ["_baseline.ris", "_baseline_citavi.ris", "_baseline.tsv", "_baseline.xlsx"]
)
def test_baseline_exports_carry_the_baseline_dois(shared_dir: Path, name: str) -> None:
    """These exports were made from ``_baseline.csv``; its DOI column (read by ``csv``) is truth."""
    truth = {d.lower() for d in _csv_column(shared_dir / CFF / "_baseline.csv", "DOI") if d}
    assert len(truth) == 100
    found = {record.doi for record in read_records(shared_dir / CFF / name)}
    assert found == truth


def test_ris_source_lines_point_at_ty_lines(shared_dir: Path) -> None:
    path = shared_dir / CFF / "_baseline_eric_ovid.ris"
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [r.source_line for r in read_records(path)]
    assert [lines[n - 1][:4] for n in starts] == ["TY  "] * 10
    assert starts[:2] == [2, 37]  # by eye: "6. " banner on line 1, second record after "47. "


def test_medline_named_ris_keeps_authors_and_dois(shared_dir: Path) -> None:
    records = list(read_records(shared_dir / CFF / "_baseline_pubmed.ris"))
    # grep -c '\[doi\]$' on AID lines, by PMID: 30922926 has DOI 10.1016/j.ejmg.2019.03.004.
    assert records[0].authors[:3] == ("Griffin DK", "Larkin DM", "O'Connor RE")
    assert records[0].first_author == "Griffin"
    assert records[0].journal == "European journal of medical genetics"
