"""The evidence browser: every curated number, searchable and filterable, with where it was read.

A plain GET form that works without JavaScript; htmx (when present) swaps only the result rows
and pushes the URL, so a filtered view is still a link one can share. The filtering itself is
:func:`postcart.web.evidence_search.search`, a pure function tested on its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from postcart.web.app import Who, render
from postcart.web.evidence_search import LIMIT, MAX_QUERY, dropdowns, parse_filters, search
from postcart.web.review_cache import evidence_of

router = APIRouter()

Term = Annotated[str, Query(max_length=100)]


def _partial(request: Request) -> bool:
    """Whether htmx asked for the rows only: a history restore wants the whole page back."""
    headers = request.headers
    return headers.get("hx-request") == "true" and "hx-history-restore-request" not in headers


@router.get("/evidence")
def browse(
    request: Request,
    who: Who,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    therapy: Term = "",
    product: Term = "",
    measure: Term = "",
    provenance: Term = "",
    role: Term = "",
) -> Response:
    """Outcomes matching the search and filters (at most ``LIMIT`` shown, all counted)."""
    evidence = evidence_of(request.app)
    try:
        filters = parse_filters(evidence, q=q, therapy=therapy, product=product,
                                measure=measure, provenance=provenance, role=role)  # fmt: skip
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    found = search(evidence, filters)
    partial = _partial(request)
    response = render(
        request, who, "_evidence_rows.html" if partial else "evidence.html",
        found=found, filters=filters, dropdowns=dropdowns(evidence, filters), limit=LIMIT,
        partial=partial,
    )  # fmt: skip
    # The same URL answers with a page or with rows: caches must keep the two apart.
    response.headers["Vary"] = "HX-Request"
    return response
