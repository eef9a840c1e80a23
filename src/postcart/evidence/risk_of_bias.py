"""Risk of bias as data: versioned tool templates and per-study judgements with their sources.

A judgement about a study is an expert claim, held to the same standard as a number: each
answer names its assessor, says why, and points to the text it rests on (a review quote, or a
locator in the source). Templates (JBI case series, Murad 2018, ROBINS-I) are YAML files in
``data/risk_of_bias/templates``; judgements live in ``data/risk_of_bias/*.yaml``. Problems are
reported as ``file:line: field: message``, every one at once, like the evidence files.

Two assessors may rate the same item independently. Their answers are compared, never merged:
where they differ the item is an *unmatched answer*, and it counts as unrated until a
``resolutions`` entry records the agreed judgement. An item nobody rated is *unrated*, which is
not the same as the judgement ``no_information`` (the source was read and does not say).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from postcart.errors import EvidenceValidationError, Problem
from postcart.evidence.loader import DATA_DIR
from postcart.evidence.parsing import LineIndex, duplicate_problems, format_path, read_yaml
from postcart.evidence.records import Provenance
from postcart.evidence.schemas import KEY_PATTERN, ProvenanceIn
from postcart.evidence.vocab import ProvenanceKind

#: Judgement files; templates sit one level down.
ROB_DIR = DATA_DIR / "risk_of_bias"
TEMPLATE_DIR = ROB_DIR / "templates"


class Concern(StrEnum):
    """What a judgement means for certainty; each template maps its own answers onto these."""

    low = "low"
    some = "some"
    high = "high"
    no_information = "no_information"
    not_applicable = "not_applicable"


#: Order used to pick a study's worst concern (``no_information`` counts as "some": the source
#: did not let us see, so we cannot call the item low risk).
_SEVERITY = {Concern.not_applicable: 0, Concern.low: 1, Concern.some: 2,
             Concern.no_information: 2, Concern.high: 3}  # fmt: skip

#: How an item's final judgement was reached.
Status = Literal["unrated", "single", "agreed", "resolved", "unmatched"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _OptionIn(_Strict):
    value: str = Field(pattern=KEY_PATTERN)
    label: str
    concern: Concern


class _DomainIn(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    label: str
    signalling: list[str] = Field(min_length=1)


class _TemplateIn(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    version: str = Field(min_length=1)
    name: str
    citation: str
    doi: str | None = Field(default=None, pattern=r"^10\.\S+/\S+$")
    applies_to: str
    judgements: list[_OptionIn] = Field(min_length=2)
    domains: list[_DomainIn] = Field(min_length=1)


class _TemplateFileIn(_Strict):
    template: _TemplateIn


class _AnswerIn(_Strict):
    domain: str = Field(pattern=KEY_PATTERN)
    judgement: str = Field(pattern=KEY_PATTERN)
    rationale: str = Field(min_length=1)
    provenance: ProvenanceIn


class _AssessmentIn(_Strict):
    study: str = Field(pattern=KEY_PATTERN)
    template: str = Field(pattern=KEY_PATTERN)
    template_version: str = Field(min_length=1)
    assessor: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    answers: list[_AnswerIn] = Field(min_length=1)


class _ResolutionIn(_Strict):
    study: str = Field(pattern=KEY_PATTERN)
    template: str = Field(pattern=KEY_PATTERN)
    domain: str = Field(pattern=KEY_PATTERN)
    judgement: str = Field(pattern=KEY_PATTERN)
    resolved_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class _JudgementFileIn(_Strict):
    assessments: list[_AssessmentIn] = Field(default_factory=list)
    resolutions: list[_ResolutionIn] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Option:
    """One allowed answer of a template and the concern it stands for."""

    value: str
    label: str
    concern: Concern


@dataclass(frozen=True, slots=True)
class Domain:
    """One domain (or checklist item) with its signalling questions."""

    key: str
    label: str
    signalling: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """A risk-of-bias tool, versioned: answers made against another version are refused."""

    key: str
    version: str
    name: str
    citation: str
    doi: str | None
    applies_to: str
    options: tuple[Option, ...]
    domains: tuple[Domain, ...]
    file: str
    line: int | None

    def option(self, value: str) -> Option | None:
        """The allowed answer ``value``, or ``None``."""
        return next((o for o in self.options if o.value == value), None)

    def domain(self, key: str) -> Domain | None:
        """The domain ``key``, or ``None``."""
        return next((d for d in self.domains if d.key == key), None)


@dataclass(frozen=True, slots=True)
class Answer:
    """One assessor's judgement of one domain of one study, with why and where."""

    study: str
    template: str
    domain: str
    judgement: str
    assessor: str
    date: str
    rationale: str
    provenance: Provenance
    file: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The agreed judgement of an item the assessors answered differently."""

    study: str
    template: str
    domain: str
    judgement: str
    resolved_by: str
    reason: str
    file: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Final:
    """An item's judgement as the report uses it (``None`` while unrated or unmatched)."""

    judgement: str | None
    status: Status
    answers: tuple[Answer, ...] = ()


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Two assessors disagree on one item and nobody has resolved it yet."""

    study: str
    template: str
    domain: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class RiskOfBias:
    """Every template and judgement, with the questions GRADE and the report ask of them."""

    templates: tuple[Template, ...]
    answers: tuple[Answer, ...]
    resolutions: tuple[Resolution, ...]

    def template(self, key: str) -> Template:
        """The template ``key`` (KeyError naming it when absent)."""
        for t in self.templates:
            if t.key == key:
                return t
        raise KeyError(f"no risk-of-bias template {key!r}")

    def template_of(self, study: str) -> Template | None:
        """The template a study was assessed with (validation allows one per study)."""
        key = next((a.template for a in self.answers if a.study == study), None)
        return None if key is None else self.template(key)

    def final(self, study: str, domain: str) -> Final:
        """The item's judgement: resolved, agreed, single assessor, unmatched or unrated."""
        answers = tuple(a for a in self.answers if a.study == study and a.domain == domain)
        if not answers:
            return Final(None, "unrated")
        resolved = next(
            (r for r in self.resolutions if r.study == study and r.domain == domain), None
        )
        if resolved is not None:
            return Final(resolved.judgement, "resolved", answers)
        values = {a.judgement for a in answers}
        if len(values) > 1:
            return Final(None, "unmatched", answers)
        return Final(answers[0].judgement, "single" if len(answers) == 1 else "agreed", answers)

    def unmatched(self) -> list[Unmatched]:
        """Every item two assessors answered differently and nobody resolved, in study order."""
        out = []
        for study, template, domain in sorted({(a.study, a.template, a.domain)
                                               for a in self.answers}):  # fmt: skip
            final = self.final(study, domain)
            if final.status == "unmatched":
                out.append(Unmatched(study, template, domain, final.answers))
        return out

    def study_concern(self, study: str) -> Concern | None:
        """The study's worst item concern, or ``None`` unless every item has a final judgement.

        Tools such as JBI give no overall rule; GRADE still needs one view per study, so the
        most severe item stands for the study (as ROBINS-I's own overall judgement does).
        """
        template = self.template_of(study)
        if template is None:
            return None
        concerns = []
        for domain in template.domains:
            final = self.final(study, domain.key)
            option = None if final.judgement is None else template.option(final.judgement)
            if option is None:
                return None
            concerns.append(option.concern)
        return max(concerns, key=lambda c: _SEVERITY[c])

    def rated_items(self, study: str) -> tuple[int, int]:
        """(items with a final judgement, items in the study's template)."""
        template = self.template_of(study)
        if template is None:
            return 0, 0
        done = sum(self.final(study, d.key).judgement is not None for d in template.domains)
        return done, len(template.domains)


