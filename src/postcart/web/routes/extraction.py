"""Extraction in the browser: from an included study to a file in the evidence base.

Each route checks the reviewer's role with ``extraction.open_record`` (which calls
``accounts.require_role``) before it reads anything, so a project one is not in, a record of
another project and a record that was never included all answer 404 alike. The rules live in
``literature/extraction.py``; a route reads the form, makes one core call and renders.

The form needs no JavaScript: it always offers one spare cohort and two spare outcome rows,
which are dropped when left blank, so saving is also how a reviewer makes room for more. Its
inputs are named by their path in the evidence file, which is how a validation problem finds
the input it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import accounts, extraction
from postcart.literature import models as lm
from postcart.literature.extraction import (
    COHORT_FIELDS,
    OUTCOME_FIELDS,
    SOURCE_FIELDS,
    STUDY_FIELDS,
    Checked,
    FormField,
)
from postcart.web.app import DB, Viewer, Who, render, signed_in
from postcart.web.review_cache import evidence_of, invalidate

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
#: Roles that extract (and see the form): the project's voting roles.
EXTRACTING = accounts.VOTING_ROLES
#: Spare rows the form offers beyond what is filled in.
SPARE_COHORTS = 1
SPARE_OUTCOMES = 2
#: The name of the per-field choice on the comparison form: ``choice:<field path>``.
CHOICE = "choice:"


async def _posted(request: Request, who: Who) -> list[tuple[str, str]]:
    """The posted form's text fields, read once ``Who`` has checked the CSRF token."""
    form = await request.form()
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


Posted = Annotated[list[tuple[str, str]], Depends(_posted)]


