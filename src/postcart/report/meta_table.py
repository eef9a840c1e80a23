"""Pool a user's CSV of studies: read the table, pick the model, make the one engine call.

This is the core behind ``postcart meta`` (and anything else — the web workbench, a notebook —
that pools an uploaded table), so the command line holds no logic of its own.

Why here, in ``postcart.report``: ``postcart.stats`` is pure numerics and never touches a file,
and the CLI may only open, call and print. Reading a table and choosing among the engine's
functions (pooling, subgroups, meta-regression, GLMM, cumulative analysis) is the same job the
living review does for the curated evidence, one layer above ``stats`` and below ``web`` and
``cli`` in the import order, so both front ends can use it.

Every problem in the file — not UTF-8, ragged rows, missing columns, empty or non-numeric cells,
no data — raises :class:`MetaTableError`, an :class:`~postcart.errors.InputError` whose message
names the file, the line and the column; engine messages ("row 4, column 'xi'") are re-addressed
to the file's own line and column names.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcart.errors import InputError
from postcart.stats import cumul, escalc, get_preset, rma
from postcart.stats.inference import PI_TYPES, TESTS, PiType

#: Columns with a fixed meaning; any other numeric column is a moderator.
KNOWN_COLUMNS = frozenset({"study", "subgroup", "events", "n", "yi", "vi"})
#: How the engine names the CSV columns in its messages.
ENGINE_TO_CSV = {"xi": "events", "ni": "n", "yi": "yi", "vi": "vi"}


class MetaTableError(InputError):
    """A CSV that cannot be pooled; the message names the file, line and column."""


@dataclass(frozen=True)
class MetaTable:
    """The CSV as read: stripped header names, one dict per data row, and the file line on
    which each row ends (blank lines and quoted line breaks make rows ≠ lines)."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    lines: tuple[int, ...]

    def where(self, row: int, column: str) -> str:
        """``"row 3 (line 5), column 'events'"`` for a 1-based data row."""
        return f"row {row} (line {self.lines[row - 1]}), column '{column}'"

    def numbers(self, column: str) -> list[float]:
        """The column as finite floats, or an error at the first empty or non-numeric cell."""
        values = []
        for index, row in enumerate(self.rows, start=1):
            text = row.get(column, "")
            if not text:
                raise MetaTableError(f"{self.path}: {self.where(index, column)}: missing")
            try:
                value = float(text)
            except ValueError:
                raise MetaTableError(
                    f"{self.path}: {self.where(index, column)}: {text!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise MetaTableError(f"{self.path}: {self.where(index, column)}: missing")
            values.append(value)
        return values

    def keys(self, column: str) -> list[float] | list[str]:
        """An ordering column: numbers when every cell is one, else the text (ISO dates sort
        correctly as text)."""
        if column not in self.header:
            raise MetaTableError(f"{self.path}: --cumul-by: no column '{column}' in the header")
        texts = [row.get(column, "") for row in self.rows]
        for index, text in enumerate(texts, start=1):
            if not text:
                raise MetaTableError(f"{self.path}: {self.where(index, column)}: missing")
        try:
            return [float(text) for text in texts]
        except ValueError:
            return texts


@dataclass(frozen=True)
class MetaOptions:
    """The choices of ``postcart meta``; ``None`` means the preset's, else metafor's default."""

    measure: str | None = None
    method: str | None = None
    test: str | None = None
    level: float = 95.0
    preset: str | None = None
    add: float | None = None
    to: str = "only0"
    pi_type: str = "default"
    cumul_by: str | None = None


def read_table(path: Path) -> MetaTable:
    """Read a UTF-8 CSV (a BOM is fine) with a header row."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise MetaTableError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        line = text_line(path.read_bytes(), exc.start)
        raise MetaTableError(
            f"{path}:{line}: not UTF-8 (byte 0x{exc.object[exc.start]:02x}); save the file "
            "as UTF-8 CSV"
        ) from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise MetaTableError(f"{path}: empty file (no header, no data rows)")
        header = tuple(name.strip() for name in header_row)
        rows, lines = [], []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise MetaTableError(
                    f"{path}:{reader.line_num}: row has {len(cells)} cells, the header "
                    f"has {len(header)} ({', '.join(header)})"
                )
            rows.append({name: cell.strip() for name, cell in zip(header, cells, strict=True)})
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise MetaTableError(f"{path}:{reader.line_num}: not a valid CSV ({exc})") from None
    if not rows:
        raise MetaTableError(f"{path}: no data rows")
    return MetaTable(path, header, tuple(rows), tuple(lines))


def text_line(data: bytes, offset: int) -> int:
    """1-based line of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def pool_csv(path: Path, options: MetaOptions) -> Any:
    """Read ``path`` and run the one analysis ``options`` ask for.

    Returns the engine's result (``MetaResult``, ``SubgroupResult``, ``MetaRegression`` or
    ``Cumulative``; each has ``to_dict()`` and ``summary()``).
    """
    opts = _resolved(options)
    table = read_table(path)
    try:
        return _pool(table, opts)
    except MetaTableError:
        raise
    except InputError as exc:
        raise _readdressed(table, exc) from None


def _resolved(options: MetaOptions) -> dict[str, Any]:
    """Flags override the preset; the preset overrides metafor's defaults."""
    chosen = get_preset(options.preset) if options.preset else None
    opts = {
        "measure": options.measure or (chosen.measure if chosen else None),
        "method": options.method or (chosen.method if chosen else "REML"),
        "test": options.test or (chosen.test if chosen else "z"),
        "level": options.level,
        "add": options.add,
        "to": options.to,
        "preset": options.preset,
        "pi_type": options.pi_type,
        "cumul_by": options.cumul_by,
    }
    if opts["test"] not in TESTS:
        raise MetaTableError(f"--test must be one of {', '.join(TESTS)}")
    if opts["pi_type"] not in PI_TYPES:
        raise MetaTableError(f"--pi-type must be one of {', '.join(PI_TYPES)}")
    return opts


def _pool(table: MetaTable, opts: dict[str, Any]) -> Any:
    """Pick the model the columns and options ask for and call the engine once."""
    path, header = table.path, set(table.header)
    has_counts, has_effects = {"events", "n"} <= header, {"yi", "vi"} <= header
    if not (has_counts or has_effects):
        raise MetaTableError(f"{path}: needs columns events,n (proportions) or yi,vi (generic)")
    measure = opts["measure"] or ("PLO" if has_counts else "GEN")
    if opts["method"] == "GLMM":
        return _glmm(table, opts, measure, has_counts)
    if measure == "GEN":
        if not has_effects:
            raise MetaTableError(f"{path}: --measure GEN needs yi,vi columns")
        sizes = escalc("GEN", yi=table.numbers("yi"), vi=table.numbers("vi"))
    else:
        if not has_counts:
            raise MetaTableError(f"{path}: --measure {measure} needs events,n columns")
        sizes = escalc(measure, xi=table.numbers("events"), ni=table.numbers("n"),
                       add=opts["add"], to=opts["to"])  # fmt: skip
    common = {"method": opts["method"], "test": opts["test"], "level": opts["level"]}
    labels = [row.get("study") or str(i) for i, row in enumerate(table.rows, start=1)]
    structure = _structure(table, opts)
    if structure == "cumul":
        return cumul(sizes.yi, sizes.vi, order=table.keys(opts["cumul_by"]), measure=measure,
                     ni=sizes.ni, labels=labels, **common)  # fmt: skip
    if structure == "subgroup":
        from postcart.stats.subgroups import subgroup_analysis

        groups = [row.get("subgroup", "") for row in table.rows]
        return subgroup_analysis(sizes.yi, sizes.vi, groups, measure=measure, **common)
    if structure == "regression":
        from postcart.stats.regression import meta_regression

        names = _moderators(table, opts)
        columns = [table.numbers(name) for name in names]
        mods = [list(values) for values in zip(*columns, strict=True)]
        return meta_regression(sizes.yi, sizes.vi, mods, names=names, **common)
    correction = f"add={sizes.add} to={opts['to']}" if measure != "GEN" else "none (yi/vi)"
    pi_type: PiType = opts["pi_type"]
    return rma(
        sizes.yi, sizes.vi, measure=measure, ni=sizes.ni, pi_type=pi_type,
        settings={"continuity_correction": correction, "preset": opts["preset"] or "none"},
        **common,
    )  # fmt: skip


def _structure(table: MetaTable, opts: dict[str, Any]) -> str:
    """``"cumul"``, ``"subgroup"``, ``"regression"`` or ``"pooled"``; the PI type only applies
    to a single pooled model, so asking for it elsewhere is an error, not a silent no-op."""
    if opts["cumul_by"]:
        kind = "cumul"
    elif "subgroup" in table.header:
        kind = "subgroup"
    elif _moderators(table, opts):
        kind = "regression"
    else:
        kind = "pooled"
    if opts["pi_type"] != "default" and kind != "pooled":
        raise MetaTableError(
            f"{table.path}: --pi-type applies to a single pooled model, not to a {kind} analysis"
        )
    return kind


def _moderators(table: MetaTable, opts: dict[str, Any]) -> list[str]:
    return [c for c in table.header if c not in KNOWN_COLUMNS and c != opts["cumul_by"]]


def _glmm(table: MetaTable, opts: dict[str, Any], measure: str, has_counts: bool) -> Any:
    if not has_counts:
        raise MetaTableError(f"{table.path}: --method GLMM needs events,n columns")
    if opts["pi_type"] != "default" or opts["cumul_by"]:
        raise MetaTableError(f"{table.path}: --method GLMM has no --pi-type or --cumul-by")
    from postcart.stats.glmm import rma_glmm

    return rma_glmm(table.numbers("events"), table.numbers("n"), measure=measure,
                    test=opts["test"], level=opts["level"])  # fmt: skip


def _readdressed(table: MetaTable, error: InputError) -> MetaTableError:
    """Re-address an engine message ("row 4, column 'xi'") to the CSV's line and column."""

    def readdress(match: re.Match[str]) -> str:
        row = int(match.group(1))
        column = ENGINE_TO_CSV.get(match.group(2), match.group(2))
        if 1 <= row <= len(table.lines):
            return table.where(row, column)
        return match.group(0)

    text = re.sub(r"row (\d+), column '(\w+)'", readdress, str(error))
    return MetaTableError(f"{table.path}: {text}")
