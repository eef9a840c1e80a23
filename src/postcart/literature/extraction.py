"""Extraction of included studies into the evidence base: from a browser form to a curated file.

The living loop ends here: a study included at full text is extracted by one or two reviewers,
their versions are compared field by field, the resolver accepts one version per field, and the
result becomes an evidence YAML file beside the curated ones, which the next report pools.

Three decisions shape this module:

* **Answers are kept flat, named by their path in the evidence file** (``source.year``,
  ``studies[0].cohorts[1].outcomes[0].value``). A validation problem names a field path in that
  same form, so the web puts it next to the input it concerns; two reviewers' versions compare
  key by key; and the audit log stores exactly what was typed.
* **Validation is not re-implemented.** Answers become an :class:`EvidenceFile`, are written as
  YAML and go through :func:`postcart.evidence.loader.parse_and_check` together with the curated
  files, so keys, catalogue products and therapies, CR ≤ ORR, events ≤ n, review quotes... are
  judged exactly as for a curated file. Two checks are added that only matter for a file written
  by a form: the publication must not already be in the base (the same patients twice), and a
  quote given as read in the founding review must occur in it verbatim (the curated files are
  held to that by a test over ``../shared``; a form has no test, so it is checked here).
* **Numbers keep the precision they were printed with.** ``68`` and ``68.0`` are different
  statements (the loader derives event counts from the printed precision), so a number is
  written to the YAML as the reviewer typed it, never re-rendered from a float.

Every function takes a session and never commits (one request, one transaction); every write is
audited through :func:`postcart.literature.accounts.audit`.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postcart.errors import AccessError, InputError, Problem
from postcart.evidence.loader import DATA_DIR, evidence_files, parse_and_check
from postcart.evidence.parsing import ParsedFile, format_path
from postcart.evidence.quotes import occurs_in
from postcart.evidence.rules import provenance_sites
from postcart.evidence.schemas import EvidenceFile
from postcart.evidence.vocab import (
    CohortRole,
    DenominatorBasis,
    Disease,
    Measure,
    ProvenanceKind,
    StudyDesign,
    Unit,
)
from postcart.literature import accounts
from postcart.literature import models as m
from postcart.literature.screening import FULL_TEXT, Outcome, outcome

#: Where accepted studies are written when the database is not a local SQLite file (or to put
#: them elsewhere): a directory of ``*.yaml`` files loaded together with the curated ones.
EXTRACTED_DIR_ENV = "POSTCART_EXTRACTED_DIR"
#: The founding review's text, against which quotes of kind ``review`` are checked.
REVIEW_TEXT_ENV = "POSTCART_REVIEW_TEXT"
#: Beside an SQLite database file, the default directory of accepted studies.
EXTRACTED_DIRNAME = "extracted"
#: In a checkout, the founding review sits in the team's shared folder next to the repository.
_CHECKOUT_REVIEW = Path(__file__).resolve().parents[4] / "shared" / "seed" / "review.txt"

#: Bounds on one form, so a crafted request cannot make the server build a huge document.
MAX_COHORTS = 20
MAX_OUTCOMES = 40
MAX_ANSWER = 4000

Kind = Literal["text", "long", "int", "number", "choice", "multi", "bool"]


@dataclass(frozen=True, slots=True)
class FormField:
    """One question of the form: its name below its block (dots nest), label and input kind.

    ``choices`` are the vocabulary's values; products and therapies have none here because their
    choices are the catalogue's keys, which the caller reads from the evidence base.
    """

    name: str
    label: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()


def _values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


def _provenance(prefix: str, what: str) -> tuple[FormField, ...]:
    return (
        FormField(f"{prefix}.kind", f"{what}: read in", "choice", _values(ProvenanceKind)),
        FormField(f"{prefix}.locator", f"{what}: where (table, page, section)"),
        FormField(f"{prefix}.section", f"{what}: review section heading (kind review)"),
        FormField(f"{prefix}.quote", f"{what}: quote", "long"),
        FormField(f"{prefix}.url", f"{what}: URL"),
    )


SOURCE_FIELDS = (
    FormField("citation", "Citation", "long"),
    FormField("first_author", "First author"),
    FormField("year", "Year", "int"),
    FormField("journal", "Journal"),
    FormField("pmid", "PMID"),
    FormField("doi", "DOI"),
    FormField("url", "URL"),
)
STUDY_FIELDS = (
    FormField("name", "Study name"),
    FormField("design", "Design", "choice", _values(StudyDesign)),
    FormField("region", "Country / region"),
    FormField("disease", "Disease", "choice", _values(Disease)),
    FormField("post_cart_specific", "All patients treated after CAR T failure", "bool"),
)
COHORT_FIELDS = (
    FormField("label", "Cohort label"),
    FormField("intervention", "Intervention (in words)"),
    FormField("products", "CAR T products", "multi"),
    FormField("therapy", "Salvage therapy", "choice"),
    FormField("role", "Role", "choice", _values(CohortRole)),
    FormField("denominator_basis", "Denominator basis", "choice", _values(DenominatorBasis)),
    FormField("selection", "Selection (how the cohort was selected)", "long"),
    FormField("n", "n", "int"),
    *_provenance("n_provenance", "n"),
)
OUTCOME_FIELDS = (
    FormField("measure", "Measure", "choice", _values(Measure)),
    FormField("label", "Label (measure other)"),
    FormField("value", "Value", "number"),
    FormField("unit", "Unit", "choice", _values(Unit)),
    FormField("timepoint_months", "Timepoint (months)", "number"),
    FormField("events", "Events", "int"),
    FormField("denominator", "Denominator", "int"),
    FormField("ci_low", "95% CI low", "number"),
    FormField("ci_high", "95% CI high", "number"),
    *_provenance("provenance", "Value"),
)

SOURCE = "source"
STUDY = "studies[0]"


def cohort_path(c: int) -> str:
    """Path of cohort ``c`` (0-based) of the one study."""
    return f"{STUDY}.cohorts[{c}]"


def outcome_path(c: int, o: int) -> str:
    """Path of outcome ``o`` of cohort ``c``."""
    return f"{cohort_path(c)}.outcomes[{o}]"


_FIELD = r"(?P<f>[a-z_]+(?:\.[a-z_]+)?)"
_SOURCE_NAME = re.compile(rf"source\.{_FIELD}")
_STUDY_NAME = re.compile(rf"studies\[0\]\.{_FIELD}")
_COHORT_NAME = re.compile(rf"studies\[0\]\.cohorts\[(?P<c>\d{{1,3}})\]\.{_FIELD}")
_OUTCOME_NAME = re.compile(
    rf"studies\[0\]\.cohorts\[(?P<c>\d{{1,3}})\]\.outcomes\[(?P<o>\d{{1,3}})\]\.{_FIELD}"
)
_BY_NAME = {
    "source": {f.name: (i, f) for i, f in enumerate(SOURCE_FIELDS)},
    "study": {f.name: (i, f) for i, f in enumerate(STUDY_FIELDS)},
    "cohort": {f.name: (i, f) for i, f in enumerate(COHORT_FIELDS)},
    "outcome": {f.name: (i, f) for i, f in enumerate(OUTCOME_FIELDS)},
}
#: A number as printed: digits with an optional decimal part (no exponent, no thousands mark).
_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[-+]?\d+")


@dataclass(frozen=True, slots=True)
class Located:
    """Where a flat answer name sits: block, cohort and outcome index, and its question."""

    block: Literal["source", "study", "cohort", "outcome"]
    cohort: int
    outcome: int
    order: int
    field: FormField

    def position(self) -> tuple[int, int, int, int]:
        """Sort key that reads like the form: source, study, then each cohort and its outcomes."""
        rank = {"source": 0, "study": 1, "cohort": 2, "outcome": 2}[self.block]
        within = -1 if self.block == "cohort" else self.outcome
        return (rank, self.cohort, within, self.order)


def locate(name: str) -> Located | None:
    """The question a flat answer name belongs to, or ``None`` for a name the form never has."""
    patterns = (
        ("outcome", _OUTCOME_NAME),
        ("cohort", _COHORT_NAME),
        ("study", _STUDY_NAME),
        ("source", _SOURCE_NAME),
    )
    for block, pattern in patterns:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        found = _BY_NAME[block].get(match["f"])
        if found is None:
            return None
        groups = match.groupdict()
        c = int(groups["c"]) if groups.get("c") else -1
        o = int(groups["o"]) if groups.get("o") else -1
        return Located(block, c, o, found[0], found[1])  # type: ignore[arg-type]
    return None


def describe(name: str) -> str:
    """How a field reads in a comparison: "Cohort 1 · Outcome 2 · Value"."""
    where = locate(name)
    if where is None:
        return name
    parts = {"source": ["Source"], "study": ["Study"]}.get(where.block)
    if parts is None:
        parts = [f"Cohort {where.cohort + 1}"]
        if where.block == "outcome":
            parts.append(f"Outcome {where.outcome + 1}")
    return " · ".join([*parts, where.field.label])


# --- answers ---------------------------------------------------------------------------------


def _clean(field: FormField, values: list[str]) -> str:
    """One answer from the values posted under its name: products joined, the rest stripped."""
    if field.kind == "multi":
        keys = {key for value in values for key in re.split(r"[\s,;]+", value) if key}
        return ", ".join(sorted(keys))
    text = values[-1].strip() if values else ""
    if field.kind == "bool":
        return "true" if text.lower() in {"true", "on", "yes", "1"} else ""
    return text


def normalise(form: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The answers a form carries, cleaned and renumbered, in the form's order.

    Names the form does not have are dropped (the CSRF token, buttons, anything crafted), blank
    answers are dropped, and cohorts and outcomes left entirely blank (the spare rows a form
    offers) are removed with the rest renumbered from 0, so a field path in a validation
    problem names the same cohort the page shows after saving.
    """
    items = form.items() if isinstance(form, Mapping) else form
    posted: dict[str, list[str]] = {}
    for name, value in items:
        posted.setdefault(name, []).append(value)
    located: list[tuple[Located, str]] = []
    for name, values in posted.items():
        where = locate(name)
        if where is None:
            continue
        if any(len(v) > MAX_ANSWER for v in values):
            raise InputError(f"{describe(name)}: longer than {MAX_ANSWER} characters")
        answer = _clean(where.field, values)
        if answer:
            located.append((where, answer))
    cohorts = sorted({w.cohort for w, _ in located if w.cohort >= 0})
    if len(cohorts) > MAX_COHORTS:
        raise InputError(f"at most {MAX_COHORTS} cohorts per study")
    new_cohort = {old: new for new, old in enumerate(cohorts)}
    new_outcome: dict[tuple[int, int], int] = {}
    for c in cohorts:
        kept = sorted({w.outcome for w, _ in located if w.cohort == c and w.outcome >= 0})
        if len(kept) > MAX_OUTCOMES:
            raise InputError(f"at most {MAX_OUTCOMES} outcomes per cohort")
        new_outcome.update({(c, old): new for new, old in enumerate(kept)})
    renamed: list[tuple[tuple[int, int, int, int], str, str]] = []
    for where, answer in located:
        name = _name(where, new_cohort.get(where.cohort, -1),
                     new_outcome.get((where.cohort, where.outcome), -1))  # fmt: skip
        moved = replace(where, cohort=new_cohort.get(where.cohort, -1),
                        outcome=new_outcome.get((where.cohort, where.outcome), -1))  # fmt: skip
        renamed.append((moved.position(), name, answer))
    return {name: answer for _, name, answer in sorted(renamed)}


