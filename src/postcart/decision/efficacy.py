"""Pooled efficacy for ordering options: the living review's pooled ORR after CAR T failure.

The decision aid sits below the report in the layers, so it does not pool by itself: whoever
holds the report's salvage analyses (the CLI, the web app) passes them in, and this module only
maps them onto options. An option takes the pooled overall response of its *first* therapy
(its main one) when the review pools at least two studies; a single study is not "pooled".

This is the second ordering key, after the evidence ladder: it only separates options whose
evidence is of the same kind, and the printed reason says the populations differ, because a
higher pooled rate across unlike studies is not a head-to-head comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from postcart.decision.rulebook import RuleBook


class PooledAnalysis(Protocol):
    """The part of a report analysis (``postcart.report.pooling.Pooled``) read here."""

    @property
    def name(self) -> str:
        """Analysis name, ``salvage_{therapy}_orr`` for a salvage ORR."""
        ...

    @property
    def k(self) -> int:
        """Number of studies pooled."""
        ...

    @property
    def population(self) -> str:
        """Who the analysis pools, in words."""
        ...

    def headline(self) -> tuple[float, float, float, float, float] | None:
        """Pooled %, CI low/high and PI low/high, or None when not pooled."""
        ...


@dataclass(frozen=True, slots=True)
class PooledEfficacy:
    """One option's pooled ORR after CAR T failure, as the living review computed it."""

    analysis: str
    percent: float
    ci_low: float
    ci_high: float
    k: int
    population: str
    #: The GRADE certainty the living review gives this pooled value ("≤ Low"), when rated.
    certainty: str | None = None

    def describe(self) -> str:
        """One line for the order reason."""
        graded = f"; certainty {self.certainty} (GRADE)" if self.certainty else ""
        return (
            f"pooled ORR after CAR T failure {self.percent:.1f}% "
            f"(95% CI {self.ci_low:.1f}–{self.ci_high:.1f}; {self.k} studies{graded}; living "
            f"review analysis {self.analysis})"
        )


def option_efficacy(
    analyses: Iterable[PooledAnalysis], book: RuleBook
) -> dict[str, PooledEfficacy]:
    """Option id → pooled ORR, for options whose main therapy the review pools (k ≥ 2)."""
    by_name = {analysis.name: analysis for analysis in analyses}
    found: dict[str, PooledEfficacy] = {}
    for option in book.options:
        if not option.therapies:
            continue
        analysis = by_name.get(f"salvage_{option.therapies[0]}_orr")
        headline = None if analysis is None or analysis.k < 2 else analysis.headline()
        if analysis is None or headline is None:
            continue
        percent, ci_low, ci_high, _, _ = headline
        found[option.id] = PooledEfficacy(
            analysis.name, percent, ci_low, ci_high, analysis.k, analysis.population
        )
    return found


EfficacyMap = Mapping[str, PooledEfficacy]
