"""Read any supported literature export: the format is detected from content, not file name.

``read_records`` returns a :class:`RecordStream`: iterate it to get records lazily (a 200 MB
PubMed file never sits in memory); with ``skip_bad=True`` broken records are collected in
``errors`` instead of stopping the import, so one malformed entry does not lose a whole search.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import IO

from postcart.errors import RecordParseError
from postcart.literature.detect import HEAD_BYTES, Format, detect_format
from postcart.literature.readers._text import decode_bytes
from postcart.literature.readers.medline import read_medline
from postcart.literature.readers.pmc_xml import read_pmc_xml
from postcart.literature.readers.pubmed_xml import read_pubmed_xml
from postcart.literature.readers.ris import read_ris
from postcart.literature.readers.tabular import read_delimited, read_xlsx
from postcart.literature.records import Record

__all__ = ["Format", "RecordStream", "read_records"]

OnError = Callable[[RecordParseError], None] | None


def _read_text(
    reader: Callable[[IO[str], str, OnError], Iterator[Record]],
) -> Callable[[IO[bytes], str, OnError], Iterator[Record]]:
    def read(source: IO[bytes], path: str, on_error: OnError) -> Iterator[Record]:
        return reader(io.StringIO(decode_bytes(source.read()), newline=None), path, on_error)

    return read


def _read_esearch(source: IO[bytes], path: str, on_error: OnError) -> Iterator[Record]:
    raise RecordParseError(
        path, 1, "eSearchResult", "an esearch answer lists PMIDs only; fetch them with efetch"
    )


_READERS: dict[Format, Callable[[IO[bytes], str, OnError], Iterator[Record]]] = {
    Format.PUBMED_XML: read_pubmed_xml,
    Format.PMC_XML: read_pmc_xml,
    Format.ESEARCH_XML: _read_esearch,
    Format.MEDLINE: _read_text(read_medline),
    Format.RIS: _read_text(read_ris),
    Format.DELIMITED: _read_text(read_delimited),
    Format.XLSX: read_xlsx,
}


class RecordStream:
    """Records of one file, read lazily once; ``errors`` fills up as bad records are skipped."""

    def __init__(self, path: Path, fmt: Format, skip_bad: bool) -> None:
        self.path = path
        self.format = fmt
        self.skip_bad = skip_bad
        self.errors: list[RecordParseError] = []
        self._used = False

    def __iter__(self) -> Iterator[Record]:
        if self._used:
            raise RuntimeError("a RecordStream can be iterated only once")
        self._used = True
        on_error = self.errors.append if self.skip_bad else None
        yielded = 0
        with self.path.open("rb") as source:
            for record in _READERS[self.format](source, str(self.path), on_error):
                problem = _nul_byte(record)
                if problem is None:
                    yielded += 1
                    yield record
                elif on_error is None:
                    raise problem
                else:
                    on_error(problem)
        if yielded == 0 and not self.errors:
            # A header and nothing else would otherwise become an empty living-review update.
            raise RecordParseError(str(self.path), None, "file", "no records in this file")


def _nul_byte(record: Record) -> RecordParseError | None:
    """A record holding a NUL byte, refused on every backend alike (PostgreSQL cannot store it)."""
    texts = [(f.name, getattr(record, f.name)) for f in fields(record)]
    texts += [(name, value) for name, value in record.raw]
    texts += [("authors", a) for a in record.authors] + [("keywords", k) for k in record.keywords]
    for name, value in texts:
        if isinstance(value, str) and "\x00" in value:
            return RecordParseError(
                record.source_file, record.source_line, name, "contains a NUL byte (\\x00)"
            )
    return None


def read_records(
    path: str | Path, format: Format | str | None = None, *, skip_bad: bool = False
) -> RecordStream:
    """Records of ``path``; the format is sniffed unless given. Unknown content -> RecordParseError.

    Detection happens here, eagerly, so an unrecognised file fails at the call, not mid-loop.
    """
    path = Path(path)
    if format is None:
        with path.open("rb") as source:
            fmt = detect_format(source.read(HEAD_BYTES), str(path))
    else:
        fmt = Format(format)
    return RecordStream(path, fmt, skip_bad)
