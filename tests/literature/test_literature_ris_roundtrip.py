"""``write_ris`` then ``read_records`` gives back the same fields (Hypothesis round-trip)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from postcart.literature.readers import read_records
from postcart.literature.readers.ris_writer import write_ris
from postcart.literature.records import Record, clean

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    max_size=60,
).map(clean)
# Names as readers normalise them: whitespace runs collapse to one space (records.clean).
_WORD = st.from_regex(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ' -]{0,20}[A-Za-zÀ-ÿ]", fullmatch=True).map(clean)

_RECORDS = st.builds(
    Record,
    title=_TEXT.filter(bool),
    source_file=st.just("generated"),
    source_line=st.just(0),
    source_format=st.just("generated"),
    abstract=_TEXT,
    authors=st.lists(
        st.builds(lambda a, b: f"{a}, {b}", _WORD, _WORD), max_size=4, unique=True
    ).map(tuple),
    year=st.none() | st.integers(1600, 2099),
    journal=_TEXT,
    volume=st.from_regex(r"[0-9]{0,3}", fullmatch=True),
    doi=st.none() | st.from_regex(r"10\.[0-9]{4,6}/[a-z0-9.]{1,12}[a-z0-9]", fullmatch=True),
    pmid=st.none() | st.integers(1, 99_999_999).map(str),
    keywords=st.lists(_TEXT.filter(bool), max_size=3, unique=True).map(tuple),
)


@given(st.lists(_RECORDS, min_size=1, max_size=5))
def test_written_ris_reads_back_identically(records: list[Record]) -> None:
    buffer = io.StringIO()
    assert write_ris(records, buffer) == len(records)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "written.ris"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        back = list(read_records(path))
    assert len(back) == len(records)
    for original, again in zip(records, back, strict=True):
        assert again.title == original.title
        assert again.abstract == original.abstract
        assert again.authors == original.authors
        assert again.year == original.year
        assert again.journal == original.journal
        assert again.volume == original.volume
        assert again.doi == original.doi
        assert again.pmid == original.pmid
        assert again.keywords == original.keywords


def test_ris_records_are_rewritten_from_raw_tags(shared_dir: Path) -> None:
    """Vendor tags our model does not know (Cochrane ``CC``, ``C3``) survive a RIS->RIS trip."""
    source = shared_dir / "data/literature/citation-file-formatting/_baseline_cochrane_endnote.ris"
    records = list(read_records(source))
    buffer = io.StringIO()
    write_ris(records, buffer)
    assert "CC  - Common Mental Disorders" in buffer.getvalue()
    assert buffer.getvalue().count("C3  - PUBMED") == 3  # grep -c 'C3  -  PUBMED' in the source