# ------------------------------------------------------------------------------------ reading


def _read(path: Path) -> tuple[Any, LineIndex] | list[Problem]:
    """YAML data and the line of every field, or the problems reading it (``read_yaml``)."""
    read = read_yaml(path)
    if isinstance(read, list):
        return read
    return duplicate_problems(path, read[1]) or read


@dataclass(frozen=True)
class YamlDoc:
    """One file's path and line index: makes ``file:line: field: message`` problems."""

    path: Path
    index: LineIndex

    def at(self, path: Sequence[str | int], message: str) -> Problem:
        return Problem(str(self.path), self.index.line(path), format_path(path), message)


def read_validated(model: type[BaseModel], path: Path) -> tuple[Any, YamlDoc] | list[Problem]:
    """``model`` read from ``path`` with its line index, or every problem as file:line: field.

    Shared with the report's GRADE rule files, which follow the same error convention.
    """
    read = _read(path)
    if isinstance(read, list):
        return read
    data, index = read
    doc = YamlDoc(path, index)
    try:
        return model.model_validate(data), doc
    except ValidationError as error:
        out = []
        for detail in error.errors():
            message = detail["msg"]
            if isinstance(detail.get("input"), bool):
                message += " (YAML reads a bare yes/no/true/false as a boolean)"
            out.append(doc.at(tuple(detail["loc"]), message))
        return out