# --- the form as the template shows it ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InputView:
    """One input: its name (a field path), label, kind, current answer, choices and problems."""

    id: str
    name: str
    label: str
    kind: str
    value: str
    choices: tuple[tuple[str, str], ...]
    selected: tuple[str, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BlockView:
    """A fieldset: source, study, one cohort or one outcome."""

    title: str
    inputs: tuple[InputView, ...]
    children: tuple[BlockView, ...] = ()


@dataclass(frozen=True, slots=True)
class FormView:
    """The whole form: its blocks, and problems listed at the top with links to their inputs."""

    blocks: tuple[BlockView, ...]
    summary: tuple[tuple[str, str, str], ...]
    elsewhere: tuple[str, ...]


def input_id(name: str) -> str:
    """An HTML id for a field path (``studies[0].n`` → ``f-studies-0-n``)."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


_LAST_PART = re.compile(r"(.*)(?:\.[^.\[\]]+|\[\d+\])$")


def anchor(field: str, names: list[str]) -> str:
    """The input a problem belongs to: the field itself, else the first input inside it (a
    missing ``n_provenance`` block goes to its first question), else the nearest enclosing
    block's; "" when no input is near (the problem is shown at the top only)."""
    probe = field
    while probe:
        if probe in names:
            return probe
        inside = next((n for n in names if n.startswith((f"{probe}.", f"{probe}["))), None)
        if inside is not None:
            return inside
        match = _LAST_PART.fullmatch(probe)
        probe = match.group(1) if match else ""
    return ""


def _choices(field: FormField, catalogue: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return catalogue.get(field.name, field.choices)


def _inputs(
    prefix: str, questions: tuple[FormField, ...], answers: dict[str, str],
    catalogue: dict[str, tuple[str, ...]],
) -> list[tuple[str, FormField, str, tuple[str, ...]]]:  # fmt: skip
    return [
        (f"{prefix}.{q.name}", q, answers.get(f"{prefix}.{q.name}", ""), _choices(q, catalogue))
        for q in questions
    ]


def form_view(
    answers: dict[str, str], checked: Checked | None, catalogue: dict[str, tuple[str, ...]]
) -> FormView:
    """The form for ``answers`` with spare rows, each problem placed next to its input."""
    raw: list[tuple[str, list[tuple[str, FormField, str, tuple[str, ...]]], list[Any]]] = [
        ("Source", _inputs(extraction.SOURCE, SOURCE_FIELDS, answers, catalogue), []),
        ("Study", _inputs(extraction.STUDY, STUDY_FIELDS, answers, catalogue), []),
    ]
    cohorts = extraction.cohort_count(answers)
    for c in range(min(cohorts + SPARE_COHORTS, extraction.MAX_COHORTS)):
        outcomes = []
        count = extraction.outcome_count(answers, c)
        for o in range(min(count + SPARE_OUTCOMES, extraction.MAX_OUTCOMES)):
            path = extraction.outcome_path(c, o)
            spare = " (spare: leave blank if not needed)" if o >= count else ""
            outcomes.append((f"Outcome {o + 1}{spare}",
                             _inputs(path, OUTCOME_FIELDS, answers, catalogue)))  # fmt: skip
        spare = " (spare: leave blank if not needed)" if c >= cohorts else ""
        cohort = _inputs(extraction.cohort_path(c), COHORT_FIELDS, answers, catalogue)
        raw.append((f"Cohort {c + 1}{spare}", cohort, outcomes))
    names = [name for _, inputs, children in raw
             for name, *_ in [*inputs, *(i for _, kid in children for i in kid)]]  # fmt: skip
    placed: dict[str, list[str]] = {}
    summary: list[tuple[str, str, str]] = []
    for problem in checked.problems if checked else ():
        target = anchor(problem.field, names)
        placed.setdefault(target, []).append(problem.message)
        summary.append((problem.field, input_id(target) if target else "", problem.message))

    def view(name: str, q: FormField, value: str, choices: tuple[str, ...]) -> InputView:
        chosen = tuple(value.split(", ")) if q.kind == "multi" and value else (value,)
        # An answer outside the list (a catalogue entry since removed, a crafted post) is
        # still shown, selected, so the problem next to it makes sense.
        stray = tuple((v, f"{v} (not in the list)") for v in chosen if v and v not in choices)
        options = tuple((c, c) for c in choices) + stray
        return InputView(input_id(name), name, q.label, q.kind, value, options,
                         tuple(v for v in chosen if v), tuple(placed.get(name, ())))  # fmt: skip

    blocks = tuple(
        BlockView(title, tuple(view(*i) for i in inputs),
                  tuple(BlockView(t, tuple(view(*i) for i in kid)) for t, kid in children))
        for title, inputs, children in raw
    )  # fmt: skip
    elsewhere = tuple(str(p) for p in checked.elsewhere) if checked else ()
    return FormView(blocks, tuple(summary), elsewhere)


def _catalogue(request: Request) -> dict[str, tuple[str, ...]]:
    """Products and therapies offered: the catalogue keys of the evidence base in use."""
    evidence = evidence_of(request.app)
    return {
        "products": tuple(sorted(p.key for p in evidence.products)),
        "therapy": tuple(sorted(t.key for t in evidence.therapies)),
    }


def _directory(request: Request) -> Path | None:
    engine: Engine = request.app.state.engine
    return extraction.extracted_dir(engine.url)


def _check(request: Request, answers: dict[str, str], record: lm.LitRecord) -> Checked:
    """Validate answers as a curated file, with the curated and the accepted files."""
    key = extraction.source_key(answers, record)
    return extraction.validate(
        answers, key, base=extraction.base_paths(_directory(request)),
        review_text=extraction.founding_review_text(),
    )  # fmt: skip


def _form_page(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    record: lm.LitRecord, *, answers: dict[str, str] | None = None,
    checked: Checked | None = None, error: str = "", notice: str = "", status: int = 200,
) -> Response:  # fmt: skip
    mine = extraction.own(session, me, record)
    if answers is None:
        answers = dict(mine.answers) if mine is not None else extraction.prefill(record)
    done = extraction.accepted(session, record)
    role = accounts.role_in(session, me, project.id)
    return render(
        request, who, "extract.html", status, page="form", project=project, record=record,
        form=form_view(answers, checked, _catalogue(request)), mine=mine, accepted=done,
        single=extraction.required(project) == 1, resolver=role in accounts.RESOLVING_ROLES,
        checked=checked, error=error, notice=notice,
    )  # fmt: skip


# --- routes ---------------------------------------------------------------------------------------


@router.get("/projects/{project_id}/extract")
def extraction_list(request: Request, session: DB, who: Who, me: Me, project_id: int) -> Response:
    """The project's included studies and where each one's extraction stands."""
    project = accounts.require_role(session, me, project_id, EXTRACTING)
    items = extraction.worklist(session, me, project)
    role = accounts.role_in(session, me, project.id)
    return render(request, who, "extract.html", page="index", project=project, items=items,
                  resolver=role in accounts.RESOLVING_ROLES)  # fmt: skip


@router.get("/projects/{project_id}/extract/{record_id}")
def extract_form(
    request: Request, session: DB, who: Who, me: Me, project_id: int, record_id: int
) -> Response:
    """The extraction form for one included study, with the reviewer's own answers only."""
    project, record = extraction.open_record(session, me, project_id, record_id, EXTRACTING)
    return _form_page(request, session, who, me, project, record)


@router.post("/projects/{project_id}/extract/{record_id}")
def extract_save(
    request: Request, session: DB, who: Who, me: Me, form: Posted, project_id: int,
    record_id: int,
) -> Response:  # fmt: skip
    """Save the reviewer's answers and show every problem next to its field.

    In a single-extractor project the "add to the evidence base" button saves and accepts in
    one go; with two extractors acceptance is the resolver's, on the comparison page.
    """
    project, record = extraction.open_record(session, me, project_id, record_id, EXTRACTING)
    try:
        saved = extraction.save(session, me, project, record, form, when=accounts.now())
    except InputError as error:
        session.rollback()
        answers = extraction.normalise(form)
        return _form_page(request, session, who, me, project, record, answers=answers,
                          error=str(error), status=400)  # fmt: skip
    answers = dict(saved.answers)
    action = next((value for name, value in form if name == "action"), "save")
    if action == "accept" and extraction.required(project) == 1:
        # The answers stay saved even if acceptance is refused (its rollback must not undo them).
        session.commit()
        return _accept(request, session, who, me, project, record, {}, answers_page=answers)
    checked = _check(request, answers, record)
    notice = "Saved." if checked.ok else (
        f"Saved, with {len(checked.problems) + len(checked.elsewhere)} problem(s) to fix "
        "before this study can enter the evidence base."
    )  # fmt: skip
    return _form_page(request, session, who, me, project, record, answers=answers,
                      checked=checked, notice=notice)  # fmt: skip


def _compare_page(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    record: lm.LitRecord, *, chosen: dict[str, int] | None = None,
    checked: Checked | None = None, error: str = "", status: int = 200,
) -> Response:  # fmt: skip
    comparison = extraction.compare(session, me, project, record)
    problems = [(p.field, extraction.describe(p.field), p.message)
                for p in (checked.problems if checked else ())]  # fmt: skip
    elsewhere = [str(p) for p in checked.elsewhere] if checked else []
    return render(
        request, who, "extract.html", status, page="compare", project=project, record=record,
        comparison=comparison, chosen=chosen or {}, problems=problems, elsewhere=elsewhere,
        error=error, choice_prefix=CHOICE,
    )  # fmt: skip


@router.get("/projects/{project_id}/extract/{record_id}/compare")
def extract_compare(
    request: Request, session: DB, who: Who, me: Me, project_id: int, record_id: int
) -> Response:
    """Both extractions' unmatched answers, field by field, for the resolver to choose from."""
    roles = accounts.RESOLVING_ROLES
    project, record = extraction.open_record(session, me, project_id, record_id, roles)
    return _compare_page(request, session, who, me, project, record)


def _accept(
    request: Request, session: Session, who: Viewer, me: lm.Reviewer, project: lm.Project,
    record: lm.LitRecord, chosen: dict[str, int], *, answers_page: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """Accept, then drop the app's cached evidence and report so the review rebuilds with it."""
    try:
        extraction.accept(
            session, me, project, record, chosen, directory=_directory(request),
            when=accounts.now(), review_text=extraction.founding_review_text(),
        )  # fmt: skip
    except InputError as error:
        session.rollback()
        checked = error.checked if isinstance(error, extraction.ExtractionRefused) else None
        if answers_page is not None:
            return _form_page(request, session, who, me, project, record, answers=answers_page,
                              checked=checked, error=str(error), status=422)  # fmt: skip
        return _compare_page(request, session, who, me, project, record, chosen=chosen,
                             checked=checked, error=str(error), status=422)  # fmt: skip
    invalidate(request.app, f"study accepted from record {record.id}: {record.title[:120]}")
    page = "" if answers_page is not None else "/compare"
    return RedirectResponse(f"/projects/{project.id}/extract/{record.id}{page}", status_code=303)


@router.post("/projects/{project_id}/extract/{record_id}/accept")
def extract_accept(
    request: Request, session: DB, who: Who, me: Me, form: Posted, project_id: int,
    record_id: int,
) -> Response:  # fmt: skip
    """Accept one version per unmatched field; the study is written into the evidence base."""
    project, record = extraction.open_record(session, me, project_id, record_id, EXTRACTING)
    chosen = {
        name.removeprefix(CHOICE): int(value)
        for name, value in form
        if name.startswith(CHOICE) and value.isdigit() and len(value) < 12
    }
    return _accept(request, session, who, me, project, record, chosen)
