"""Who decided what and why: the audit trail per record, and exports a team can hand on.

Review tools export decisions without their authors or reasons, and an editor or a later update
cannot tell who excluded a study or on what grounds. Here the append-only audit log
(``accounts.audit``) is read back per record, and exported whole (CSV, JSON) together with a
table of every vote and resolution with its reviewer, reason, stage and time.

Blinding holds in every view and export, for every reader (owners included, who may screen
too): another reviewer's vote on a record stays withheld while the record still waits for
votes at that stage. The event is listed (who acted, when) but its decision is not; the same
for another extractor's saved answers until the record's extraction is accepted, unless the
reader may resolve (and so compares the versions anyway); and for another reviewer's
calibration vote while its round is open.

CSV cells pass through ``evidence.spreadsheet_safe.neutralise``: a title beginning with ``=`` is
evidence text, never a formula in the spreadsheet that opens the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postcart.errors import AccessError
from postcart.evidence.spreadsheet_safe import neutralise
from postcart.literature import accounts, screening
from postcart.literature import models as m
from postcart.literature.screening import Outcome

#: Said in place of a decision that blinding still hides.
WITHHELD = "withheld until every required vote is in"


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit event as this reader may see it."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    #: True when blinding hides the event's contents (who and when are still shown).
    withheld: bool


class _Reader:
    """The facts blinding needs, read once: outcomes per stage, accepted extractions, names."""

    def __init__(self, session: Session, reader: m.Reviewer, project: m.Project) -> None:
        self.reader = reader
        self.outcomes = {s: screening.outcomes(session, project, s) for s in m.STAGES}
        accepted = select(m.Extraction.record_id).where(
            m.Extraction.project_id == project.id, m.Extraction.status == "accepted"
        )
        self.accepted = set(session.scalars(accepted))
        self.resolves = accounts.role_in(session, reader, project.id) in accounts.RESOLVING_ROLES
        open_rounds = select(m.Calibration.id).where(
            m.Calibration.project_id == project.id, m.Calibration.closed_at.is_(None)
        )
        self.open_rounds = {str(i) for i in session.scalars(open_rounds)}
        self.names = dict(session.execute(select(m.Reviewer.id, m.Reviewer.name)).all())

    def pending(self, record_id: int, stage: str) -> bool:
        return self.outcomes.get(stage, {}).get(record_id) is Outcome.PENDING

    def name(self, reviewer_id: int | None) -> str:
        return "" if reviewer_id is None else str(self.names.get(reviewer_id, reviewer_id))


def _vote_key(entity_id: str) -> tuple[int, str, int] | None:
    parts = entity_id.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[0]), parts[1], int(parts[2])


def _redacted_removal(
    data: Mapping[str, Any] | None, seen: _Reader, only: int | None
) -> Mapping[str, Any] | None:
    """A removal's withdrawn votes, decisions hidden where the record is still pending."""
    if data is None or "withdrawn_votes" not in data:
        return data
    votes = []
    for vote in data["withdrawn_votes"]:
        if only is not None and vote.get("record_id") != only:
            continue
        shown = dict(vote)
        if seen.pending(int(vote.get("record_id", 0)), str(vote.get("stage", ""))):
            shown.update(decision=WITHHELD, reason=WITHHELD)
        votes.append(shown)
    return {**data, "withdrawn_votes": votes}


def _entry(event: m.AuditEvent, seen: _Reader, only: int | None = None) -> Entry:
    before: Mapping[str, Any] | None = event.before
    after: Mapping[str, Any] | None = event.after
    withheld = False
    if event.entity == "vote" and event.actor_id != seen.reader.id:
        key = _vote_key(event.entity_id)
        withheld = key is not None and seen.pending(key[0], key[1])
    elif event.entity == "extraction" and event.action == "save":
        record_id = (after or {}).get("record_id")
        withheld = (
            event.actor_id != seen.reader.id
            and not seen.resolves
            and record_id not in seen.accepted
        )
    elif event.entity == "calibration_vote" and event.actor_id != seen.reader.id:
        # Practice votes stay blind while their round is open (calibration.py).
        withheld = event.entity_id.split(":", 1)[0] in seen.open_rounds
    elif event.action == "remove_member":
        before = _redacted_removal(before, seen, only)
    if withheld:
        before = after = None
    return Entry(event.id, event.at, seen.name(event.actor_id), event.action, event.entity,
                 event.entity_id, before, after, withheld)  # fmt: skip


def _about(event: m.AuditEvent, record_id: int) -> bool:
    """Whether the event concerns the record (its votes, ruling, assignment, extraction)."""
    before: dict[str, Any] = event.before or {}
    after: dict[str, Any] = event.after or {}
    if event.entity in ("vote", "resolution"):
        return event.entity_id.split(":", 1)[0] == str(record_id)
    if event.entity == "assignment":
        return record_id in (after.get("records") or []) and record_id not in (
            before.get("records") or []
        )
    if event.entity == "extraction":
        return record_id in (after.get("record_id"), before.get("record_id"))
    if event.action == "remove_member":
        return any(v.get("record_id") == record_id for v in before.get("withdrawn_votes") or [])
    return False


def _record(session: Session, project: m.Project, record_id: int) -> m.LitRecord:
    record = session.get(m.LitRecord, record_id)
    if record is None or record.project_id != project.id:
        raise AccessError(f"record {record_id}: not found in project {project.name!r}")
    return record


def record_trail(
    session: Session, reader: m.Reviewer, project: m.Project, record_id: int
) -> list[Entry]:
    """The audit events about one record, oldest first, as ``reader`` may see them."""
    accounts.require_role(session, reader, project.id, m.PROJECT_ROLES)
    _record(session, project, record_id)
    seen = _Reader(session, reader, project)
    events = accounts.trail(session, project=project)
    return [_entry(e, seen, record_id) for e in events if _about(e, record_id)]


