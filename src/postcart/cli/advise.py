"""``postcart advise``: a relapsed patient's profile → salvage options with their evidence."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from postcart.decision import Advice, OptionAdvice, read_profile
from postcart.decision.cards import EvidenceCard
from postcart.errors import PostcartError


def _number(value: float) -> str:
    return f"{value:g}"


def _card_line(card: EvidenceCard) -> str:
    """One study: who, how many, what it reported; caveats follow on their own lines."""
    figures = []
    for o in card.outcomes:
        if o.value is None:
            continue
        unit = "%" if o.unit == "percent" else f" {o.unit}"
        when = f" at {_number(o.timepoint_months)} mo" if o.timepoint_months is not None else ""
        per = "" if o.analysis_unit == "patients" else f" per {o.analysis_unit.rstrip('s')}"
        mark = " [disputed]" if o.discrepancy else ""
        figures.append(f"{o.measure} {_number(o.value)}{unit}{when}{per}{mark}")
    n = "n not reported" if card.n is None else f"n = {card.n}"
    shown = "; ".join(figures) or "no figure on the card's measures"
    return f"{card.study_name} — {card.cohort_label} ({n}, {card.design}): {shown}"


def _option_text(option: OptionAdvice) -> str:
    lines = [f"• {escape(reason)}" for reason in option.reasons]
    lines.append(f"[dim]order: {escape(option.order)}[/dim]")
    if option.histologies:
        lines.append(f"[dim]evidence covers: {', '.join(option.histologies)}[/dim]")
    for card in option.cards:
        lines.append(f"  ◦ {escape(_card_line(card))}")
        lines.extend(f"    [yellow]caveat[/yellow] {escape(caveat)}" for caveat in card.caveats)
    return "\n".join(lines)


def _render(advice: Advice, console: Console) -> None:
    """Options as blocks under their tier (a table would split the cards' sentences)."""
    console.print(f"[italic]{advice.disclaimer}[/italic]\n")
    console.print("[bold]Salvage options after CAR T failure[/bold]")
    console.print(f"[dim]{advice.ordering}[/dim]")
    tier = None
    for number, option in enumerate(advice.options, start=1):
        if option.tier != tier:
            tier = option.tier
            console.rule(tier.replace("_", " "))
        trial = " — within a clinical trial" if option.within_trial else ""
        console.print(f"[bold]{number}. {escape(option.name)}[/bold] ({option.option}){trial}")
        console.print(_option_text(option), highlight=False)
        console.print(f"[dim]rules: {', '.join(option.rules) or 'none'}[/dim]\n")
    for flag in advice.flags:
        console.print(f"[bold]flag[/bold] {flag.rule}: {escape(flag.text)}")
    for action in advice.actions:
        console.print(f"[bold]action[/bold] {escape(action)}")
    for name, rules in sorted(advice.missing.items()):
        console.print(f"[dim]missing {name}: blocks {', '.join(rules)}[/dim]")
    console.print(f"rules fired ({advice.rules_version}): {', '.join(advice.fired)}")
    console.print(f"\n[italic]{advice.disclaimer}[/italic]")


def _advise(profile: Path) -> Advice:
    """Read the profile and ask the core, with the living review's pooled ORR for ordering."""
    from postcart.evidence import load
    from postcart.report.advice import advise_with_review

    return advise_with_review(read_profile(profile), load())


def advise(
    profile: Path = typer.Argument(..., exists=True, dir_okay=False, help="Profile YAML/JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON contract instead."),
) -> None:
    """Order salvage options for a relapsed patient's profile, with reasons and evidence cards.

    Options are tiered by the rules, ordered within a tier by the kind of evidence, then the
    living review's pooled ORR after CAR T failure, then population match. Research and
    education use only; not a substitute for clinical judgement.

    Example: postcart advise docs/examples/cd19_negative_early.yaml --json
    """
    try:
        advice = _advise(profile)
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(advice.to_dict(), indent=2, ensure_ascii=False))
    else:
        _render(advice, Console(width=160))
