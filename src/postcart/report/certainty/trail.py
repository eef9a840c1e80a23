"""The review's own trail: how the evidence was found, when, and what was included (PRISMA 2020).

postcart's evidence base is curated, not screened: there is no screening log for it, so the
PRISMA boxes for records identified, screened and excluded cannot be filled and are said to be
unavailable rather than left blank or guessed. What can be counted from the data is counted:
reports (sources) and studies included, how far each was checked, how many enter an analysis.
The founding review's search is quoted from its methods section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from postcart.evidence import Evidence
from postcart.literature.saved_searches import saved_searches
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for
from postcart.report.pooling import Pooled

_REVIEW = "Negishi et al., Front Pediatr 2024, doi:10.3389/fped.2023.1305657"
_METHODS = "Materials and methods"
_SEARCH_QUOTE = (
    "We conducted a systematic review of reports on large B-cell lymphoma (LBCL), using PubMed "
    "and adhering to the Preferred Reporting Items for Systematic Reviews and Meta-Analyses "
    "(PRISMA) guidelines (18)."
)
_CRITERIA_QUOTE = (
    "Our focus was on studies involving patients with LBCL who received CART19 cell therapy. "
    "We excluded case reports and clinical trials."
)
_REFLIST_QUOTE = (
    "We also searched for relevant studies in the reference lists of the included articles."
)
_CHECKED = {"full_text": "full text", "abstract": "abstract", "secondary": "a secondary table",
            "seed_only": "the founding review only"}  # fmt: skip


def _review_ref(refs: RefBook, key: str, quote: str) -> str:
    return refs.add(Ref(anchor=anchor_for(f"trail-{key}"), label=f"founding review: {key}",
                        quote=quote, locator=f"review {_METHODS}", citation=_REVIEW))  # fmt: skip


def trail_table(evidence: Evidence, analyses: Sequence[Pooled], refs: RefBook) -> ReportTable:
    """Search strategy, date of last search, inclusion criteria and the flow of the base."""
    searches = "; ".join(f"PubMed: “{s.term}”" for s in saved_searches())
    sources = evidence.sources
    cited = sum(1 for s in sources if s.seed_ref is not None)
    checked = Counter(s.checked_against or "not stated" for s in sources)
    checks = ", ".join(f"{n} checked against {_CHECKED.get(k, k)}"
                       for k, n in sorted(checked.items()))  # fmt: skip
    pooled_studies = {r.study_key for a in analyses if a.pooled for r in a.rows}
    years = [s.year for s in sources if s.year is not None]
    rows = [
        (Cell("Question and inclusion criteria (founding review)"),
         Cell(_CRITERIA_QUOTE, _review_ref(refs, "criteria", _CRITERIA_QUOTE))),
        (Cell("Search strategy (founding review)"),
         Cell(f"{searches}; plus the reference lists of included articles.",
              _review_ref(refs, "search", _SEARCH_QUOTE))),
        (Cell("Reference lists"),
         Cell(_REFLIST_QUOTE, _review_ref(refs, "reflists", _REFLIST_QUOTE))),
        (Cell("Date of last search"),
         Cell("Not reported by the founding review. postcart's additions were curated, not "
              "searched: no search date exists for them; the newest source year in the base is "
              f"{max(years) if years else 'unknown'}.")),
        (Cell("postcart's evidence base"),
         Cell(f"Curated base: {len(sources)} sources (reports), {cited} of them cited by the "
              f"founding review, {len(sources) - cited} added by postcart curators (sources, "
              "aggregates and catalogues included); "
              f"{checks}.")),
        (Cell("PRISMA 2020: identification and screening"),
         Cell("Not available: the base was curated from the founding review's references and "
              "targeted reads, without a screening log, so records identified, duplicates, "
              "records screened and reports excluded cannot be counted. Living updates screened "
              "in postcart's literature workbench report their own PRISMA flow (postcart lit "
              "prisma).")),
        (Cell("PRISMA 2020: included"),
         Cell(f"{len(sources)} reports of {len(evidence.studies)} studies in the base; "
              f"{len(pooled_studies)} studies enter at least one pooled analysis.")),
    ]  # fmt: skip
    return ReportTable(
        "review_trail", "How the evidence was found: search, inclusion and flow",
        ("Item", "What the data say"), tuple(rows),
        method=(
            "PRISMA 2020 items for the evidence base itself, counted from the curated files. "
            "Boxes that need a screening log are reported as not available instead of being "
            "estimated."
        ),
    )  # fmt: skip
