"""The decision aid with the living review's numbers: one call for the CLI and the web page.

``postcart.decision`` orders options within a tier by evidence type and then by the pooled
response rate after CAR T failure, which only the living review computes (``report`` sits
above ``decision`` in the layers, so the rates are passed down). Both front ends call
:func:`advise_with_review`, so the terminal, the JSON and the web page give the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from postcart.decision import Advice, PatientProfile, PooledEfficacy, advise, default_rulebook
from postcart.decision import option_efficacy as _option_efficacy
from postcart.evidence.records import Evidence
from postcart.report.analyses import salvage_analyses
from postcart.report.certainty import Assessed, assess
from postcart.report.pooling import Pooled

__all__ = ["advise_with_review", "pooled_efficacy"]


def pooled_efficacy(
    evidence: Evidence,
    *,
    analyses: Sequence[Pooled] | None = None,
    assessed: Assessed | None = None,
) -> Mapping[str, PooledEfficacy]:
    """Each option's pooled response rate after CAR T failure, from ``evidence``, with the
    GRADE certainty the report gives that same analysis (so the aid and the Summary of
    Findings never disagree).

    A caller holding a built report passes its ``analyses`` and ``certainty`` instead of
    having the salvage analyses fitted and rated again.
    """
    if analyses is None:
        analyses = salvage_analyses(evidence)
    if assessed is None:
        assessed = assess(evidence, analyses)
    found = _option_efficacy(analyses, default_rulebook())
    return {
        option: replace(rate, certainty=None if graded is None else graded.label)
        for option, rate in found.items()
        for graded in [assessed.of(rate.analysis)]
    }


def advise_with_review(
    profile: PatientProfile | dict[str, Any],
    evidence: Evidence,
    efficacy: Mapping[str, PooledEfficacy] | None = None,
) -> Advice:
    """Advice for ``profile`` ordered with the review's pooled rates (computed if not given)."""
    rates = pooled_efficacy(evidence) if efficacy is None else efficacy
    return advise(profile, evidence=evidence, efficacy=rates)
