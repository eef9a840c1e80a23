"""The ``postcart`` command: thin commands that open, make one core call, and print.

Each command group lives in its own module; this module only assembles them, and
:func:`main` is the one error path: whatever a command lets through becomes a one-line message
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from postcart.cli import advise as _advise
from postcart.cli import db as _db
from postcart.cli import evidence as _evidence
from postcart.cli import km as _km
from postcart.cli import literature as _literature
from postcart.cli import meta as _meta
from postcart.cli import report as _report
from postcart.cli import run as _run
from postcart.cli import serve as _serve
from postcart.cli import user as _user
from postcart.errors import PostcartError

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
app.add_typer(_db.app, name="db")
app.add_typer(_km.app, name="km")

#: Exit status for a failure we did not foresee (``EX_SOFTWARE`` in sysexits.h).
EXIT_INTERNAL = 70


def describe(error: BaseException) -> tuple[str, int]:
    """The message and exit status for ``error``, worded for the person at the terminal.

    Project errors already name the file, line and field. Operating-system errors name the
    path and the reason (an unwritable ``-o``, a missing folder). Undecodable text names the
    byte offset. Anything else is a defect in postcart: the message says so and asks for a
    report, and still shows no traceback (``POSTCART_DEBUG=1`` shows it).
    """
    if isinstance(error, PostcartError):
        return f"error: {error}", 1
    if isinstance(error, UnicodeDecodeError):
        bad = error.object[error.start : error.start + 1]
        return f"error: not UTF-8 text (byte {error.start}: {bad!r}); save it as UTF-8", 1
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"error: {where}{error.strerror or error}", 1
    if isinstance(error, MemoryError):
        return "error: out of memory; the input is too large for this machine", 1
    kind = type(error).__name__
    return (
        f"internal error ({kind}): {error}. This is a defect in postcart; please report it "
        "with the command you ran (POSTCART_DEBUG=1 shows the traceback)",
        EXIT_INTERNAL,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (the ``postcart`` entry point), mapping every failure to a clear message."""
    import os

    try:
        app(args=argv, prog_name="postcart", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted", highlight=False)
        raise SystemExit(130) from None
    except Exception as error:
        if os.environ.get("POSTCART_DEBUG") == "1":
            raise
        message, status = describe(error)
        Console(stderr=True).print(message, style="red", markup=False, highlight=False)
        sys.exit(status)


__all__ = ["app", "main"]
