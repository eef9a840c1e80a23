"""CSV, TSV and XLSX exports (Covidence, Rayyan, Lens, Zotero, Embase, OpenAlex...) to records.

The header row is found rather than assumed: Embase and its Excel re-save put a search-query
banner above it. The delimiter is whichever of ``, ; tab |`` splits that header line most.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from postcart.errors import RecordParseError
from postcart.literature.readers.tabular_columns import (
    cell_text,
    map_columns,
    split_authors,
    split_keywords,
)
from postcart.literature.records import (
    Record,
    author_surname,
    clean,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    unique,
)

FORMAT_DELIMITED = "delimited"
FORMAT_XLSX = "xlsx"
_HEADER_SEARCH_ROWS = 30

#: Limits that keep a hostile or broken export from exhausting memory. Real exports are far
#: below them: the largest abstract we hold is ~12,000 characters; Excel itself caps a cell
#: at 32,767; a 20,000-record Covidence export unpacks to about 60 MB.
MAX_CELL_CHARS = 100_000
MAX_ROWS = 500_000
MAX_XLSX_UNPACKED_BYTES = 300_000_000
MAX_XLSX_RATIO = 200  # unpacked/packed size of one entry; text XML compresses ~10-20x
_DELIMITERS = (",", "\t", ";", "|")

Row = tuple[int, list[str]]


def _header_index(rows: list[Row]) -> tuple[int, dict[str, int]] | None:
    """Position of the first row naming a title column plus at least one other known field."""
    for position, (_line, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        mapping = map_columns(cells)
        if "title" in mapping and len(mapping) >= 2:
            return position, mapping
    return None


def _record(
    cells: list[str], header: list[str], mapping: dict[str, int], where: tuple[str, int, str]
) -> Record:
    path, line, fmt = where

    def get(field: str) -> str:
        index = mapping.get(field)
        return cell_text(cells[index]) if index is not None and index < len(cells) else ""

    title = clean(get("title"))
    if not title:
        raise RecordParseError(path, line, "title", "row has no title")
    authors = unique(split_authors(get("authors")))
    return Record(
        title=title,
        abstract=clean(get("abstract")),
        authors=authors,
        first_author=author_surname(authors[0]) if authors else "",
        year=parse_year(get("year")),
        journal=clean(get("journal")),
        volume=clean(get("volume")),
        issue=clean(get("issue")),
        pages=clean(get("pages")) or join_pages(get("start_page"), get("end_page")),
        doi=normalise_doi(get("doi")),
        pmid=normalise_pmid(get("pmid")),
        keywords=unique(split_keywords(get("keywords"))),
        record_type=clean(get("record_type")),
        language=clean(get("language")),
        source_file=path,
        source_line=line,
        source_format=fmt,
        raw=tuple((name, cells[i]) for i, name in enumerate(header) if i < len(cells) and cells[i]),
    )


def _records(
    rows: Iterable[Row],
    path: str,
    fmt: str,
    on_error: Callable[[RecordParseError], None] | None,
) -> Iterator[Record]:
    iterator = iter(rows)
    preamble: list[Row] = []
    found = None
    for row in iterator:
        preamble.append(row)
        found = _header_index(preamble)
        if found is not None or len(preamble) >= _HEADER_SEARCH_ROWS:
            break
    if found is None:
        raise RecordParseError(path, 1, "header", "no header row naming a title column")
    position, mapping = found
    header = preamble[position][1]
    for line, cells in iterator:
        _check_row(cells, header, (path, line))
        if sum(1 for cell in cells if cell.strip()) <= 1 and len(cells) < len(header):
            continue  # blank line or a section banner ("citations that are not yet labeled")
        try:
            yield _record(cells, header, mapping, (path, line, fmt))
        except RecordParseError as exc:
            if on_error is None:
                raise
            on_error(exc)


def _check_row(cells: list[str], header: list[str], where: tuple[str, int]) -> None:
    """Refuse a row past :data:`MAX_ROWS` or holding a cell over :data:`MAX_CELL_CHARS`."""
    path, line = where
    if line > MAX_ROWS:
        raise RecordParseError(path, line, "rows", f"more than {MAX_ROWS:,} rows; split the file")
    for index, cell in enumerate(cells):
        if len(cell) > MAX_CELL_CHARS:
            name = header[index] if index < len(header) else f"column {index + 1}"
            raise RecordParseError(
                path, line, name, f"cell of {len(cell):,} characters (limit {MAX_CELL_CHARS:,})"
            )


def sniff_delimiter(text: str) -> str:
    """Delimiter that splits the first line mentioning "title" into the most columns."""
    for line in text.splitlines()[:_HEADER_SEARCH_ROWS]:
        if "title" in line.lower():
            return max(_DELIMITERS, key=line.count)
    return ","


def _csv_rows(source: IO[str], delimiter: str) -> Iterator[Row]:
    reader = csv.reader(source, delimiter=delimiter)
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def read_delimited(
    source: IO[str],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of a CSV/TSV export; the delimiter is sniffed from the header line."""
    text = source.read()
    csv.field_size_limit(1 << 24)
    rows = _csv_rows(io.StringIO(text, newline=""), sniff_delimiter(text))
    try:
        yield from _records(rows, path, FORMAT_DELIMITED, on_error)
    except csv.Error as exc:
        raise RecordParseError(path, None, "csv", str(exc)) from exc


def read_xlsx(
    source: IO[bytes],
    path: str,
    on_error: Callable[[RecordParseError], None] | None = None,
) -> Iterator[Record]:
    """Records of the first worksheet of an XLSX export; ``source_line`` is the sheet row."""
    import openpyxl  # deferred: slow to import and only needed for spreadsheets

    _check_unpacked_size(source, path)
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... on junk
        raise RecordParseError(path, None, "xlsx", f"unreadable workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        # The sheet's stored used-range ("dimension") can be stale after another program's
        # edit; trusting it once imported 1 of 50 rows. Read every row that is there.
        sheet.reset_dimensions()
        rows = (
            (number, [cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        yield from _records(rows, path, FORMAT_XLSX, on_error)
    except RecordParseError:
        raise
    except Exception as exc:  # malformed sheet XML surfaces only while rows are read
        raise RecordParseError(path, None, "xlsx", f"unreadable worksheet: {exc}") from exc
    finally:
        book.close()


def _check_unpacked_size(source: IO[bytes], path: str) -> None:
    """Refuse a zip bomb before openpyxl inflates it: total size and per-entry ratio."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RecordParseError(path, None, "xlsx", f"not an XLSX (zip) file: {exc}") from exc
    finally:
        source.seek(0)
    total = sum(e.file_size for e in entries)
    if total > MAX_XLSX_UNPACKED_BYTES:
        limit = f"limit {MAX_XLSX_UNPACKED_BYTES:,}"
        raise RecordParseError(
            path, None, "xlsx", f"unpacks to {total:,} bytes ({limit}); split the export"
        )
    for entry in entries:
        if entry.file_size > 1_000_000 and entry.file_size > MAX_XLSX_RATIO * max(
            entry.compress_size, 1
        ):
            raise RecordParseError(
                path, None, entry.filename,
                f"compressed {entry.file_size // max(entry.compress_size, 1):,} to 1 "
                f"(limit {MAX_XLSX_RATIO} to 1): refusing a decompression bomb",
            )  # fmt: skip
