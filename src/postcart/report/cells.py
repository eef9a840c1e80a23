"""Report tables as cells that carry their provenance, so no number is shown without a source."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from postcart.evidence import Cohort, Evidence, Outcome, Provenance

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Ref:
    """One provenance note: where a shown number or claim was read."""

    anchor: str
    label: str
    quote: str | None = None
    locator: str | None = None
    url: str | None = None
    citation: str | None = None
    #: Why this number is disputed (a curated discrepancy with another source), if it is.
    caveat: str | None = None

    def as_text(self) -> str:
        """One line for Markdown footnotes, CSV and tooltips."""
        parts = [self.label]
        if self.locator:
            parts.append(f"({self.locator})")
        if self.quote:
            parts.append(f"“{' '.join(self.quote.split())}”")
        if self.citation:
            parts.append(f"— {' '.join(self.citation.split())}")
        if self.caveat:
            parts.append(f"† Disputed: {' '.join(self.caveat.split())}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Cell:
    """A displayed value and the anchor of its provenance (``None`` for labels and blanks)."""

    text: str = ""
    ref: str | None = None


@dataclass
class RefBook:
    """Collects provenance notes in first-use order; anchors are stable across builds."""

    refs: dict[str, Ref] = field(default_factory=dict)

    def add(self, ref: Ref) -> str:
        """Register ``ref`` (first registration wins) and return its anchor."""
        self.refs.setdefault(ref.anchor, ref)
        return ref.anchor

    def for_provenance(
        self, evidence: Evidence, key: str, provenance: Provenance, source_key: str, label: str
    ) -> str:
        """The anchor of a record's provenance, citing the source that holds the record."""
        cited = provenance.source_key or source_key
        citation = evidence.source(cited).citation if cited in _keys(evidence) else None
        locator = " ".join(x for x in (provenance.kind.value, provenance.section,
                                       provenance.locator) if x)  # fmt: skip
        return self.add(
            Ref(
                anchor=anchor_for(key),
                label=label,
                quote=provenance.quote,
                locator=locator or None,
                url=provenance.url or _source_url(evidence, cited),
                citation=citation,
            )
        )

    def for_outcome(self, evidence: Evidence, outcome: Outcome) -> str:
        """The anchor of one outcome's provenance (with the discrepancy, if one is curated)."""
        study = evidence.study_of(outcome)
        label = f"{study.name}: {outcome.measure.value}"
        anchor = self.for_provenance(
            evidence, f"o-{outcome.ref}", outcome.provenance, study.source_key, label
        )
        caveats = [outcome.discrepancy_note] if outcome.discrepancy_note else []
        caveats += [o.discrepancy_note or "" for o in evidence.contradicting(outcome)]
        if caveats and self.refs[anchor].caveat is None:
            self.refs[anchor] = replace(self.refs[anchor], caveat=" ".join(caveats))
        return anchor

    def for_cohort_n(self, evidence: Evidence, cohort: Cohort) -> str:
        """The anchor of where a cohort's n was read (its own provenance, else its source)."""
        study = evidence.study(cohort.study_key)
        if cohort.n_provenance is None:
            return self.for_source(evidence, study.source_key)
        label = f"{study.name}: n of {cohort.label}"
        return self.for_provenance(
            evidence, f"n-{cohort.key}", cohort.n_provenance, study.source_key, label
        )

    def for_source(self, evidence: Evidence, source_key: str) -> str:
        """The anchor of a whole source (for study-level cells such as the country)."""
        source = evidence.source(source_key)
        return self.add(
            Ref(
                anchor=anchor_for(f"s-{source_key}"),
                label=source.first_author or source.key,
                locator=f"curated in {source.file}",
                url=source.url,
                citation=source.citation,
            )
        )

    def ordered(self) -> list[Ref]:
        """Notes sorted by anchor, so the footnote list is independent of table order."""
        return [self.refs[key] for key in sorted(self.refs)]


def _keys(evidence: Evidence) -> set[str]:
    return {s.key for s in evidence.sources}


def _source_url(evidence: Evidence, source_key: str) -> str | None:
    try:
        return evidence.source(source_key).url
    except KeyError:
        return None


def anchor_for(key: str) -> str:
    """An HTML id made from a record key (``nastoupil_axicel#3`` → ``ref-nastoupil_axicel-3``)."""
    return "ref-" + _UNSAFE.sub("-", key).strip("-")


@dataclass(frozen=True)
class ReportTable:
    """A titled table of cells; ``method`` says how its numbers were made."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    method: str = ""
    notes: tuple[str, ...] = ()

    def to_frame(self, refs: RefBook | None = None) -> pd.DataFrame:
        """Plain values; with ``refs`` each column gets a ``<column> source`` companion."""
        data: dict[str, list[str]] = {}
        for i, column in enumerate(self.columns):
            data[column] = [row[i].text for row in self.rows]
            if refs is not None and any(row[i].ref for row in self.rows):
                data[f"{column} source"] = [_note(refs, row[i].ref) for row in self.rows]
        return pd.DataFrame(data, columns=list(data))


def _note(refs: RefBook, anchor: str | None) -> str:
    return "" if anchor is None else refs.refs[anchor].as_text()


def fmt_number(value: float | None, digits: int = 1) -> str:
    """A number rounded to ``digits`` decimals, trailing decimal zeros dropped; blank if unknown.

    Only zeros *after* a decimal point are dropped: 60 stays "60" (stripping every trailing
    zero once printed a cohort of 60 as 6). Not-a-number and infinities are blank, never "nan",
    and a value that rounds to zero never prints as "-0".
    """
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_fixed(value: float | None, digits: int = 1) -> str:
    """A computed number at a fixed precision ("72.0"), blank when unknown; never "-0.0".

    Reported numbers keep the precision their source printed (:func:`fmt_number`); numbers
    this project computes (pooled estimates, intervals, weights) are all shown alike.
    """
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:.{max(digits, 0)}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def fmt_p(value: float | None) -> str:
    """A p-value: three decimals, or "< 0.001" (a tiny p must never print as 0)."""
    if value is None or not math.isfinite(value):
        return ""
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3f}"


def fmt_percent(value: float | None, digits: int = 1) -> str:
    """A percentage with its sign, blank when unknown."""
    text = fmt_number(value, digits)
    return f"{text}%" if text else ""
