"""The ``postcart`` command: thin commands that open, make one core call, and print.

Each command group lives in its own module; this module only assembles them.
"""

from __future__ import annotations

import typer

from postcart.cli import advise as _advise
from postcart.cli import evidence as _evidence
from postcart.cli import km as _km
from postcart.cli import literature as _literature
from postcart.cli import meta as _meta
from postcart.cli import report as _report
from postcart.cli import run as _run
from postcart.cli import serve as _serve
from postcart.cli import user as _user

app = typer.Typer(
    name="postcart",
    help=(
        "Living evidence on lymphoma relapsing after CD19 CAR T-cell therapy. "
        "For research and education; not a substitute for clinical judgement."
    ),
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(_evidence.app, name="evidence")
app.add_typer(_literature.app, name="lit")
app.command("meta")(_meta.meta)
app.command("run")(_run.run)
app.command("advise")(_advise.advise)
app.command("report")(_report.report)
app.command("serve")(_serve.serve)
app.add_typer(_user.app, name="user")
app.add_typer(_km.app, name="km")

__all__ = ["app"]
