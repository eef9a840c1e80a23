"""A small, safe predicate language for rule conditions (data, never ``eval``).

A condition is a mapping ``fact: {operator: operand}``; every entry must hold (AND). ``any_of``
takes a list of such mappings of which one must hold (OR). A fact that is unknown makes the
condition *undecidable* unless the operator is ``unknown``, so a rule never fires on a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda fact, operand: bool(fact == operand),
    "ne": lambda fact, operand: bool(fact != operand),
    "in": lambda fact, operand: fact in operand,
    "not_in": lambda fact, operand: fact not in operand,
    "lt": lambda fact, operand: bool(fact < operand),
    "le": lambda fact, operand: bool(fact <= operand),
    "gt": lambda fact, operand: bool(fact > operand),
    "ge": lambda fact, operand: bool(fact >= operand),
    "contains": lambda fact, operand: operand in fact,
    "lacks": lambda fact, operand: operand not in fact,
}


class Undecidable(Exception):
    """A condition needs facts that are unknown for this patient."""

    def __init__(self, facts: set[str]) -> None:
        self.facts = facts
        super().__init__(", ".join(sorted(facts)))


def condition_facts(condition: Mapping[str, Any]) -> set[str]:
    """Names of the facts a condition reads (for validating rule files)."""
    names: set[str] = set()
    for name, test in condition.items():
        if name == "any_of":
            for branch in test:
                names |= condition_facts(branch)
        else:
            names.add(name)
    return names


def condition_operators(condition: Mapping[str, Any]) -> set[str]:
    """Operators a condition uses (for validating rule files)."""
    used: set[str] = set()
    for name, test in condition.items():
        if name == "any_of":
            for branch in test:
                used |= condition_operators(branch)
        else:
            used |= set(test)
    return used


def _any_of(branches: list[Mapping[str, Any]], facts: Mapping[str, Any]) -> bool:
    """OR over branches: true if one holds, undecidable if none holds but some were unknown."""
    branch_missing: set[str] = set()
    for branch in branches:
        try:
            if holds(branch, facts):
                return True
        except Undecidable as exc:
            branch_missing |= exc.facts
    if branch_missing:
        raise Undecidable(branch_missing)
    return False


def _fact_test(value: Any, test: Mapping[str, Any]) -> bool:
    """Apply every operator of one fact's test; ``unknown`` tests whether the fact is known."""
    for operator, operand in test.items():
        if operator == "unknown":
            if (value is None) != bool(operand):
                return False
        elif not OPERATORS[operator](value, operand):
            return False
    return True


def holds(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Evaluate a condition; raise ``Undecidable`` naming the unknown facts it needed."""
    missing: set[str] = set()
    for name, test in condition.items():
        if name == "any_of":
            try:
                if not _any_of(test, facts):
                    return False
            except Undecidable as exc:
                missing |= exc.facts
            continue
        value = facts.get(name)
        if value is None and "unknown" not in test:
            missing.add(name)
            continue
        if not _fact_test(value, test):
            return False
    if missing:
        raise Undecidable(missing)
    return True
