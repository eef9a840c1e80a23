"""Regenerate docs/cli.md from the CLI's own --help, so the reference cannot drift."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import typer

from postcart.cli import app

HEADER = """# Command-line reference

Generated from `--help` by `scripts/gen_cli_docs.py` (`make docs`); a test fails when it is stale.
Every command honours `DATABASE_URL` where it touches the database.
"""


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(click.Context(command))):
            sub = command.get_command(click.Context(command), name)
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


def render() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(app)
    parts = [HEADER]
    for path, command in _walk(root, ["postcart"]):
        with click.Context(command, info_name=" ".join(path), terminal_width=100) as ctx:
            text = command.get_help(ctx)
        parts.append(f"\n## `{' '.join(path)}`\n\n```text\n{text}\n```\n")
    return "".join(parts)


def main() -> int:
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
