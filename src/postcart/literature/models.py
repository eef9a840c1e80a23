"""ORM tables of the literature pipeline: projects, reviewers, imports, records, screening, PRISMA.

PRISMA 2020 counts three kinds of thing, so they are three tables: a *record* is one imported
reference (duplicates included), a *report* is the document sought in full text for a record that
passed title/abstract screening, and a *study* groups the reports describing one investigation.
Duplicates are linked through a group, never deleted. Decisions are per-reviewer votes plus an
optional resolution, so dual screening, blinding and Cohen's kappa are possible.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from postcart.db import Base

STAGES = ("title_abstract", "full_text")
#: Site-wide roles: an owner manages accounts and creates projects; a member joins projects.
SITE_ROLES = ("owner", "member")
#: Roles within one project: owner (settings, members), reviewer (votes), resolver (settles
#: conflicts; also votes), viewer (reads the project, never writes).
PROJECT_ROLES = ("owner", "reviewer", "resolver", "viewer")
DECISIONS = ("yes", "maybe", "no")
#: Full-text exclusion reasons of the founding review; a project may replace them.
DEFAULT_EXCLUSION_REASONS = ("case report", "clinical trial", "not LBCL", "not CD19 CAR T")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Project(Base):
    """One review; its settings say how many reviewers each stage needs and who resolves."""

    __tablename__ = "lit_project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reviewers_title_abstract: Mapped[int] = mapped_column(Integer, default=2)
    reviewers_full_text: Mapped[int] = mapped_column(Integer, default=2)
    exclusion_reasons: Mapped[list[str]] = mapped_column(JSON)
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("lit_reviewer.id"), nullable=True)
    __table_args__ = (
        CheckConstraint("reviewers_title_abstract IN (1, 2)", name="reviewers_ta"),
        CheckConstraint("reviewers_full_text IN (1, 2)", name="reviewers_ft"),
    )


class Reviewer(Base):
    """A person who screens; the password is stored as an scrypt hash with its own salt."""

    __tablename__ = "lit_reviewer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_salt: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(128))
    site_role: Mapped[str] = mapped_column(String(20), default="member")
    __table_args__ = (CheckConstraint(_in("site_role", SITE_ROLES), name="site_role"),)


class Membership(Base):
    """Which reviewers belong to which projects (the basis of data isolation)."""

    __tablename__ = "lit_membership"
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="reviewer")
    __table_args__ = (CheckConstraint(_in("role", PROJECT_ROLES), name="role"),)


class SearchRun(Base):
    """One execution of a saved search: what was asked, over which window, what came back."""

    __tablename__ = "lit_search_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    database: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    mindate: Mapped[str] = mapped_column(String(20), default="")
    maxdate: Mapped[str] = mapped_column(String(20), default="")
    run_at: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)
    pmids: Mapped[list[str]] = mapped_column(JSON)


class ImportBatch(Base):
    """One imported file; ``update_no`` groups the batches of one living-review update."""

    __tablename__ = "lit_import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    update_no: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    search_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("lit_search_run.id"), nullable=True
    )


class DuplicateGroup(Base):
    """Records judged to be the same reference; ``root_record_id`` is the one screened.

    The root is a plain id, not a foreign key: records already point at their group, and a
    cycle of foreign keys would need deferred constraints on every backend.
    """

    __tablename__ = "lit_duplicate_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    root_record_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40))


class LitRecord(Base):
    """One imported reference with every :class:`~postcart.literature.records.Record` field."""

    __tablename__ = "lit_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("lit_import_batch.id"))
    duplicate_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("lit_duplicate_group.id"), nullable=True
    )
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON)
    first_author: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    journal: Mapped[str] = mapped_column(Text, default="")
    volume: Mapped[str] = mapped_column(Text, default="")
    issue: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[str] = mapped_column(Text, default="")
    doi: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    pmid: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    record_type: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[list[list[str]]] = mapped_column(JSON)
    source_file: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(40))


class Study(Base):
    """One investigation; several reports (companion papers, abstracts) may describe it."""

    __tablename__ = "lit_study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    label: Mapped[str] = mapped_column(Text)


class Report(Base):
    """The full text sought for a record that passed title/abstract screening."""

    __tablename__ = "lit_report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"), unique=True)
    retrieved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    location: Mapped[str] = mapped_column(Text, default="")
    study_id: Mapped[int | None] = mapped_column(ForeignKey("lit_study.id"), nullable=True)


class Vote(Base):
    """One reviewer's decision on one record at one stage; a new vote replaces their old one."""

    __tablename__ = "lit_vote"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"))
    stage: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("record_id", "reviewer_id", "stage", name="one_vote"),
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )


