"""Decision aid: a relapsed patient's profile → salvage options in tiers, with their evidence.

For research, education and tumour-board preparation; never a substitute for a physician.
``advise(profile)`` loads the curated evidence and the packaged rulebook on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from postcart.decision.citations import citation_problems
from postcart.decision.efficacy import PooledEfficacy, option_efficacy
from postcart.decision.engine import DISCLAIMER, ORDERING, Advice, Flag, OptionAdvice
from postcart.decision.engine import advise as _advise
from postcart.decision.profile import PatientProfile, parse_profile, read_profile
from postcart.decision.rulebook import TIERS, RuleBook, load_rulebook
from postcart.errors import RuleError
from postcart.evidence.records import Evidence

__all__ = [
    "DISCLAIMER",
    "ORDERING",
    "TIERS",
    "Advice",
    "Flag",
    "OptionAdvice",
    "PatientProfile",
    "PooledEfficacy",
    "RuleBook",
    "advise",
    "default_rulebook",
    "load_rulebook",
    "option_efficacy",
    "parse_profile",
    "read_profile",
]


@lru_cache(maxsize=1)
def _default_evidence() -> Evidence:
    from postcart.evidence import load

    return load()


@lru_cache(maxsize=1)
def default_rulebook() -> RuleBook:
    """The packaged rulebook, checked against the packaged evidence base.

    Besides the source keys, every number and study a rule or option text names must be held
    by the records it cites (``decision/citations.py``); the first problem is raised.
    """
    evidence = _default_evidence()
    book = load_rulebook(evidence_keys={source.key for source in evidence.sources})
    problems = citation_problems(book, evidence)
    if problems:
        rule_id, _, message = problems[0].partition(": ")
        raise RuleError(rule_id, message)
    return book


def advise(
    profile: PatientProfile | dict[str, Any],
    *,
    evidence: Evidence | None = None,
    rulebook: RuleBook | None = None,
    efficacy: Mapping[str, PooledEfficacy] | None = None,
) -> Advice:
    """Rank salvage options for ``profile`` (a PatientProfile or a plain mapping).

    ``efficacy`` (see :func:`option_efficacy`) adds the living review's pooled ORR as the
    second ordering key within a tier; without it, options of one evidence type are ordered
    by how closely their studies match the patient.

    Examples
    --------
    >>> advice = advise({"cd19_status": "negative", "days_to_progression": 60})
    >>> advice.option("loncastuximab").tier
    'not_suited'
    """
    parsed = profile if isinstance(profile, PatientProfile) else parse_profile(profile)
    return _advise(
        parsed,
        evidence=evidence if evidence is not None else _default_evidence(),
        book=rulebook if rulebook is not None else default_rulebook(),
        efficacy=efficacy,
    )
