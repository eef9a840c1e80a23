"""The Summary-of-Findings table (GRADE's alternative format) and the evidence profile.

The SoF table is what a guideline panel reads first: per outcome the studies and participants,
the pooled value with its CI, the certainty with a footnote saying why, and one plain sentence
whose hedge word carries the certainty (GRADE's informative statements, Santesso 2020: high
"is", moderate "probably", low "may", very low "very uncertain"). The evidence profile is the
detail behind each footnote: every domain's rating, its reason and the rule version.
"""

from __future__ import annotations

from collections.abc import Sequence

from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for, fmt_fixed
from postcart.report.certainty import Assessed
from postcart.report.certainty.grade import DOMAIN_WORDS, DOMAINS, LEVEL_WORDS, Certainty
from postcart.report.pooling import Pooled
from postcart.report.tables.pooled import analysis_ref, ci_text

#: The hedge per certainty level (informative statements, Santesso et al. 2020).
_HEDGE = {"high": "is about", "moderate": "is probably about", "low": "may be about"}


def statement(title: str, certainty: Certainty) -> str:
    """One plain-language sentence whose wording carries the certainty."""
    value = f"{fmt_fixed(certainty.estimate[0])}%"
    if certainty.level == "very_low":
        text = f"We are very uncertain about {_lower(title)}: the pooled value is {value}."
    else:
        text = f"{title} {_HEDGE[certainty.level]} {value}."
    if certainty.upper_bound:
        text += " Certainty may be lower: the risk of bias is not yet fully assessed."
    return text


def _lower(title: str) -> str:
    return title[:1].lower() + title[1:] if title[:2] != title[:2].upper() else title


def certainty_ref(refs: RefBook, c: Certainty) -> str:
    """The footnote of a certainty: start, every domain that lowered or bounded it, the rules."""
    return refs.add(Ref(
        anchor=anchor_for(f"grade-{c.analysis}"), label=f"certainty: {c.title}",
        locator=f"GRADE rules v{c.rules_version} (report/certainty/grade_rules.yaml)",
        quote=c.reasons(),
        citation="GRADE: Guyatt et al., J Clin Epidemiol 2011 series; prognosis: Iorio et al., "
                 "BMJ 2015;350:h870",
    ))  # fmt: skip


def _participants(p: Pooled) -> str:
    n = sum(r.n or 0 for r in p.rows)
    return f"k = {p.k}; {n} participants"


SOF_METHOD = (
    "GRADE summary of findings, alternative format: one row per outcome the report pools, with "
    "the studies (k) and participants, the pooled value and 95% CI, the certainty of the "
    "evidence and a plain-language statement whose wording carries that certainty (is / "
    "probably / may / very uncertain). Event rates are prognostic evidence and start at high "
    "certainty; each GRADE domain is rated by a versioned rule tied to the printed numbers "
    "(see the evidence profile and docs/certainty.md). '≤' marks an upper bound: the risk of "
    "bias of some studies is not yet rated, and rating them can only lower the certainty. "
    "Outcomes not pooled (k = 1) are shown, not rated."
)


NOT_POOLED = "Too few studies to pool; read the single study's value."


def sof_table(analyses: Sequence[Pooled], assessed: Assessed, refs: RefBook) -> ReportTable:
    """The Summary-of-Findings table (every analysis with data)."""
    rows: list[tuple[Cell, ...]] = []
    for p in analyses:
        if p.k == 0:
            continue
        ref = analysis_ref(refs, p)
        c = assessed.of(p.name)
        if c is None:
            rows.append((Cell(p.title), Cell(p.population), Cell(_participants(p), ref),
                         Cell("not pooled", ref), Cell("not rated (not pooled)"),
                         Cell(NOT_POOLED)))  # fmt: skip
            continue
        cref = certainty_ref(refs, c)
        value = f"{fmt_fixed(c.estimate[0])}% ({ci_text(c.estimate[1], c.estimate[2])})"
        said = statement(p.title, c)
        rows.append((Cell(p.title), Cell(p.population), Cell(_participants(p), ref),
                     Cell(value, ref), Cell(c.label, cref), Cell(said, ref)))  # fmt: skip
    return ReportTable(
        "summary_of_findings", "Summary of findings: certainty of each pooled outcome",
        ("Outcome", "Population", "Studies and participants", "Pooled (95% CI)", "Certainty",
         "What this means"),
        tuple(rows), method=SOF_METHOD,
    )  # fmt: skip


def profile_table(analyses: Sequence[Pooled], assessed: Assessed, refs: RefBook) -> ReportTable:
    """The evidence profile: every domain's rating and reason per pooled outcome.

    Domain cells quote the analysis's own numbers (I², CI, PI, weights), so they link to the
    analysis note; the certainty links to its footnote.
    """
    rows: list[tuple[Cell, ...]] = []
    by_name = {p.name: p for p in analyses}
    for c in assessed.certainties:
        cref = certainty_ref(refs, c)
        ref = analysis_ref(refs, by_name[c.analysis])
        cells = [Cell(c.title), Cell(f"{LEVEL_WORDS[c.start]} ({c.kind.replace('_', ' ')})")]
        by_domain = {d.domain: d for d in c.domains}
        for name in DOMAINS:
            d = by_domain[name]
            cost = f" (−{d.downgrade})" if d.downgrade else ""
            text = f"{d.rating.replace('_', ' ')}{cost}: {d.reason} [{d.rule}]"
            if d.overridden_from is not None:
                text += f" Rule said {d.overridden_from.replace('_', ' ')}; {d.override}"
            cells.append(Cell(text, ref))
        cells.append(Cell(c.label, cref))
        rows.append(tuple(cells))
    return ReportTable(
        "evidence_profile", "GRADE evidence profile: why each certainty is what it is",
        ("Outcome", "Starts", *(DOMAIN_WORDS[d] for d in DOMAINS), "Certainty"),
        tuple(rows),
        method=(
            f"GRADE rules version {assessed.rules.version}; each cell names the rule version "
            "that rated it. Risk of bias: share of the weight from studies at high concern "
            f"(rated down at ≥ {assessed.rules.risk_of_bias.serious_high_weight_percent:g}%); "
            "not assessed when studies are unrated. Inconsistency: I² and the prediction "
            "interval against the declared thresholds (or the CI). Indirectness: share of the "
            "weight outside large B-cell lymphoma. Imprecision: the CI against the declared "
            "thresholds (or a precision target) and the optimal information size. Publication "
            f"bias: Egger-type test only when k ≥ {assessed.rules.publication_bias.min_k}. "
            f"Analyst overrides in force: {len(assessed.overrides)}."
        ),
    )  # fmt: skip
