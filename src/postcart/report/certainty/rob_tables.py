"""Risk of bias in the report: every judgement with its source, every unrated study named.

The studies listed are those that enter a pooled analysis, plus any other study someone
assessed. A study nobody rated gets a row that says so: an empty cell would read as "no
concerns", which is the one thing unrated does not mean.
"""

from __future__ import annotations

from collections.abc import Sequence

from postcart.evidence import Evidence
from postcart.evidence.risk_of_bias import Answer, RiskOfBias
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for
from postcart.report.pooling import Pooled

_STATUS = {"single": "one assessor (provisional)", "agreed": "two assessors agree",
           "resolved": "resolved after disagreement", "unmatched": "unmatched answers",
           "unrated": "unrated"}  # fmt: skip


def assessed_studies(analyses: Sequence[Pooled], rob: RiskOfBias) -> list[str]:
    """Studies in pooled analyses first (report order), then other assessed studies."""
    keys = [r.study_key for a in analyses if a.pooled for r in a.rows]
    keys += sorted({a.study for a in rob.answers})
    return list(dict.fromkeys(keys))


def _analyses_of(study: str, analyses: Sequence[Pooled]) -> str:
    names = [a.title for a in analyses if a.pooled and any(r.study_key == study for r in a.rows)]
    return "; ".join(names) if names else "none (assessed, not pooled)"


def answer_ref(refs: RefBook, evidence: Evidence, a: Answer) -> str:
    """The note of one judgement: rationale, assessor and the text it rests on."""
    p = a.provenance
    locator = " ".join(x for x in (p.kind.value, p.section, p.locator) if x)
    source = evidence.study(a.study).source_key if a.study in _keys(evidence) else None
    citation = evidence.source(source).citation if source else None
    return refs.add(Ref(
        anchor=anchor_for(f"rob-{a.study}-{a.domain}-{a.assessor}"),
        label=f"risk of bias: {a.study}, {a.domain} ({a.assessor}, {a.date})",
        quote=p.quote, locator=f"{locator}; rationale: {a.rationale}", url=p.url,
        citation=citation,
    ))  # fmt: skip


def _keys(evidence: Evidence) -> set[str]:
    return {s.key for s in evidence.studies}


def rob_table(
    analyses: Sequence[Pooled], evidence: Evidence, rob: RiskOfBias, refs: RefBook
) -> ReportTable:
    """One row per judged item, and one row per study left unrated."""
    rows: list[tuple[Cell, ...]] = []
    for study in assessed_studies(analyses, rob):
        name = evidence.study(study).name if study in _keys(evidence) else study
        used = _analyses_of(study, analyses)
        template = rob.template_of(study)
        if template is None:
            rows.append((Cell(name), Cell(used), Cell("—"), Cell("all items"), Cell("unrated"),
                         Cell(_STATUS["unrated"]), Cell(""), Cell("")))  # fmt: skip
            continue
        done, total = rob.rated_items(study)
        for domain in template.domains:
            final = rob.final(study, domain.key)
            if final.status == "unrated":
                continue
            option = None if final.judgement is None else template.option(final.judgement)
            shown = option.label if option is not None else "—"
            first = final.answers[0]
            ref = answer_ref(refs, evidence, first)
            who = ", ".join(f"{a.assessor}: {a.judgement}" for a in final.answers)
            rows.append((Cell(name), Cell(used), Cell(f"{template.name} v{template.version}"),
                         Cell(domain.label), Cell(shown, ref), Cell(_STATUS[final.status]),
                         Cell(who), Cell(first.rationale)))  # fmt: skip
        if done < total:
            rows.append((Cell(name), Cell(used), Cell(f"{template.name} v{template.version}"),
                         Cell(f"{total - done} of {total} items"), Cell("unrated"),
                         Cell(_STATUS["unrated"]), Cell(""), Cell("")))  # fmt: skip
    return ReportTable(
        "risk_of_bias", "Risk of bias of the studies behind the pooled outcomes",
        ("Study", "Pooled in", "Tool", "Item", "Judgement", "Status", "Assessors", "Why"),
        tuple(rows),
        method=(
            "Templates: JBI checklist for case series and Murad 2018 for single-arm cohorts, "
            "ROBINS-I (2016) for comparative observational studies, as versioned data "
            "(evidence/data/risk_of_bias/). Each judgement names its assessor and links to the "
            "text it rests on. 'Unrated' means nobody has rated the item yet; it is not 'no "
            "concerns', and GRADE then treats the risk of bias as not assessed. 'No "
            "information' means the source was read and does not say. No overall judgement is "
            "forced for tools that have none."
        ),
    )  # fmt: skip


def unmatched_table(evidence: Evidence, rob: RiskOfBias) -> ReportTable:
    """Items two assessors answered differently, open until a resolution is recorded."""
    rows = []
    for u in rob.unmatched():
        name = evidence.study(u.study).name if u.study in _keys(evidence) else u.study
        answers = "; ".join(f"{a.assessor}: {a.judgement} ({a.rationale})" for a in u.answers)
        rows.append((Cell(name), Cell(u.template), Cell(u.domain), Cell(answers)))
    return ReportTable(
        "rob_unmatched", "Risk of bias: unmatched answers (two assessors disagree)",
        ("Study", "Tool", "Item", "Answers"), tuple(rows),
        method=(
            "Each assessor rates independently; where their judgements differ the item is listed "
            "here and counts as unrated until a resolution (who, why) is recorded in the "
            "judgement file. No rows: no disagreement is open."
        ),
    )  # fmt: skip
