"""Regenerate docs/cli.md from the CLI's own --help, so the reference cannot drift."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from postcart.cli import app

HEADER = """# Command-line reference

Generated from `--help` by `scripts/gen_cli_docs.py` (`make docs`); a test fails when it is stale.
Every command honours `DATABASE_URL` where it touches the database.
"""


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every command under ``command``; groups are recognised by their ``commands`` mapping
    (Typer vendors its own click, so isinstance checks against click.Group do not work)."""
    found = [(path, command)]
    subcommands = getattr(command, "commands", None) or {}
    for name in sorted(subcommands):
        sub = subcommands[name]
        if not getattr(sub, "hidden", False):
            found += _walk(sub, [*path, name])
    return found


def render() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(app)
    parts = [HEADER]
    # Help is rendered by rich straight to the terminal, so capture it as a user would see it,
    # at a fixed width and without colour, so the file is the same on every machine.
    runner = CliRunner()
    environment = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    for path, _command in _walk(root, ["postcart"]):
        result = runner.invoke(app, [*path[1:], "--help"], env=environment, color=False)
        text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        parts.append(f"\n## `{' '.join(path)}`\n\n```text\n{text}\n```\n")
    return "".join(parts)


def main() -> int:
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