def project_trail(session: Session, reader: m.Reviewer, project: m.Project) -> list[Entry]:
    """Every audit event of the project, oldest first, as ``reader`` may see them."""
    accounts.require_role(session, reader, project.id, m.PROJECT_ROLES)
    seen = _Reader(session, reader, project)
    return [_entry(e, seen) for e in accounts.trail(session, project=project)]


@dataclass(frozen=True, slots=True)
class Decision:
    """One vote or one resolution: who decided what, why, when, and where the record stands."""

    record_id: int
    title: str
    doi: str
    pmid: str
    stage: str
    kind: str
    reviewer: str
    decision: str
    reason: str
    at: str
    outcome: str


def decisions(session: Session, reader: m.Reviewer, project: m.Project) -> list[Decision]:
    """Every vote and resolution of the project, by record and stage (blinding applied).

    For a record still pending at a stage only the reader's own vote is listed: the others are
    not withheld row by row but left out, so even their number tells nothing.
    """
    accounts.require_role(session, reader, project.id, m.PROJECT_ROLES)
    seen = _Reader(session, reader, project)
    records = {
        r.id: r
        for r in session.scalars(select(m.LitRecord).where(m.LitRecord.project_id == project.id))
    }
    found: list[tuple[tuple[int, int, int, int], Decision]] = []
    votes = session.scalars(
        select(m.Vote).where(m.Vote.record_id.in_(select(m.LitRecord.id).where(
            m.LitRecord.project_id == project.id)))
    )  # fmt: skip
    for vote in votes:
        if vote.reviewer_id != reader.id and seen.pending(vote.record_id, vote.stage):
            continue
        found.append(_decision(seen, records[vote.record_id], vote.stage, "vote",
                               vote.reviewer_id, vote.decision, vote.reason,
                               vote.cast_at))  # fmt: skip
    rulings = session.scalars(
        select(m.Resolution).where(m.Resolution.record_id.in_(select(m.LitRecord.id).where(
            m.LitRecord.project_id == project.id)))
    )  # fmt: skip
    for ruling in rulings:
        found.append(_decision(seen, records[ruling.record_id], ruling.stage, "resolution",
                               ruling.reviewer_id, ruling.decision, ruling.reason,
                               ruling.resolved_at))  # fmt: skip
    return [d for _, d in sorted(found, key=lambda item: item[0])]


def _decision(
    seen: _Reader, record: m.LitRecord, stage: str, kind: str, reviewer_id: int,
    decision: str, reason: str, at: datetime,
) -> tuple[tuple[int, int, int, int], Decision]:  # fmt: skip
    standing = seen.outcomes[stage].get(record.id)
    row = Decision(
        record_id=record.id, title=record.title, doi=record.doi or "", pmid=record.pmid or "",
        stage=stage, kind=kind, reviewer=seen.name(reviewer_id), decision=decision,
        reason=reason, at=at.isoformat(), outcome="" if standing is None else standing.value,
    )  # fmt: skip
    order = (record.id, m.STAGES.index(stage), kind == "resolution", reviewer_id)
    return (order[0], order[1], int(order[2]), order[3]), row


# --- exports ------------------------------------------------------------------------------------

TRAIL_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "withheld", "before",
                 "after")  # fmt: skip
DECISION_COLUMNS = ("record_id", "title", "doi", "pmid", "stage", "kind", "reviewer",
                    "decision", "reason", "at", "outcome")  # fmt: skip


def _json_cell(value: Mapping[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
    return out.getvalue()


def _entry_dict(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
        "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id,
        "withheld": entry.withheld, "before": entry.before, "after": entry.after,
    }  # fmt: skip


def trail_csv(entries: Sequence[Entry]) -> str:
    """The audit trail as CSV: before/after as JSON text, every cell spreadsheet-safe."""
    return _csv(
        TRAIL_COLUMNS,
        (
            (e.id, e.at.isoformat(), e.actor, e.action, e.entity, e.entity_id,
             "yes" if e.withheld else "no", _json_cell(e.before), _json_cell(e.after))
            for e in entries
        ),
    )  # fmt: skip


def trail_json(project: m.Project, entries: Sequence[Entry]) -> str:
    """The audit trail as JSON, with the project it belongs to."""
    document = {"project": project.name, "withheld_means": WITHHELD,
                "events": [_entry_dict(e) for e in entries]}  # fmt: skip
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def decisions_csv(rows: Sequence[Decision]) -> str:
    """Every vote and resolution as CSV (one row each), every cell spreadsheet-safe."""
    return _csv(DECISION_COLUMNS, ([getattr(r, c) for c in DECISION_COLUMNS] for r in rows))


def decisions_json(project: m.Project, rows: Sequence[Decision]) -> str:
    """Every vote and resolution as JSON, grouped by record."""
    records: dict[int, dict[str, Any]] = {}
    for row in rows:
        item = records.setdefault(row.record_id, {"record_id": row.record_id, "title": row.title,
                                                  "doi": row.doi, "pmid": row.pmid,
                                                  "decisions": []})  # fmt: skip
        entry = asdict(row)
        for key in ("record_id", "title", "doi", "pmid"):
            entry.pop(key)
        item["decisions"].append(entry)
    document = {"project": project.name, "records": list(records.values())}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "DECISION_COLUMNS",
    "TRAIL_COLUMNS",
    "WITHHELD",
    "Decision",
    "Entry",
    "decisions",
    "decisions_csv",
    "decisions_json",
    "project_trail",
    "record_trail",
    "trail_csv",
    "trail_json",
]
