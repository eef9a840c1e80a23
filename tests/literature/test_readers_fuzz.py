"""Generated exports (issue 16): whatever bytes arrive, a reader yields records or raises a
``RecordParseError`` naming the file; never another exception, never a hang.

The inputs are built from each format's own pieces (RIS tags, MEDLINE fields, CSV headers and
delimiters, PubMed XML elements, spreadsheets) mixed with junk: NUL and control bytes, invalid
UTF-8, giant lines, unbalanced quotes and tags. Examples per test come from
``POSTCART_FUZZ_EXAMPLES`` (300 in ``make test``; ``make fuzz`` raises it).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postcart.errors import PostcartError
from postcart.literature.readers import read_records

EXAMPLES = int(os.environ.get("POSTCART_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))  # fmt: skip

junk = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "\r", "\t", '"', "<", "&", "]]>", "\ufeff", "=1+1", "-" * 3]),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
ris_line = st.builds(
    lambda tag, value: f"{tag}  - {value}",
    st.sampled_from(["TY", "TI", "T1", "AU", "PY", "DO", "AN", "ER", "JO", "AB", "XX", ""]),
    junk,
)
medline_line = st.builds(
    lambda tag, value: f"{tag:<4}- {value}",
    st.sampled_from(["PMID", "TI", "AB", "AU", "DP", "LID", "AID", "JT", "      "]),
    junk,
)
csv_text = st.builds(
    lambda header, rows, sep: "\n".join([sep.join(header)] + [sep.join(r) for r in rows]),
    st.lists(st.sampled_from(["Title", "Authors", "Year", "DOI", "Abstract", "x", ""]), max_size=6),
    st.lists(st.lists(junk, max_size=7), max_size=6),
    st.sampled_from([",", ";", "\t", "|"]),
)
xml_text = st.builds(
    lambda parts: "<?xml version='1.0'?><PubmedArticleSet>" + "".join(parts),
    st.lists(st.one_of(st.sampled_from(["<PubmedArticle>", "</PubmedArticle>",
                                        "<ArticleTitle>", "</ArticleTitle>", "<PMID>1</PMID>",
                                        "<!DOCTYPE x [<!ENTITY a 'b'>]>", "&a;"]), junk),
             max_size=12),
)  # fmt: skip


def _read(data: bytes, suffix: str, fmt: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            for _ in read_records(path, fmt):
                pass
        except PostcartError:
            pass


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _read(data, ".txt")


@FUZZ
@given(st.lists(st.one_of(ris_line, medline_line), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_tagged_formats(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    for encoding in ("utf-8", "utf-16"):
        _read(text.encode(encoding, errors="surrogatepass"), ".ris")
    _read(text.encode("utf-8", errors="surrogatepass"), ".ris", "ris")
    _read(text.encode("utf-8", errors="surrogatepass"), ".nbib", "medline")


@FUZZ
@given(st.one_of(csv_text, xml_text))
def test_tables_and_xml(text: str) -> None:
    data = text.encode("utf-8", errors="surrogatepass")
    _read(data, ".csv")
    _read(data, ".xml", "pubmed_xml")
    _read(data, ".csv", "delimited")


@FUZZ
@given(st.lists(st.lists(st.one_of(junk, st.integers(), st.floats(), st.none()), max_size=5),
                max_size=8))  # fmt: skip
def test_spreadsheets(rows: list[list[object]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Title", "Authors", "Year"])
    for row in rows:
        cells = [c.replace("\x00", "") if isinstance(c, str) else c for c in row]
        try:
            sheet.append(cells)
        except Exception:  # openpyxl itself refuses some control characters: not our input
            return
    buffer = io.BytesIO()
    book.save(buffer)
    _read(buffer.getvalue(), ".xlsx")