class Resolution(Base):
    """The designated reviewer's ruling on a conflict; it overrides the votes of that stage."""

    __tablename__ = "lit_resolution"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"))
    stage: Mapped[str] = mapped_column(String(20))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("record_id", "stage", name="one_resolution"),
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """One write, who made it and when, with the record before and after (append-only)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("lit_reviewer.id"), nullable=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("lit_project.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)


class Assignment(Base):
    """A record handed to a reviewer at one stage, so a team can split the work between them.

    A record may be assigned to as many reviewers as the stage needs votes; the row stays after
    the vote (it says who was asked), and is deleted when the reviewer leaves the project.
    ``project_id`` repeats the record's project so a team's queue is one indexed query.
    """

    __tablename__ = "lit_assignment"
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("lit_reviewer.id"), nullable=True)
    __table_args__ = (CheckConstraint(_in("stage", STAGES), name="stage"),)


#: An extraction is a reviewer's own answers ("saved") or the version the resolver accepted.
EXTRACTION_STATUSES = ("saved", "accepted")


class Extraction(Base):
    """One reviewer's answers to the extraction form for one included record, or the accepted one.

    ``answers`` is the form as filled in, flat (``studies[0].cohorts[0].n`` → ``"120"``), so two
    reviewers' versions compare field by field and a validation problem's field path names the
    input it belongs to. The accepted version is a row of its own (``status = accepted``, the
    resolver as reviewer, the evidence file it became in ``file``); the partial unique index lets
    a record be accepted once, even when two resolvers press the button at the same moment.
    """

    __tablename__ = "lit_extraction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"))
    status: Mapped[str] = mapped_column(String(20), default="saved")
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime)
    file: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("record_id", "reviewer_id", "status", name="one_extraction"),
        CheckConstraint(_in("status", EXTRACTION_STATUSES), name="status"),
        Index(
            "ix_lit_extraction_one_accepted",
            "record_id",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
    )


class Invitation(Base):
    """An owner's invitation to join a project with a role: a link that works once, until expiry.

    The link carries a random token; the table holds only its SHA-256 (like a browser session),
    so a copy of the database accepts no invitation. ``accepted_at`` and ``revoked_at`` end it;
    the accept is a conditional UPDATE on both being NULL, so two clicks cannot both succeed.
    """

    __tablename__ = "lit_invitation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("lit_reviewer.id"), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (CheckConstraint(_in("role", PROJECT_ROLES), name="role"),)


class ScreenKeys(Base):
    """A reviewer's own keys for keyboard screening (one row per person, every project)."""

    __tablename__ = "lit_screen_keys"
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"), primary_key=True)
    keys: Mapped[dict[str, str]] = mapped_column(JSON)


class Calibration(Base):
    """A calibration round: a seeded random sample that every voting member screens once.

    The sample is stored (``record_ids``) as well as its ``seed``, so the round can be shown and
    re-derived. While a round is open (``closed_at`` NULL) normal screening waits; the owner
    closes it after reading the agreement, which opens screening.
    """

    __tablename__ = "lit_calibration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    record_ids: Mapped[list[int]] = mapped_column(JSON)
    started_by: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (CheckConstraint(_in("stage", STAGES), name="stage"),)


class CalibrationVote(Base):
    """One reviewer's decision on one record of a calibration round (practice, not screening)."""

    __tablename__ = "lit_calibration_vote"
    calibration_id: Mapped[int] = mapped_column(ForeignKey("lit_calibration.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lit_record.id"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lit_reviewer.id"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint(_in("decision", DECISIONS), name="decision"),)


class QueueState(Base):
    """Per record and stage: votes cast, reviewers who claimed it (voted or assigned), resolved.

    Derived data, kept by database triggers on ``lit_vote``, ``lit_assignment``,
    ``lit_resolution`` and ``lit_record`` (migration 0009), so every write path, including ones
    added later, keeps it exact. It exists so that finding a reviewer's next record reads a few
    indexed rows instead of aggregating every vote and assignment of the project on each vote.
    """

    __tablename__ = "lit_queue"
    record_id: Mapped[int] = mapped_column(
        ForeignKey("lit_record.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("lit_project.id"))
    votes: Mapped[int] = mapped_column(Integer, default=0)
    claimers: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_lit_queue_open", "project_id", "stage", "claimers", "votes"),)


#: Reviewers' own assignments, for their queue of assigned records.
Index("ix_lit_assignment_reviewer", Assignment.reviewer_id, Assignment.stage, Assignment.project_id)