def _name(where: Located, c: int, o: int) -> str:
    if where.block == "source":
        return f"{SOURCE}.{where.field.name}"
    if where.block == "study":
        return f"{STUDY}.{where.field.name}"
    if where.block == "cohort":
        return f"{cohort_path(c)}.{where.field.name}"
    return f"{outcome_path(c, o)}.{where.field.name}"


def cohort_count(answers: Mapping[str, str]) -> int:
    """How many cohorts the (normalised) answers hold."""
    found = [w.cohort for name in answers if (w := locate(name)) is not None and w.cohort >= 0]
    return max(found, default=-1) + 1


def outcome_count(answers: Mapping[str, str], c: int) -> int:
    """How many outcomes cohort ``c`` of the (normalised) answers holds."""
    found = [
        w.outcome
        for name in answers
        if (w := locate(name)) is not None and w.cohort == c and w.outcome >= 0
    ]
    return max(found, default=-1) + 1


def prefill(record: m.LitRecord) -> dict[str, str]:
    """The source fields the imported record already knows, so both extractors start alike."""
    first = record.first_author or (record.authors[0] if record.authors else "")
    tail = " ".join(part for part in (record.journal, str(record.year or "")) if part)
    citation = " ".join(
        part
        for part in (f"{first} et al." if first else "", f"{record.title.rstrip('.')}.", tail)
        if part
    )
    answers = {
        "source.citation": citation,
        "source.first_author": first,
        "source.year": str(record.year or ""),
        "source.journal": record.journal,
        "source.pmid": record.pmid or "",
        "source.doi": record.doi or "",
    }
    return normalise(answers)


