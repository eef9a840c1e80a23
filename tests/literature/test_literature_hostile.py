"""Hostile and awkward inputs: each must fail loudly and precisely, or be read correctly.

The fixture files in ``tests/data/literature/hostile/`` were written by hand (see each test);
their expected contents are known from how they were written, not from our parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.errors import RecordParseError
from postcart.literature.readers import read_records

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "literature" / "hostile"


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_entity_declarations_are_refused_not_expanded(name: str) -> None:
    with pytest.raises(RecordParseError, match="declares entities") as caught:
        list(read_records(HOSTILE / name))
    assert caught.value.field == "DOCTYPE"
    assert "root:" not in str(caught.value)  # /etc/passwd content never appears


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_entity_refusal_holds_when_format_is_forced(name: str) -> None:
    with pytest.raises(RecordParseError, match="declares entities"):
        list(read_records(HOSTILE / name, "pubmed_xml"))


def test_external_dtd_is_not_fetched_and_file_still_reads() -> None:
    records = list(read_records(HOSTILE / "external_dtd.xml"))
    assert [r.title for r in records] == ["External DTD is never loaded"]


def test_truncated_xml_yields_good_articles_then_names_the_line() -> None:
    """Written with one complete article (PMID 11) and a second cut off mid-element."""
    seen: list[str | None] = []

    def consume() -> None:
        seen.extend(record.pmid for record in read_records(HOSTILE / "truncated.xml"))

    with pytest.raises(RecordParseError) as caught:
        consume()
    assert seen == ["11"]
    assert caught.value.field == "xml"
    assert caught.value.line is not None


@pytest.mark.parametrize("name", ["junk.bin", "prose.txt"])
def test_unrecognised_content_is_an_error_not_zero_records(name: str) -> None:
    with pytest.raises(RecordParseError):
        read_records(HOSTILE / name)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_bytes(b"")
    with pytest.raises(RecordParseError, match="empty"):
        read_records(empty)


@pytest.mark.parametrize("name", ["utf16_bom.ris", "latin1_crlf.ris"])
def test_encodings_and_crlf(name: str) -> None:
    """Same two CRLF records, saved as UTF-16-LE with BOM and as Latin-1."""
    stream = read_records(HOSTILE / name)
    records = list(stream)
    assert stream.format == "ris"
    assert [r.title for r in records] == [
        "Ça marche: résumé of CAR T relapse in Zürich",
        "Second record",
    ]
    assert records[0].authors == ("Müller, Jürgen",)
    assert records[0].first_author == "Müller"
    assert [r.year for r in records] == [2023, 2021]
    assert [r.source_line for r in records] == [1, 8]


def test_medline_named_ris_is_read_as_medline() -> None:
    stream = read_records(HOSTILE / "medline_named.ris")
    records = list(stream)
    assert stream.format == "medline"
    assert [r.pmid for r in records] == ["35000001", "35000002"]
    # The continuation line is joined; the [pii] LID is not mistaken for the DOI.
    assert records[0].title == (
        "Outcomes after CD19 CAR T-cell failure in large B-cell lymphoma: a multicentre cohort."
    )
    assert records[0].doi == "10.1000/example.2022.1"
    assert records[1].doi == "10.1000/example.2021.2"
    assert [r.source_line for r in records] == [1, 11]


def test_bad_record_raises_with_line_and_field() -> None:
    """The second record (starting on line 6) was written without any title tag."""
    with pytest.raises(RecordParseError) as caught:
        list(read_records(HOSTILE / "bad_record.ris"))
    assert (caught.value.line, caught.value.field) == (6, "TI")


def test_skip_bad_collects_errors_and_continues() -> None:
    stream = read_records(HOSTILE / "bad_record.ris", skip_bad=True)
    assert [r.title for r in stream] == ["Good one", "Good two"]
    assert [(e.line, e.field) for e in stream.errors] == [(6, "TI")]
