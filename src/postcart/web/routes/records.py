"""One record's page (full text links, the votes one may see, its audit trail) and the exports.

The blinding rules and the export formats live in ``literature/decision_log.py``; the links in
``literature/fulltext.py``. Every member may read these (viewers included): what a reader may
not yet see is withheld by the core, not by the template.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from postcart.errors import AccessError
from postcart.literature import accounts, decision_log, fulltext, screening
from postcart.literature import models as lm
from postcart.web.app import DB, Who, render, signed_in

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
Export = Literal["audit.csv", "audit.json", "decisions.csv", "decisions.json"]
STAGE_NAMES = {"title_abstract": "Title/abstract", "full_text": "Full text"}
DECISION_NAMES = {"yes": "Include", "maybe": "Maybe", "no": "Exclude"}


@router.get("/projects/{project_id}/records/{record_id}")
def record_page(request: Request, session: DB, who: Who, me: Me, project_id: int,
                record_id: int) -> Response:  # fmt: skip
    """The record, where to read it in full, the votes one may see, and who did what when."""
    project = accounts.require_role(session, me, project_id, lm.PROJECT_ROLES)
    record = session.get(lm.LitRecord, record_id)
    if record is None or record.project_id != project.id:
        raise AccessError(f"record {record_id}: not found in project {project.name!r}")
    trail = decision_log.record_trail(session, me, project, record_id)
    votes = {stage: screening.visible_votes(session, me, record_id, stage) for stage in lm.STAGES}
    names = {r.id: r.name for r, _ in accounts.members(session, project)}
    return render(request, who, "record.html", project=project, record=record, trail=trail,
                  links=fulltext.of(session, record), votes=votes, names=names,
                  stage_names=STAGE_NAMES, decision_names=DECISION_NAMES,
                  withheld=decision_log.WITHHELD)  # fmt: skip


@router.get("/projects/{project_id}/exports/{name}")
def export(session: DB, me: Me, project_id: int, name: Export) -> Response:
    """The audit log or the table of decisions, as CSV or JSON (a download)."""
    project = accounts.require_role(session, me, project_id, lm.PROJECT_ROLES)
    what, kind = name.split(".")
    if what == "audit":
        entries = decision_log.project_trail(session, me, project)
        text = (decision_log.trail_csv(entries) if kind == "csv"
                else decision_log.trail_json(project, entries))  # fmt: skip
    else:
        rows = decision_log.decisions(session, me, project)
        text = (decision_log.decisions_csv(rows) if kind == "csv"
                else decision_log.decisions_json(project, rows))  # fmt: skip
    media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    filename = f"project-{project.id}-{what}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"',
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(text, media_type=media, headers=headers)