# --- answers to an evidence file ---------------------------------------------------------------


def _slug(text: str, limit: int = 24) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())[:limit]


def source_key(answers: Mapping[str, str], record: m.LitRecord) -> str:
    """The key of the source (and of its file), from first author, year and PMID or record id.

    Derived, never typed, so two extractors cannot disagree about it. The PMID makes the same
    publication extracted in two projects collide (and be refused as a duplicate) instead of
    entering the base twice; without one, the record id keeps different papers apart.
    """
    author = _slug(answers.get("source.first_author", "") or record.first_author) or "study"
    year = re.sub(r"\D", "", answers.get("source.year", ""))[:4]
    pmid = answers.get("source.pmid", "")
    suffix = pmid if re.fullmatch(r"\d{1,9}", pmid) else f"r{record.id}"
    return f"{author}{year}_{suffix}"


class _Number(str):
    """A number as the reviewer typed it: written to YAML unquoted, digits unchanged."""

    __slots__ = ()


def _represent_number(dumper: yaml.SafeDumper, value: _Number) -> yaml.ScalarNode:
    tag = "tag:yaml.org,2002:int" if _INTEGER.fullmatch(value) else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, str(value))


class _Dumper(yaml.SafeDumper):
    """Safe YAML with :class:`_Number` kept verbatim."""


