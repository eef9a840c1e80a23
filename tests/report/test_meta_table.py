"""The core behind ``postcart meta``: CSV in, one engine call out, and every problem in the
file reported by file, line and column (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.errors import InputError
from postcart.report.meta_table import MetaOptions, MetaTableError, pool_csv, read_table
from postcart.stats import Cumulative, cumul, escalc, rma


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "studies.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"events,n\n3,10\n4,1\xe90\n", r"studies\.csv:3: not UTF-8 \(byte 0xe9\)"),
        ("events,n\n3,10\n4,12,7\n", r"studies\.csv:3: row has 3 cells, the header has 2"),
        ("events,n\n3,10\n4\n", r"studies\.csv:3: row has 1 cells"),
        ("x,y\n1,2\n", "needs columns events,n"),
        ("events,n\n3,10\nabc,20\n", r"row 2 \(line 3\), column 'events': 'abc' is not a number"),
        ("events,n\n3,10\n4,\n", r"row 2 \(line 3\), column 'n': missing"),
        ("", r"studies\.csv: empty file"),
        ("events,n\n", "no data rows"),
        ("events,n\n3,10\n27,20\n", r"row 2 \(line 3\), column 'events': 27 events > ni = 20"),
        ("yi,vi\n0.1,0.2\n0.3,0\n", r"row 2 \(line 3\), column 'vi': sampling variance must be"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path: Path, content: str | bytes,
                                            message: str) -> None:  # fmt: skip
    with pytest.raises(MetaTableError, match=message) as caught:
        pool_csv(write(tmp_path, content), MetaOptions())
    assert isinstance(caught.value, InputError)
    assert str(tmp_path / "studies.csv") in str(caught.value)


def test_lines_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = write(tmp_path, 'study,events,n\n"two\nlines",3,10\n\nB,x,20\n')
    table = read_table(path)
    assert table.lines == (3, 5)
    with pytest.raises(MetaTableError, match=r"row 2 \(line 5\), column 'events'"):
        pool_csv(path, MetaOptions())


def test_pooled_model_with_riley_interval(tmp_path: Path) -> None:
    path = write(tmp_path, "events,n\n3,10\n9,20\n14,25\n2,15\n")
    result = pool_csv(path, MetaOptions(pi_type="riley", test="knha"))
    sizes = escalc("PLO", xi=[3, 9, 14, 2], ni=[10, 20, 25, 15])
    expected = rma(sizes.yi, sizes.vi, measure="PLO", test="knha", pi_type="riley")
    assert (result.pi_low, result.pi_high) == (expected.pi_low, expected.pi_high)
    assert result.pi_high != rma(sizes.yi, sizes.vi, measure="PLO", test="knha").pi_high


def test_cumulative_by_a_column_of_years(tmp_path: Path) -> None:
    path = write(tmp_path, "study,events,n,year\nA,3,10,2021\nB,9,20,2019\nC,14,25,2020\n")
    result = pool_csv(path, MetaOptions(cumul_by="year", method="DL"))
    assert isinstance(result, Cumulative)
    assert result.labels == ("B", "C", "A")  # the year column is a key, not a moderator
    sizes = escalc("PLO", xi=[3, 9, 14], ni=[10, 20, 25])
    expected = cumul(sizes.yi, sizes.vi, order=[2021, 2019, 2020], method="DL", measure="PLO")
    assert result.estimate.tolist() == expected.estimate.tolist()
    assert result.to_dict()["study"] == ["B", "C", "A"]


def test_cumulative_by_iso_dates_sorts_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "study,yi,vi,published\nA,0.1,0.1,2021-03-01\nB,0.2,0.1,2020-11-30\n")
    assert pool_csv(path, MetaOptions(cumul_by="published")).labels == ("B", "A")


def test_cumulative_needs_the_column_and_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, "yi,vi,year\n0.1,0.1,2020\n0.2,0.1,\n")
    with pytest.raises(MetaTableError, match="--cumul-by: no column 'date'"):
        pool_csv(path, MetaOptions(cumul_by="date"))
    with pytest.raises(MetaTableError, match=r"row 2 \(line 3\), column 'year': missing"):
        pool_csv(path, MetaOptions(cumul_by="year"))


def test_pi_type_is_refused_where_it_does_not_apply(tmp_path: Path) -> None:
    path = write(tmp_path, "events,n,subgroup\n3,10,a\n5,12,a\n9,20,b\n2,15,b\n")
    with pytest.raises(MetaTableError, match="--pi-type applies to a single pooled model"):
        pool_csv(path, MetaOptions(pi_type="riley"))
    with pytest.raises(MetaTableError, match="--pi-type must be one of"):
        pool_csv(path, MetaOptions(pi_type="Riley"))
