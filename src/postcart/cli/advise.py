"""``postcart advise``: a relapsed patient's profile → salvage options with their evidence."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from postcart.decision import Advice, read_profile
from postcart.decision import advise as rank_options
from postcart.errors import PostcartError


def _render(advice: Advice, console: Console) -> None:
    table = Table(title="Salvage options after CAR T failure", show_lines=True)
    table.add_column("tier")
    table.add_column("option")
    table.add_column("why")
    table.add_column("evidence")
    for option in advice.options:
        table.add_row(
            option.tier.replace("_", " "),
            option.name,
            "\n".join(f"• {reason}" for reason in option.reasons),
            "\n".join(option.evidence[:6]) + (" …" if len(option.evidence) > 6 else ""),
        )
    console.print(table)
    for flag in advice.flags:
        console.print(f"[bold]flag[/bold] {flag.rule}: {flag.text}")
    for action in advice.actions:
        console.print(f"[bold]action[/bold] {action}")
    for name, rules in sorted(advice.missing.items()):
        console.print(f"[dim]missing {name}: blocks {', '.join(rules)}[/dim]")
    console.print(f"\n[italic]{advice.disclaimer}[/italic]")


def advise(
    profile: Path = typer.Argument(..., exists=True, dir_okay=False, help="Profile YAML/JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON contract instead."),
) -> None:
    """Rank salvage options for a relapsed patient's profile, with reasons and evidence.

    Research and education use only; not a substitute for clinical judgement.

    Example: postcart advise docs/examples/cd19_negative.yaml --json
    """
    try:
        advice = rank_options(read_profile(profile))
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(advice.to_dict(), indent=2, ensure_ascii=False))
    else:
        _render(advice, Console())