_Dumper.add_representer(_Number, _represent_number)


def _typed(field: FormField, answer: str) -> object:
    if field.kind == "bool":
        return True
    if field.kind == "multi":
        return [key.strip() for key in answer.split(",") if key.strip()]
    if field.kind in ("int", "number") and _DECIMAL.fullmatch(answer):
        return _Number(answer)
    # Anything else stays text; a number field holding text fails the schema at its path.
    return answer


def _block(
    answers: Mapping[str, str], prefix: str, questions: Sequence[FormField]
) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for field in questions:
        answer = answers.get(f"{prefix}.{field.name}")
        if answer is None:
            continue
        head, _, tail = field.name.partition(".")
        if tail:
            block.setdefault(head, {})[tail] = _typed(field, answer)
        else:
            block[head] = _typed(field, answer)
    return block


def to_document(answers: Mapping[str, str], key: str) -> dict[str, Any]:
    """The evidence file the (normalised) answers describe, as plain data in schema order.

    Keys are derived from the source key (study = source, cohorts numbered), so they are
    unique within the file and never typed by hand.
    """
    cohorts: list[dict[str, Any]] = []
    for c in range(cohort_count(answers)):
        cohort: dict[str, Any] = {"key": f"{key}_c{c + 1}"}
        cohort.update(_block(answers, cohort_path(c), COHORT_FIELDS))
        outcomes = [
            _block(answers, outcome_path(c, o), OUTCOME_FIELDS)
            for o in range(outcome_count(answers, c))
        ]
        if outcomes:
            cohort["outcomes"] = outcomes
        cohorts.append(cohort)
    study: dict[str, Any] = {"key": key, **_block(answers, STUDY, STUDY_FIELDS)}
    study["cohorts"] = cohorts
    source = {"key": key, **_block(answers, SOURCE, SOURCE_FIELDS)}
    return {"source": source, "studies": [study]}


