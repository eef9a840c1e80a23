"""``postcart km``: reconstruct patients from digitised Kaplan–Meier curves, pool, compare arms.

Each command opens the files, makes one call to :mod:`postcart.evidence.curve_analysis` and
prints. Problems in a file are reported as ``file:line: field: message`` (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from postcart.errors import PostcartError
from postcart.evidence.curve_analysis import analyse_curve, compare_curve_files, pool_curves

EXIT_BAD_INPUT = 2

app = typer.Typer(
    help="Survival from published Kaplan-Meier curves: reconstruct patients (Guyot 2012), "
    "pool single-arm studies, compare two arms.",
    no_args_is_help=True,
)


def _times(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give times separated by commas, e.g. 6,12,24"
        ) from None
    if not values:
        raise typer.BadParameter("give at least one time")
    return values


def _emit(result: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.summary())


def _fail(exc: PostcartError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


@app.command("reconstruct")
def reconstruct(
    curve: Annotated[
        Path,
        typer.Argument(help="Digitised curve: CSV time,survival or a WebPlotDigitizer export."),
    ],
    at_risk: Annotated[
        Path | None, typer.Option("--at-risk", help="Numbers at risk: CSV time,at_risk.")
    ] = None,
    events: Annotated[
        int | None, typer.Option("--events", help="Total events printed in the paper.")
    ] = None,
    n0: Annotated[
        int | None, typer.Option("--n0", help="Initial number at risk (when no risk table).")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="Dataset of a multi-dataset WebPlotDigitizer export.")
    ] = None,
    unit: Annotated[
        str, typer.Option(help="Survival unit: auto (detected and reported), proportion, percent.")
    ] = "auto",
    times: Annotated[
        str, typer.Option(help="Landmark times to report, comma-separated.")
    ] = "6,12,24",
    flat_tail_guard: Annotated[
        bool, typer.Option(help="No deaths where the curve does not visibly drop.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: n, events, ipd (time, event), and more.")
    ] = False,
) -> None:
    """Rebuild patient-level data from one digitised Kaplan-Meier curve.

    With a risk table (best), with only --n0 and --events, or with only --n0. Prints the
    reconstructed median and landmark survival, how the printed numbers were matched, and
    every cleaning step applied to the digitised points.

    Example: postcart km reconstruct os.csv --at-risk os_risk.csv --events 54 --json
    """
    if unit not in ("auto", "proportion", "percent"):
        raise typer.BadParameter("--unit must be auto, proportion or percent")
    try:
        result = analyse_curve(
            curve,
            at_risk=at_risk,
            events=events,
            n0=n0,
            dataset=dataset,
            unit=unit,  # type: ignore[arg-type]
            flat_tail_guard=flat_tail_guard,
            landmarks=_times(times),
        )
    except PostcartError as exc:
        raise _fail(exc) from None
    _emit(result, as_json)


@app.command("pool")
def pool(
    studies: Annotated[
        Path,
        typer.Argument(
            help="CSV listing one curve per row: study,curve[,at_risk,events,n0,dataset]; "
            "paths relative to this file."
        ),
    ],
    times: Annotated[
        str, typer.Option(help="Landmark times to pool, comma-separated.")
    ] = "6,12,24",
    method: Annotated[str, typer.Option(help="tau2 estimator (metafor method).")] = "REML",
    test: Annotated[str, typer.Option(help="z, t, knha or adhoc.")] = "knha",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON result.")] = False,
) -> None:
    """Pool survival across single-arm studies from their digitised curves.

    Each curve is reconstructed, its landmark survival (Greenwood SE) pooled by random
    effects on the log(-log) scale, and the pooled median read off the pooled curve.

    Example: postcart km pool studies.csv --times 6,12,24 --json
    """
    try:
        result = pool_curves(studies, times=_times(times), method=method, test=test)
    except PostcartError as exc:
        raise _fail(exc) from None
    _emit(result, as_json)


@app.command("hr")
def hazard_ratio(
    reference: Annotated[Path, typer.Argument(help="Digitised curve of the reference arm.")],
    other: Annotated[Path, typer.Argument(help="Digitised curve of the other arm.")],
    reference_at_risk: Annotated[
        Path | None, typer.Option(help="Reference arm risk table.")
    ] = None,
    other_at_risk: Annotated[Path | None, typer.Option(help="Other arm risk table.")] = None,
    reference_events: Annotated[
        int | None, typer.Option(help="Reference arm total events.")
    ] = None,
    other_events: Annotated[int | None, typer.Option(help="Other arm total events.")] = None,
    reference_n0: Annotated[int | None, typer.Option(help="Reference arm initial n.")] = None,
    other_n0: Annotated[int | None, typer.Option(help="Other arm initial n.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON result.")] = False,
) -> None:
    """Cox hazard ratio (Efron ties, as R coxph) between two digitised arms of one figure.

    Example: postcart km hr control.csv treated.csv --reference-at-risk c_risk.csv
    --other-at-risk t_risk.csv
    """
    try:
        result = compare_curve_files(
            reference,
            other,
            reference_at_risk=reference_at_risk,
            other_at_risk=other_at_risk,
            reference_events=reference_events,
            other_events=other_events,
            reference_n0=reference_n0,
            other_n0=other_n0,
        )
    except PostcartError as exc:
        raise _fail(exc) from None
    _emit(result, as_json)