def _repeats(values: Sequence[str]) -> Iterator[tuple[int, str]]:
    for i, value in enumerate(values):
        if value in values[:i]:
            yield i, value


def _templates(folder: Path, problems: list[Problem]) -> list[Template]:
    out: list[Template] = []
    for path in sorted(folder.glob("*.yaml")):
        result = read_validated(_TemplateFileIn, path)
        if isinstance(result, list):
            problems.extend(result)
            continue
        content, doc = result
        t = content.template
        values = [o.value for o in t.judgements]
        if "no_information" not in values:
            problems.append(
                doc.at(
                    ("template", "judgements"),
                    "every template must allow the judgement no_information",
                )
            )
        for i, value in _repeats(values):
            problems.append(
                doc.at(("template", "judgements", i, "value"), f"judgement {value!r} listed twice")
            )
        for i, key in _repeats([d.key for d in t.domains]):
            problems.append(
                doc.at(("template", "domains", i, "key"), f"domain {key!r} listed twice")
            )
        if any(x.key == t.key for x in out):
            problems.append(doc.at(("template", "key"), f"template {t.key!r} defined twice"))
        out.append(Template(
            t.key, t.version, t.name, " ".join(t.citation.split()), t.doi, t.applies_to,
            tuple(Option(o.value, o.label, o.concern) for o in t.judgements),
            tuple(Domain(d.key, d.label, tuple(d.signalling)) for d in t.domains),
            path.name, doc.index.line(("template",)),
        ))  # fmt: skip
    return out


def _provenance(block: ProvenanceIn) -> Provenance:
    return Provenance(
        kind=block.kind, quote=block.quote, section=block.section, locator=block.locator,
        source_key=block.source_key, url=block.url,
    )  # fmt: skip


def _provenance_problems(block: ProvenanceIn) -> Iterator[str]:
    """A judgement must be findable again, exactly like a number."""
    if block.kind == ProvenanceKind.review:
        for name in ("quote", "section"):
            if not getattr(block, name):
                yield f"a judgement read in the review needs provenance.{name}"
    elif not (block.locator or block.quote):
        yield "a judgement needs provenance.locator or provenance.quote (where it rests)"