def to_evidence_file(document: Mapping[str, Any], file: str) -> EvidenceFile | list[Problem]:
    """The pydantic model of the file, or its schema problems (named like a curated file's)."""
    try:
        return EvidenceFile.model_validate(document)
    except ValidationError as error:
        return [
            Problem(file, None, format_path(tuple(detail["loc"])), detail["msg"])
            for detail in error.errors()
        ]


def to_yaml(document: Mapping[str, Any], header: str = "") -> str:
    """The file's text: ``header`` lines as comments, then the document, numbers as typed."""
    comments = "".join(f"# {' '.join(line.split())}\n" for line in header.splitlines())
    body = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return comments + body


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checked:
    """The verdict on one set of answers.

    ``problems`` are this extraction's, each naming a field path of the form; ``elsewhere`` are
    problems in the files it was checked with (a broken base blocks acceptance too).
    """

    key: str
    file: str
    document: dict[str, Any]
    problems: tuple[Problem, ...]
    elsewhere: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the answers may become an evidence file."""
        return not self.problems and not self.elsewhere


def founding_review_text() -> str | None:
    """The founding review's text (``POSTCART_REVIEW_TEXT`` or the checkout's shared folder)."""
    configured = os.environ.get(REVIEW_TEXT_ENV)
    path = Path(configured) if configured else _CHECKOUT_REVIEW
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def base_paths(directory: Path | None) -> list[Path]:
    """The files an extraction is checked with: the curated data plus the accepted studies."""
    paths = [DATA_DIR]
    if directory is not None and directory.is_dir():
        paths.append(directory)
    return paths


def _same_publication(mine: ParsedFile, others: Sequence[ParsedFile]) -> list[Problem]:
    """The publication is already a source of the base: extracting it again counts its patients
    twice, which no rule across cohorts can see once the keys differ."""
    source = mine.content.source
    found: list[Problem] = []
    for other in others:
        theirs = other.content.source
        for name in ("pmid", "doi"):
            value = getattr(source, name)
            if value and (getattr(theirs, name) or "").lower() == value.lower():
                found.append(
                    mine.problem(
                        ("source", name),
                        f"{name} {value} is already in the evidence base as source "
                        f"{theirs.key!r} ({other.name})",
                    )
                )
    return found


def _review_quotes(mine: ParsedFile, review_text: str | None) -> list[Problem]:
    """Quotes given as read in the founding review must be in it, word for word."""
    found: list[Problem] = []
    for _, path, provenance in provenance_sites([mine]):
        if provenance.kind != ProvenanceKind.review or not provenance.quote:
            continue
        if review_text is None:
            message = "the founding review's text is not available to check this quote against"
        elif occurs_in(provenance.quote, review_text):
            continue
        else:
            message = "quote does not occur verbatim in the founding review"
        found.append(mine.problem((*path, "quote"), message))
    return found


def validate(
    answers: Mapping[str, str],
    key: str,
    *,
    base: Sequence[Path] = (DATA_DIR,),
    review_text: str | None = None,
    header: str = "",
) -> Checked:
    """Check answers exactly as a curated file is checked, together with the ``base`` files.

    The answers become an :class:`EvidenceFile`; when it has the right shape it is written to a
    temporary YAML file named after the key, which is checked last so that a clash (a duplicate
    key) is reported on it rather than on the curated file it collides with.
    """
    name = f"{key}.yaml"
    document = to_document(answers, key)
    model = to_evidence_file(document, name)
    if isinstance(model, list):
        return Checked(key, name, document, tuple(model))
    with tempfile.TemporaryDirectory(prefix="postcart-extract-") as folder:
        path = Path(folder) / name
        path.write_text(to_yaml(document, header), encoding="utf-8")
        parsed, problems = parse_and_check([*evidence_files(base), path])
        mine = [p for p in problems if p.file == str(path)]
        elsewhere = tuple(p for p in problems if p.file != str(path))
        ours = [f for f in parsed if f.path == path]
        if ours:
            others = [f for f in parsed if f.path != path]
            mine += _same_publication(ours[0], others) + _review_quotes(ours[0], review_text)
    located = tuple(replace(p, file=name) for p in mine)
    return Checked(key, name, document, located, elsewhere)


# --- the extraction workflow ----------------------------------------------------------------


def extracted_dir(database_url: str | URL) -> Path | None:
    """Where accepted studies are written: ``POSTCART_EXTRACTED_DIR``, else ``extracted/``
    beside an SQLite database file; ``None`` for a server database with no directory set
    (nothing can be accepted until one is named)."""
    configured = os.environ.get(EXTRACTED_DIR_ENV)
    if configured:
        return Path(configured)
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve().parent / EXTRACTED_DIRNAME


def included(session: Session, record: m.LitRecord) -> bool:
    """Whether the record was included at full text (only included studies are extracted)."""
    return outcome(session, record, FULL_TEXT) is Outcome.ADVANCE


def open_record(
    session: Session, reviewer: m.Reviewer, project_id: int, record_id: int, roles: Iterable[str]
) -> tuple[m.Project, m.LitRecord]:
    """The project and one of its included records, if ``reviewer`` holds one of ``roles``.

    A record of another project, one not included, and one that does not exist all give the
    same AccessError (the web answers 404), so ids cannot be probed.
    """
    project = accounts.require_role(session, reviewer, project_id, roles)
    record = session.get(m.LitRecord, record_id)
    if record is None or record.project_id != project.id or not included(session, record):
        raise AccessError(f"record {record_id}: not an included study of {project.name!r}")
    return project, record


def _rows(session: Session, record: m.LitRecord, status: str) -> list[m.Extraction]:
    query = select(m.Extraction).where(
        m.Extraction.record_id == record.id, m.Extraction.status == status
    )
    return list(session.scalars(query.order_by(m.Extraction.id)))


def own(session: Session, reviewer: m.Reviewer, record: m.LitRecord) -> m.Extraction | None:
    """The reviewer's own saved answers for the record (the only ones they may see: blinding)."""
    return next((e for e in _rows(session, record, "saved") if e.reviewer_id == reviewer.id), None)


