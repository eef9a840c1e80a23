"""``postcart meta``: pool a CSV of studies with the stats engine and print the result.

The command only reads the file, makes one engine call and prints; every number comes
from ``postcart.stats``. Problems in the CSV are reported by file row and column (exit 2).
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from postcart.errors import InputError
from postcart.stats import escalc, get_preset, rma
from postcart.stats.inference import TESTS
from postcart.stats.tau2 import TAU2_METHODS

#: Columns with a fixed meaning; any other numeric column is a moderator.
KNOWN_COLUMNS = frozenset({"study", "subgroup", "events", "n", "yi", "vi"})
#: How the engine names the CSV columns in its messages.
ENGINE_TO_CSV = {"xi": "events", "ni": "n", "yi": "yi", "vi": "vi"}
EXIT_BAD_INPUT = 2


class CsvProblem(Exception):
    """A CSV the command cannot use; the message names the row and column."""


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = [name.strip() for name in (reader.fieldnames or [])]
    except OSError as exc:
        raise CsvProblem(f"{path}: cannot read ({exc.strerror})") from exc
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]
    if not rows:
        raise CsvProblem(f"{path}: no data rows")
    return header, rows


def _numbers(path: Path, rows: list[dict[str, str]], column: str) -> list[float]:
    values = []
    for index, row in enumerate(rows, start=1):
        text = row.get(column, "")
        try:
            value = float(text)
        except ValueError:
            raise CsvProblem(
                f"{path}: row {index} (line {index + 1}), column '{column}': "
                f"{text!r} is not a number"
            ) from None
        if not math.isfinite(value):
            raise CsvProblem(f"{path}: row {index} (line {index + 1}), column '{column}': missing")
        values.append(value)
    return values


def _engine_error(path: Path, error: InputError) -> CsvProblem:
    """Re-address an engine message ("row 4, column 'xi'") to the CSV's row and column."""

    def readdress(match: re.Match[str]) -> str:
        row = int(match.group(1))
        column = ENGINE_TO_CSV.get(match.group(2), match.group(2))
        return f"row {row} (line {row + 1}), column '{column}'"

    return CsvProblem(f"{path}: " + re.sub(r"row (\d+), column '(\w+)'", readdress, str(error)))


def _pool(path: Path, header: list[str], rows: list[dict[str, str]], opts: dict[str, Any]) -> Any:
    """Run the one engine call the CSV and options ask for."""
    has_counts = {"events", "n"} <= set(header)
    has_effects = {"yi", "vi"} <= set(header)
    if not (has_counts or has_effects):
        raise CsvProblem(f"{path}: needs columns events,n (proportions) or yi,vi (generic)")
    measure = opts["measure"] or ("PLO" if has_counts else "GEN")
    if opts["method"] == "GLMM":
        if not has_counts:
            raise CsvProblem(f"{path}: --method GLMM needs events,n columns")
        from postcart.stats.glmm import rma_glmm

        return rma_glmm(
            _numbers(path, rows, "events"),
            _numbers(path, rows, "n"),
            measure=measure,
            test=opts["test"],
            level=opts["level"],
        )
    if measure == "GEN":
        if not has_effects:
            raise CsvProblem(f"{path}: --measure GEN needs yi,vi columns")
        sizes = escalc("GEN", yi=_numbers(path, rows, "yi"), vi=_numbers(path, rows, "vi"))
    else:
        if not has_counts:
            raise CsvProblem(f"{path}: --measure {measure} needs events,n columns")
        sizes = escalc(
            measure,
            xi=_numbers(path, rows, "events"),
            ni=_numbers(path, rows, "n"),
            add=opts["add"],
            to=opts["to"],
        )
    common = {"method": opts["method"], "test": opts["test"], "level": opts["level"]}
    moderators = [c for c in header if c not in KNOWN_COLUMNS]
    if "subgroup" in header:
        try:
            from postcart.stats.subgroups import subgroup_analysis
        except ImportError:
            raise CsvProblem("subgroup analyses are not available in this version") from None
        groups = [row.get("subgroup", "") for row in rows]
        return subgroup_analysis(sizes.yi, sizes.vi, groups, measure=measure, **common)
    if moderators:
        try:
            from postcart.stats.regression import meta_regression
        except ImportError:
            raise CsvProblem("meta-regression is not available in this version") from None
        columns = [_numbers(path, rows, name) for name in moderators]
        mods = [list(values) for values in zip(*columns, strict=True)]
        return meta_regression(sizes.yi, sizes.vi, mods, names=moderators, **common)
    correction = f"add={sizes.add} to={opts['to']}" if measure != "GEN" else "none (yi/vi)"
    return rma(
        sizes.yi,
        sizes.vi,
        measure=measure,
        ni=sizes.ni,
        settings={"continuity_correction": correction, "preset": opts["preset"] or "none"},
        **common,
    )


def meta(
    file: Annotated[Path, typer.Argument(help="CSV with events,n or yi,vi per study.")],
    measure: Annotated[
        str | None, typer.Option(help="PLO, PR, PAS, PFT or GEN (default PLO, or GEN for yi,vi).")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help=f"{', '.join(TAU2_METHODS)} or GLMM (default REML).")
    ] = None,
    test: Annotated[
        str | None,
        typer.Option(help="z, t, knha or adhoc (default z; GLMM: z or t, knha means t)."),
    ] = None,
    level: Annotated[float, typer.Option(help="Confidence level in percent.")] = 95.0,
    preset: Annotated[
        str | None, typer.Option(help="metafor, meta or cochrane-2025; flags override it.")
    ] = None,
    add: Annotated[
        float | None,
        typer.Option(
            help="Continuity correction, metafor add (default: metafor's default for the "
            "measure, 0.5 for PR and PLO, 0 = none for PAS and PFT)."
        ),
    ] = None,
    to: Annotated[str, typer.Option(help="only0, all, if0all or none (metafor to).")] = "only0",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract.")] = False,
) -> None:
    """Pool the studies in FILE (random-effects by default) and print the result.

    Optional columns: ``study``; ``subgroup`` (pooled per subgroup); any other numeric
    column is a moderator (meta-regression).

    Example: postcart meta studies.csv --measure PLO --method REML --test knha --json
    """
    try:
        chosen = get_preset(preset) if preset else None
        opts = {
            "measure": measure or (chosen.measure if chosen else None),
            "method": method or (chosen.method if chosen else "REML"),
            "test": test or (chosen.test if chosen else "z"),
            "level": level,
            "add": add,
            "to": to,
            "preset": preset,
        }
        if opts["test"] not in TESTS:
            raise CsvProblem(f"--test must be one of {', '.join(TESTS)}")
        header, rows = _read_rows(file)
        result = _pool(file, header, rows, opts)
    except CsvProblem as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except InputError as exc:
        typer.echo(f"error: {_engine_error(file, exc)}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
    else:
        typer.echo(result.summary())