@dataclass
class _Judgements:
    """Answers and resolutions gathered file by file, with the cross-record checks."""

    templates: dict[str, Template]
    study_keys: set[str] | None
    problems: list[Problem]
    answers: list[Answer] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    seen: dict[tuple[str, str, str], int | None] = field(default_factory=dict)
    study_template: dict[str, str] = field(default_factory=dict)

    def assessment(self, a: _AssessmentIn, doc: YamlDoc, here: tuple[str | int, ...]) -> None:
        if self.study_keys is not None and a.study not in self.study_keys:
            self.problems.append(
                doc.at((*here, "study"), f"unknown study {a.study!r} (not in the evidence files)")
            )
        template = self.templates.get(a.template)
        if template is None:
            known = ", ".join(sorted(self.templates)) or "none"
            self.problems.append(
                doc.at((*here, "template"), f"unknown template {a.template!r}; known: {known}")
            )
            return
        if a.template_version != template.version:
            self.problems.append(
                doc.at(
                    (*here, "template_version"),
                    f"{a.template} is at version {template.version!r}, not "
                    f"{a.template_version!r}: re-assess against it",
                )
            )
        first = self.study_template.setdefault(a.study, a.template)
        if first != a.template:
            self.problems.append(
                doc.at(
                    (*here, "template"),
                    f"study {a.study!r} is already assessed with {first}; one tool per study",
                )
            )
        for j, ans in enumerate(a.answers):
            self.answer(a, ans, template, doc, (*here, "answers", j))

    def answer(
        self,
        a: _AssessmentIn,
        ans: _AnswerIn,
        template: Template,
        doc: YamlDoc,
        at: tuple[str | int, ...],
    ) -> None:
        if template.domain(ans.domain) is None:
            self.problems.append(
                doc.at((*at, "domain"), f"{a.template} has no domain {ans.domain!r}")
            )
        if template.option(ans.judgement) is None:
            allowed = ", ".join(o.value for o in template.options)
            self.problems.append(
                doc.at(
                    (*at, "judgement"),
                    f"{ans.judgement!r} is not a {a.template} judgement (allowed: {allowed})",
                )
            )
        for message in _provenance_problems(ans.provenance):
            self.problems.append(doc.at((*at, "provenance"), message))
        key = (a.study, ans.domain, a.assessor)
        if key in self.seen:
            self.problems.append(
                doc.at(
                    (*at, "domain"),
                    f"{a.assessor} already answered {ans.domain} for "
                    f"{a.study} (line {self.seen[key]})",
                )
            )
        self.seen[key] = doc.index.line(at)
        self.answers.append(Answer(
            a.study, a.template, ans.domain, ans.judgement, a.assessor, a.date,
            " ".join(ans.rationale.split()), _provenance(ans.provenance), doc.path.name,
            doc.index.line(at),
        ))  # fmt: skip

    def resolution(self, r: _ResolutionIn, doc: YamlDoc, here: tuple[str | int, ...]) -> None:
        template = self.templates.get(r.template)
        if template is None:
            self.problems.append(doc.at((*here, "template"), f"unknown template {r.template!r}"))
            return
        if template.option(r.judgement) is None:
            self.problems.append(
                doc.at((*here, "judgement"), f"{r.judgement!r} is not a {r.template} judgement")
            )
        self.resolutions.append(Resolution(
            r.study, r.template, r.domain, r.judgement, r.resolved_by,
            " ".join(r.reason.split()), doc.path.name, doc.index.line(here),
        ))  # fmt: skip

    def dangling(self) -> None:
        for r in self.resolutions:
            if not any(a.study == r.study and a.domain == r.domain for a in self.answers):
                self.problems.append(
                    Problem(
                        r.file,
                        r.line,
                        "resolutions",
                        f"resolves {r.study}/{r.domain}, which nobody answered",
                    )
                )


def _judgements(
    files: Sequence[Path],
    templates: dict[str, Template],
    study_keys: set[str] | None,
    problems: list[Problem],
) -> tuple[list[Answer], list[Resolution]]:
    into = _Judgements(templates, study_keys, problems)
    for path in files:
        result = read_validated(_JudgementFileIn, path)
        if isinstance(result, list):
            problems.extend(result)
            continue
        content, doc = result
        for i, a in enumerate(content.assessments):
            into.assessment(a, doc, ("assessments", i))
        for i, r in enumerate(content.resolutions):
            into.resolution(r, doc, ("resolutions", i))
    into.dangling()
    return into.answers, into.resolutions


def judgement_files(folder: Path | None = None) -> list[Path]:
    """The judgement files of ``folder`` (default: the package's), sorted by name."""
    return sorted(Path(folder or ROB_DIR).glob("*.yaml"))


def load_risk_of_bias(
    folder: Path | None = None,
    *,
    template_dir: Path | None = None,
    study_keys: Iterable[str] | None = None,
) -> RiskOfBias:
    """Templates and judgements, validated; :class:`EvidenceValidationError` lists every problem.

    ``study_keys`` (the evidence's studies) lets a judgement of an unknown study be refused.
    """
    problems: list[Problem] = []
    base = Path(folder or ROB_DIR)
    templates = _templates(Path(template_dir or base / "templates"), problems)
    by_key = {t.key: t for t in templates}
    keys = None if study_keys is None else set(study_keys)
    answers, resolutions = _judgements(judgement_files(base), by_key, keys, problems)
    if problems:
        raise EvidenceValidationError(problems)
    return RiskOfBias(tuple(templates), tuple(answers), tuple(resolutions))