def accepted(session: Session, record: m.LitRecord) -> m.Extraction | None:
    """The accepted version of the record's extraction, once there is one."""
    found = _rows(session, record, "accepted")
    return found[0] if found else None


def required(project: m.Project) -> int:
    """How many reviewers extract each study: the project's full-text setting (1 or 2)."""
    return project.reviewers_full_text


def save(
    session: Session,
    reviewer: m.Reviewer,
    project: m.Project,
    record: m.LitRecord,
    form: Mapping[str, str] | Iterable[tuple[str, str]],
    when: datetime,
) -> m.Extraction:
    """Store the reviewer's answers (replacing their earlier ones), audited.

    Answers are kept even when they do not validate yet: extraction takes several sittings.
    Refused once the record is accepted (the file exists; change it in a new review update),
    and for a reviewer beyond the number of extractors the project asks for.
    """
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    done = accepted(session, record)
    if done is not None:
        raise InputError(f"record {record.id}: already accepted into the evidence base "
                         f"as {done.file}")  # fmt: skip
    answers = normalise(form)
    mine = own(session, reviewer, record)
    if mine is None:
        others = _rows(session, record, "saved")
        if len(others) >= required(project):
            raise InputError(
                f"record {record.id}: already extracted by {len(others)} reviewer(s), "
                f"as many as project {project.name!r} asks for"
            )
        mine = m.Extraction(project_id=project.id, record_id=record.id,
                            reviewer_id=reviewer.id, status="saved", file="")  # fmt: skip
        session.add(mine)
        before = None
    else:
        before = {"record_id": record.id, "answers": dict(mine.answers)}
    mine.answers, mine.saved_at = answers, when
    session.flush()
    accounts.audit(session, reviewer, "save", "extraction", mine.id, before=before,
                   after={"record_id": record.id, "answers": answers}, project=project)  # fmt: skip
    return mine


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def same(name: str, a: str, b: str) -> bool:
    """Whether two answers to one question agree: numbers by value, text up to spacing."""
    where = locate(name)
    if where is not None and where.field.kind in ("int", "number"):
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return x == y
    return " ".join(a.split()) == " ".join(b.split())


@dataclass(frozen=True, slots=True)
class Difference:
    """One question two extractors answered differently ("" = left blank)."""

    field: str
    label: str
    values: tuple[str, ...]


