"""Turn the curated YAML files into validated :class:`Evidence`, or list every problem.

Order of work: parse every file (schema problems), then run the cross-record rules over all
files that parsed, and raise once with everything found. Only clean files become records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from postcart.errors import EvidenceValidationError, Problem
from postcart.evidence import rules
from postcart.evidence.events import approximate_events, derive_events
from postcart.evidence.parsing import ParsedFile, parse_file
from postcart.evidence.records import (
    Cohort,
    Evidence,
    Indication,
    Mechanism,
    Outcome,
    OverlapGroup,
    Product,
    Provenance,
    RiskFactor,
    Source,
    Study,
    Therapy,
)
from postcart.evidence.schemas import CohortIn, OutcomeIn, ProvenanceIn
from postcart.evidence.vocab import LANDMARK_RATES, MEDIANS, EventsBasis, Statistic, Unit

#: The curated files shipped with the package.
DATA_DIR = Path(__file__).resolve().parent / "data"


def evidence_files(paths: Iterable[Path | str] | None = None) -> list[Path]:
    """The YAML files named by ``paths`` (files, or directories searched for ``*.yaml``).

    Without paths, the package's data directory. Sorted by name so loads are deterministic.
    Finding no file at all is an error, not an empty evidence base: building from it would
    replace every stored source with nothing. (An empty folder beside others that hold files,
    such as the web app's folder of extracted studies before the first one, is fine.)
    """
    chosen = [Path(p) for p in paths] if paths is not None else [DATA_DIR]
    found: list[Path] = []
    empty: list[Path] = []
    for path in chosen:
        if path.is_dir():
            in_dir = sorted(path.glob("*.yaml"))
            found.extend(in_dir)
            if not in_dir:
                empty.append(path)
        else:
            found.append(path)
    if not found:
        problems = [_empty_folder(p) for p in empty]
        raise EvidenceValidationError(
            problems or [Problem("(arguments)", None, "(paths)", "no evidence files given")]
        )
    return sorted(found, key=lambda p: (p.name, str(p)))


def _empty_folder(path: Path) -> Problem:
    other = sorted(p.name for p in path.glob("*.yml"))
    hint = f" (found {', '.join(other[:3])}: rename them to .yaml)" if other else ""
    return Problem(str(path), None, "(folder)", f"no *.yaml evidence files in this folder{hint}")


def parse_and_check(files: Sequence[Path]) -> tuple[list[ParsedFile], list[Problem]]:
    """Parse every file and run every rule; returns what parsed and every problem found."""
    parsed: list[ParsedFile] = []
    problems: list[Problem] = []
    for path in files:
        result = parse_file(path)
        if isinstance(result, ParsedFile):
            parsed.append(result)
        else:
            problems.extend(result)
    problems.extend(rules.check(parsed))
    return parsed, problems


def validate(paths: Iterable[Path | str] | None = None) -> list[ParsedFile]:
    """Parsed files, or :class:`EvidenceValidationError` listing every problem in them."""
    files = evidence_files(paths)
    parsed, problems = parse_and_check(files)
    if problems:
        raise EvidenceValidationError(problems)
    return parsed


def load_evidence(paths: Iterable[Path | str] | None = None) -> Evidence:
    """Validate the files and assemble them into records."""
    return assemble(validate(paths))


_Record = TypeVar("_Record")


def _record(kind: type[_Record], parsed: BaseModel, **overrides: Any) -> _Record:
    """A read model from a parsed block: every field the two share by name, plus ``overrides``.

    File blocks and read models use the same names on purpose; ``overrides`` carries what the
    file does not hold (file, line, source key) or holds in another shape (nested blocks).
    """
    names = {f.name for f in fields(kind)} & set(type(parsed).model_fields)  # type: ignore[arg-type]
    values = {name: getattr(parsed, name) for name in names}
    values.update(overrides)
    return kind(**values)


def _provenance(block: ProvenanceIn) -> Provenance:
    return _record(Provenance, block)


def _optional(block: ProvenanceIn | None) -> Provenance | None:
    return None if block is None else _provenance(block)


def _events(
    outcome: OutcomeIn, n: int | None, printed: str | None
) -> tuple[int | None, EventsBasis]:
    """Events as printed; else derived from the percentage, exactly or (labelled) approximately.

    Never from a Kaplan–Meier landmark rate (censoring: S(t) is not events/n), never from a
    percentage whose denominator is in doubt (``denominator_uncertain``).
    """
    if outcome.events is not None:
        return outcome.events, EventsBasis.reported
    denominator = outcome.denominator if outcome.denominator is not None else n
    derivable = (
        outcome.unit == Unit.percent
        and outcome.statistic == Statistic.point
        and outcome.measure not in MEDIANS
        and outcome.measure not in LANDMARK_RATES
        and outcome.timepoint_months is None
        and outcome.denominator_uncertain is None
        and outcome.value is not None
        and denominator is not None
        and printed is not None
    )
    if derivable and printed is not None and denominator is not None:
        derived = derive_events(printed, denominator)
        if derived is not None:
            return derived, EventsBasis.derived_exact
        nearest = approximate_events(printed, denominator)
        if nearest is not None:
            return nearest, EventsBasis.approximate
    return None, EventsBasis.none


@dataclass
class _Collected:
    """Records gathered file by file before they are frozen into :class:`Evidence`."""

    sources: list[Source] = field(default_factory=list)
    studies: list[Study] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    therapies: list[Therapy] = field(default_factory=list)
    mechanisms: list[Mechanism] = field(default_factory=list)
    risk_factors: list[RiskFactor] = field(default_factory=list)
    overlaps: list[OverlapGroup] = field(default_factory=list)

    def freeze(self) -> Evidence:
        return Evidence(
            sources=tuple(self.sources),
            studies=tuple(self.studies),
            cohorts=tuple(self.cohorts),
            outcomes=tuple(self.outcomes),
            products=tuple(self.products),
            therapies=tuple(self.therapies),
            mechanisms=tuple(self.mechanisms),
            risk_factors=tuple(self.risk_factors),
            overlaps=tuple(self.overlaps),
        )


def _outcomes(
    file: ParsedFile, path: tuple[str | int, ...], cohort_in: CohortIn, cohort: Cohort
) -> list[Outcome]:
    records: list[Outcome] = []
    for ordinal, o in enumerate(cohort_in.outcomes):
        here = (*path, "outcomes", ordinal)
        events, basis = _events(o, cohort.n, file.index.raw.get((*here, "value")))
        records.append(
            _record(
                Outcome,
                o,
                cohort_key=cohort.key,
                ordinal=ordinal,
                provenance=_provenance(o.provenance),
                file=file.name,
                line=file.index.line(here),
                events=events,
                events_basis=basis,
                discrepancy_with=o.discrepancy.other if o.discrepancy else None,
                discrepancy_note=o.discrepancy.note if o.discrepancy else None,
            )
        )
    return records


def _studies(file: ParsedFile, into: _Collected) -> None:
    source_key = file.content.source.key
    for s, study in enumerate(file.content.studies):
        into.studies.append(
            _record(
                Study,
                study,
                source_key=source_key,
                file=file.name,
                line=file.index.line(("studies", s)),
            )
        )
        for c, cohort_in in enumerate(study.cohorts):
            path = ("studies", s, "cohorts", c)
            cohort = _record(
                Cohort,
                cohort_in,
                study_key=study.key,
                file=file.name,
                line=file.index.line(path),
                products=tuple(cohort_in.products),
                n_provenance=_provenance(cohort_in.n_provenance)
                if cohort_in.n_provenance
                else None,
            )
            into.cohorts.append(cohort)
            into.outcomes.extend(_outcomes(file, path, cohort_in, cohort))


def _catalogues(file: ParsedFile, into: _Collected) -> None:
    content, source_key, name = file.content, file.content.source.key, file.name
    for i, p in enumerate(content.products):
        approvals = tuple(
            _record(Indication, a, provenance=_provenance(a.provenance)) for a in p.indications
        )
        into.products.append(
            _record(
                Product,
                p,
                source_key=source_key,
                file=name,
                line=file.index.line(("products", i)),
                indications=approvals,
                provenance=_provenance(p.provenance) if p.provenance else None,
            )
        )
    for i, t in enumerate(content.therapies):
        line = file.index.line(("therapies", i))
        into.therapies.append(_record(Therapy, t, source_key=source_key, file=name, line=line))
    for i, m in enumerate(content.mechanisms):
        line = file.index.line(("mechanisms", i))
        into.mechanisms.append(
            _record(
                Mechanism,
                m,
                provenance=_provenance(m.provenance),
                source_key=source_key,
                file=name,
                line=line,
            )
        )
    for i, g in enumerate(content.overlaps):
        line = file.index.line(("overlaps", i))
        into.overlaps.append(
            _record(
                OverlapGroup,
                g,
                cohorts=tuple(g.cohorts),
                source_key=source_key,
                file=name,
                line=line,
                provenance=_optional(g.provenance),
            )
        )
    for i, r in enumerate(content.risk_factors):
        line = file.index.line(("risk_factors", i))
        into.risk_factors.append(
            _record(
                RiskFactor,
                r,
                study_key=r.study,
                source_key=source_key,
                provenance=_provenance(r.provenance),
                file=name,
                line=line,
            )
        )


def assemble(files: Sequence[ParsedFile]) -> Evidence:
    """Records from validated files, in file order (files sorted by name)."""
    collected = _Collected()
    for file in files:
        s = file.content.source
        collected.sources.append(
            _record(Source, s, file=file.name, line=file.index.line(("source",)))
        )
        _studies(file, collected)
        _catalogues(file, collected)
    return collected.freeze()
