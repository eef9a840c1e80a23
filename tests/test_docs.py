"""Docs stay true: every CLI command is documented with help, and docs/cli.md is current."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import typer

from postcart.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:  # the script is not a package module; load it by path
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_has_help_and_example() -> None:
    root = typer.main.get_command(app)
    for path, command in _generator()._walk(root, ["postcart"]):
        if getattr(command, "commands", None):
            continue
        assert command.help, f"{' '.join(path)} has no help"
        assert "Example:" in command.help, f"{' '.join(path)} help lacks an Example: line"


def test_cli_reference_is_current() -> None:
    expected = _generator().render()
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is stale: run `make docs`"


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