def _ordered(names: Iterable[str]) -> list[str]:
    def key(name: str) -> tuple[int, ...]:
        where = locate(name)
        return (9, 0, 0, 0) if where is None else where.position()

    return sorted(set(names), key=key)


def unmatched(versions: Sequence[Mapping[str, str]]) -> list[Difference]:
    """Every question on which the versions disagree, in the form's order."""
    if len(versions) < 2:
        return []
    names = _ordered(name for version in versions for name in version)
    found = []
    for name in names:
        values = tuple(version.get(name, "") for version in versions)
        if not all(same(name, values[0], v) for v in values[1:]):
            found.append(Difference(name, describe(name), values))
    return found


@dataclass(frozen=True, slots=True)
class Comparison:
    """Where a record's extraction stands, for the resolver.

    The versions are shown only once every extractor the project asks for has saved, so a
    resolver who also extracts never sees the other version before finishing their own.
    """

    project: m.Project
    record: m.LitRecord
    required: int
    extractions: tuple[m.Extraction, ...]
    names: tuple[str, ...]
    unmatched: tuple[Difference, ...]
    matched: int
    accepted: m.Extraction | None

    @property
    def ready(self) -> bool:
        """Whether every extraction is in (and the record not yet accepted)."""
        return self.accepted is None and len(self.extractions) >= self.required


def _accepting_roles(project: m.Project) -> frozenset[str]:
    """Two extractors need a resolver; a single-extractor project accepts directly."""
    return accounts.RESOLVING_ROLES if required(project) > 1 else accounts.VOTING_ROLES


def compare(
    session: Session, actor: m.Reviewer, project: m.Project, record: m.LitRecord
) -> Comparison:
    """The record's extractions side by side: the unmatched answers and how many agree."""
    accounts.require_role(session, actor, project.id, _accepting_roles(project))
    rows = tuple(_rows(session, record, "saved")[: required(project)])
    names = []
    for row in rows:
        reviewer = session.get(m.Reviewer, row.reviewer_id)
        names.append("" if reviewer is None else reviewer.name)
    done = accepted(session, record)
    ready = done is None and len(rows) >= required(project)
    versions = [row.answers for row in rows] if ready else []
    differences = unmatched(versions)
    agreed = len(set().union(*versions)) - len(differences) if versions else 0
    return Comparison(project, record, required(project), rows, tuple(names),
                      tuple(differences), agreed, done)  # fmt: skip


def merge(rows: Sequence[m.Extraction], choices: Mapping[str, int]) -> dict[str, str]:
    """One version per question: agreed answers as they are, the others as the resolver chose.

    ``choices`` maps a field to the id of the extraction whose answer is taken; every
    unmatched field needs one, so nothing is accepted by default.
    """
    if len(rows) == 1:
        return normalise(rows[0].answers)
    by_id = {row.id: row for row in rows}
    differences = unmatched([row.answers for row in rows])
    missing = [d.label for d in differences if choices.get(d.field) not in by_id]
    if missing:
        raise InputError("choose a version of: " + "; ".join(missing))
    chosen = {d.field: by_id[choices[d.field]].answers.get(d.field, "") for d in differences}
    merged: dict[str, str] = {}
    for name in _ordered(name for row in rows for name in row.answers):
        merged[name] = chosen[name] if name in chosen else rows[0].answers.get(name, "")
    return normalise(merged)


