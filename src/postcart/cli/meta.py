"""``postcart meta``: pool a CSV of studies with the stats engine and print the result.

The command only makes one core call (:func:`postcart.report.meta_table.pool_csv`, which
reads the file and picks the model) and prints; every number comes from ``postcart.stats``.
Problems in the CSV are reported by file, line and column (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from postcart.errors import PostcartError
from postcart.report.meta_table import MetaOptions, pool_csv
from postcart.stats.tau2 import TAU2_METHODS

EXIT_BAD_INPUT = 2


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
    pi_type: Annotated[
        str,
        typer.Option(
            help="Prediction interval, metafor predict(pi.type=): default (the CI's critical "
            "value), riley (t with k−2 df, Riley et al. 2011), t (t with k−1 df) or simple."
        ),
    ] = "default",
    cumul_by: Annotated[
        str | None,
        typer.Option(
            help="Cumulative meta-analysis (metafor cumul()): add studies in the order of this "
            "column (e.g. year, publication date, update number); ties keep file order."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract.")] = False,
) -> None:
    """Pool the studies in FILE (random-effects by default) and print the result.

    Optional columns: ``study``; ``subgroup`` (pooled per subgroup); any other numeric
    column is a moderator (meta-regression), except the ``--cumul-by`` column.

    Example: postcart meta studies.csv --measure PLO --method REML --test knha --json
    """
    options = MetaOptions(measure=measure, method=method, test=test, level=level, preset=preset,
                          add=add, to=to, pi_type=pi_type, cumul_by=cumul_by)  # fmt: skip
    try:
        result = pool_csv(file, options)
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
    else:
        typer.echo(result.summary())