class ExtractionRefused(InputError):
    """The accepted version would not validate: nothing is written; the problems say why."""

    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        count = len(checked.problems) + len(checked.elsewhere)
        super().__init__(f"{count} problem(s): the study cannot enter the evidence base yet")


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted study: the file written and the answers it holds."""

    path: Path
    answers: dict[str, str]
    extraction: m.Extraction


def _header(
    project: m.Project, record: m.LitRecord, actor: m.Reviewer, names: Sequence[str], when: datetime
) -> str:
    return (
        f"Accepted in the postcart workbench on {when:%Y-%m-%d}: project {project.name!r}, "
        f"record {record.id}.\nExtracted by {', '.join(names)}; accepted by {actor.name}. "
        "Validated together with the curated files before it was written."
    )


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    try:
        os.link(partial, path)  # fails if ``path`` exists: an accepted file is never replaced
    except FileExistsError:
        raise InputError(f"{path.name} already exists in {path.parent}") from None
    finally:
        partial.unlink(missing_ok=True)


def accept(
    session: Session,
    actor: m.Reviewer,
    project: m.Project,
    record: m.LitRecord,
    choices: Mapping[str, int],
    *,
    directory: Path | None,
    when: datetime,
    review_text: str | None = None,
) -> Accepted:
    """Accept the record's extraction into the evidence base: merge, validate, audit, write.

    The merged answers are validated again with the curated files and every study accepted
    before (they are loaded together from now on); any problem refuses the whole acceptance
    with :class:`ExtractionRefused`. The file is written last, after the database rows, so a
    refused or failed acceptance leaves no file behind.
    """
    comparison = compare(session, actor, project, record)
    if comparison.accepted is not None:
        raise InputError(f"record {record.id}: already accepted as {comparison.accepted.file}")
    if not comparison.ready:
        waiting = comparison.required - len(comparison.extractions)
        raise InputError(f"record {record.id}: waiting for {waiting} more extraction(s)")
    if directory is None:
        raise InputError(f"no directory for accepted studies: set {EXTRACTED_DIR_ENV}")
    answers = merge(comparison.extractions, choices)
    key = source_key(answers, record)
    target = directory / f"{key}.yaml"
    if target.exists():
        raise InputError(f"{target.name} already exists in {directory}")
    header = _header(project, record, actor, comparison.names, when)
    checked = validate(answers, key, base=base_paths(directory), review_text=review_text,
                       header=header)  # fmt: skip
    if not checked.ok:
        raise ExtractionRefused(checked)
    row = m.Extraction(project_id=project.id, record_id=record.id, reviewer_id=actor.id,
                       status="accepted", answers=answers, saved_at=when,
                       file=target.name)  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Another resolver accepted the record in the moment since it was read (the partial
        # unique index): theirs stands, and this one writes nothing.
        raise InputError(f"record {record.id}: accepted meanwhile by someone else") from None
    accounts.audit(
        session, actor, "accept", "extraction", row.id, project=project,
        after={"record_id": record.id, "file": target.name, "answers": answers,
               "from": [e.id for e in comparison.extractions],
               "choices": {name: choices[name] for name in sorted(choices)
                           if name in {d.field for d in comparison.unmatched}}},
    )  # fmt: skip
    _write_new(target, to_yaml(checked.document, header))
    return Accepted(target, answers, row)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One included record as the extraction list shows it to one reviewer."""

    record: m.LitRecord
    mine: bool
    saved: int
    required: int
    accepted_file: str


def worklist(session: Session, reviewer: m.Reviewer, project: m.Project) -> list[WorkItem]:
    """The project's included records with where their extraction stands (counts only)."""
    accounts.require_role(session, reviewer, project.id, accounts.VOTING_ROLES)
    query = select(m.LitRecord).where(m.LitRecord.project_id == project.id)
    items = []
    for record in session.scalars(query.order_by(m.LitRecord.id)):
        if not included(session, record):
            continue
        rows = _rows(session, record, "saved")
        done = accepted(session, record)
        items.append(WorkItem(record, any(r.reviewer_id == reviewer.id for r in rows),
                              len(rows), required(project),
                              "" if done is None else done.file))  # fmt: skip
    return items


__all__ = [
    "COHORT_FIELDS",
    "EXTRACTED_DIR_ENV",
    "OUTCOME_FIELDS",
    "REVIEW_TEXT_ENV",
    "SOURCE_FIELDS",
    "STUDY_FIELDS",
    "Accepted",
    "Checked",
    "Comparison",
    "Difference",
    "ExtractionRefused",
    "FormField",
    "WorkItem",
    "accept",
    "accepted",
    "base_paths",
    "cohort_count",
    "cohort_path",
    "compare",
    "describe",
    "extracted_dir",
    "founding_review_text",
    "included",
    "locate",
    "merge",
    "normalise",
    "open_record",
    "outcome_count",
    "outcome_path",
    "own",
    "prefill",
    "required",
    "same",
    "save",
    "source_key",
    "to_document",
    "to_evidence_file",
    "to_yaml",
    "unmatched",
    "validate",
    "worklist",
]
