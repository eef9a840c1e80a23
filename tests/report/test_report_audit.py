"""The audit: read what the reader reads and prove every printed number right.

Every value checked here is parsed from the rendered ``index.html`` and ``report.md``, never
taken from the ``Report`` model's tables. It is compared with an independent reference: the
curated evidence records (``postcart.evidence``), ``results.json`` (the stored numbers), a
recomputation by hand in this file (medians, events / n, per-study ``yi``/``vi``), or R
metafor itself (one batched request to the live ``Rscript`` session of ``tests/oracle``).

"Rounds from" means: the printed text lies within half a unit of its last digit of the
reference, in exact decimal arithmetic (a tie may go either way; nothing else may), never reads
"-0", and has the form its column promises: a *reported* number (a curated value, n, events)
in its shortest form, at most one decimal and no trailing decimal zero (60 is "60", 2.50 is
"2.5"); a *computed* number (pooled estimates, intervals, weights, heterogeneity) at a fixed
precision ("72.0"); p-values at three decimals or "< 0.001".

The audit runs on two builds. ``curated`` is the evidence base as it stands. ``invented``
adds two made-up real-world studies (written below, clearly labelled, never clinical data)
with 1-year OS and PFS rates, because without them the curated base may pool no landmark
rate at all, and the landmark back-transforms would then go unaudited.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml

from postcart.evidence import Cohort, Evidence, Outcome, Provenance, load
from postcart.evidence.loader import DATA_DIR
from postcart.evidence.vocab import LANDMARK_RATES, MEDIANS, EventsBasis, Measure, Statistic
from postcart.report.build import Report, build_report

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` run without `python -m`: make `tests.oracle` importable
    sys.path.insert(0, str(ROOT))

from tests.oracle.r_session import RSession  # noqa: E402

#: A printed number (the report never uses exponent notation or thousands separators).
NUM = r"-?\d+(?:\.\d+)?"
#: Stored numbers in results.json are rounded to 6 decimals (10 significant digits for fits).
STORED = 1e-6
#: metafor's rma.glmm (lme4: penalised IRLS stopping at a relative change of 1e-7, a
#: finite-difference Hessian of step 1e-4) and our adaptive quadrature maximise the same
#: likelihood with different optimisers. tests/oracle/README.md measures them within 5.2e-5
#: (relative, logit scale) of metafor's own spread, which reaches 2.4e-3 in se on flat
#: likelihoods; back on the proportion scale that stays below 1e-3 absolute, i.e. 0.1
#: percentage points on top of the printed precision.
GLMM_PERCENT = 0.1
#: Two-step and landmark fits are closed-form up to REML's iteration tolerance (the oracle
#: contract is 1e-6 relative): 1e-4 percentage points.
TWO_STEP_PERCENT = 1e-4
#: The 0.975 normal quantile, as the landmark effect sizes use it.
Z975 = 1.959964
#: How each denominator basis is printed.
BASIS_LABEL = {
    "intention_to_treat": "ITT",
    "treated": "infused/treated",
    "evaluable": "evaluable",
    "not_stated": "basis not stated",
}
#: Event counts may be shown next to a percentage only when printed or exactly derived.
SHOWN_EVENTS = frozenset({EventsBasis.reported, EventsBasis.derived_exact})
#: Table 3's outcome columns: (measure, landmark months).
TABLE3_COLUMNS: dict[str, tuple[Measure, float | None]] = {
    "ORR": (Measure.orr, None),
    "CR": (Measure.cr, None),
    "1-y OS": (Measure.os_rate, 12.0),
    "1-y PFS": (Measure.pfs_rate, 12.0),
    "CRS any": (Measure.crs_any, None),
    "CRS ≥3": (Measure.crs_g3plus, None),
    "ICANS any": (Measure.icans_any, None),
    "ICANS ≥3": (Measure.icans_g3plus, None),
}
TABLE2_COLUMNS = {k: TABLE3_COLUMNS[k] for k in ("ORR", "CR", "1-y OS", "1-y PFS")}
TABLE2_PRODUCTS: dict[str, str | None] = {
    "All products": None,
    "Axi-cel": "axi-cel",
    "Tisa-cel": "tisa-cel",
}
CART_ROLES = frozenset({"cart_all_comers", "cart_product_arm", "cart_selected"})
ALL_COMER_ROLES = frozenset({"cart_all_comers", "cart_product_arm"})
SALVAGE_ROLES = frozenset({"salvage_after_cart", "relapse_after_cart"})
REAL_WORLD = frozenset({"real_world", "registry"})
LBCL = frozenset({"LBCL", "DLBCL", "PMBCL", "HGBCL", "aggressive_BCL"})
ENFORCED = frozenset({"certain", "likely"})
TOXICITY = (Measure.crs_any, Measure.crs_g3plus, Measure.icans_g3plus, Measure.ae_g3plus)


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Shown:
    """One cell as printed in index.html: its text and, when linked, the note it links to."""

    text: str
    anchor: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Table:
    """One ``<table data-table=...>`` of index.html."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Shown, ...], ...]

    def records(self) -> list[dict[str, Shown]]:
        """Rows keyed by column header."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class MdTable:
    """One pipe table of report.md: cell text without its footnote marker, and the marker."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[tuple[str, int | None], ...], ...]


@dataclass(frozen=True)
class Pages:
    """Everything the reader sees in the two documents, parsed."""

    tables: dict[str, Table]
    notes: dict[str, str]
    note_order: tuple[str, ...]
    md_tables: dict[str, MdTable]
    footnotes: dict[int, str]


def _nodes(node: lxml.html.HtmlElement, path: str) -> list[lxml.html.HtmlElement]:
    found = node.xpath(path)
    assert isinstance(found, list)
    return [n for n in found if isinstance(n, lxml.html.HtmlElement)]


def _shown(td: lxml.html.HtmlElement) -> Shown:
    links = _nodes(td, "./a")
    if not links:
        return Shown(td.text_content())
    assert len(links) == 1
    href = links[0].get("href") or ""
    assert href.startswith("#ref-"), href
    return Shown(td.text_content(), href[1:], links[0].get("title"))


def parse_html(path: Path) -> tuple[dict[str, Table], dict[str, str], tuple[str, ...]]:
    """The tables and the provenance notes of index.html."""
    root = lxml.html.fromstring(path.read_bytes())
    tables: dict[str, Table] = {}
    for node in _nodes(root, "//table[@data-table]"):
        name = node.get("data-table") or ""
        section = _nodes(node, "ancestor::section[1]")[0]
        title = _nodes(section, "./h2")[0].text_content()
        columns = tuple(th.text_content() for th in _nodes(node, "./thead/tr/th"))
        rows = tuple(
            tuple(_shown(td) for td in _nodes(tr, "./td")) for tr in _nodes(node, "./tbody/tr")
        )
        assert name not in tables, f"two tables named {name}"
        tables[name] = Table(name, title, columns, rows)
    items = _nodes(root, "//section[@id='provenance']//li[@id]")
    notes = {li.get("id") or "": li.text_content() for li in items}
    return tables, notes, tuple(li.get("id") or "" for li in items)


def _md_cells(line: str) -> tuple[tuple[str, int | None], ...]:
    parts = re.split(r"(?<!\\)\|", line)
    assert parts[0] == "", line
    assert parts[-1] == "", line
    cells: list[tuple[str, int | None]] = []
    for part in parts[1:-1]:
        assert part.startswith(" "), line
        assert part.endswith(" "), line
        text = part[1:-1].replace("\\|", "|")
        marker = re.fullmatch(r"(.*?)\[\^(\d+)\]", text, re.DOTALL)
        cells.append((marker[1], int(marker[2])) if marker else (text, None))
    return tuple(cells)


def parse_markdown(path: Path) -> tuple[dict[str, MdTable], dict[int, str]]:
    """Pipe tables by their ``## title`` and the footnotes of report.md."""
    lines = path.read_text(encoding="utf-8").split("\n")
    tables: dict[str, MdTable] = {}
    for i, line in enumerate(lines):
        if not line.startswith("## "):
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith(("## ", "|")):
            j += 1
        if j >= len(lines) or not lines[j].startswith("|"):
            continue
        columns = tuple(text for text, _ in _md_cells(lines[j]))
        assert re.fullmatch(r"\|(---\|)+", lines[j + 1]), lines[j + 1]
        rows = []
        k = j + 2
        while k < len(lines) and lines[k].startswith("|"):
            rows.append(_md_cells(lines[k]))
            k += 1
        tables[line[3:]] = MdTable(line[3:], columns, tuple(rows))
    footnotes = {}
    for line in lines:
        note = re.fullmatch(r"\[\^(\d+)\]: (.*)", line)
        if note:
            footnotes[int(note[1])] = note[2]
    return tables, footnotes


# --------------------------------------------------------------------------- builds

#: Two invented real-world studies (NOT clinical data): 1-year OS and PFS with reported CIs,
#: and one PFS with only its cohort size, so the landmark fits have studies of both kinds.
INVENTED: dict[str, dict[str, Any]] = {
    "alpha": {"n": 140, "os_rate": (61.5, 52.8, 69.4), "pfs_rate": (38, 29.9, 46.1)},
    "beta": {"n": 88, "os_rate": (44, 33.1, 54.2), "pfs_rate": (27.5, None, None)},
}


def _invented_yaml(name: str, spec: dict[str, Any]) -> str:
    """One curated-format file for an invented study (validated by the loader like any other)."""
    outcomes = []
    for measure in ("os_rate", "pfs_rate"):
        value, low, high = spec[measure]
        outcome: dict[str, Any] = {"measure": measure, "value": value, "unit": "percent",
                                   "timepoint_months": 12}  # fmt: skip
        if low is not None:
            outcome |= {"ci_low": low, "ci_high": high, "ci_level": 95}
        quote = f"1-year {measure} {value}% (invented)"
        outcome["provenance"] = {"kind": "primary", "locator": "invented", "quote": quote}
        outcomes.append(outcome)
    cohort = {
        "key": f"invented-{name}-infused",
        "label": f"Invented infused cohort {name}",
        "intervention": "CD19 CAR T (invented)",
        "role": "cart_all_comers",
        "denominator_basis": "treated",
        "n": spec["n"],
        "n_provenance": {"kind": "primary", "locator": "invented", "quote": f"{spec['n']} infused"},
        "outcomes": outcomes,
    }
    document = {
        "source": {
            "key": f"invented-{name}",
            "citation": f"Invented real-world cohort {name} (report audit; not clinical data)",
            "first_author": "Invented",
            "year": 2024,
        },
        "studies": [
            {
                "key": f"invented-{name}",
                "name": f"Invented real-world study {name}",
                "design": "real_world",
                "region": "Nowhere (invented)",
                "disease": "LBCL",
                "cohorts": [cohort],
            }
        ],
    }
    header = "# Invented for tests/report/test_report_audit.py: NOT clinical data.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class Audit:
    """One build: its evidence, its two documents parsed, and its results.json."""

    name: str
    evidence: Evidence
    pages: Pages
    results: dict[str, Any]

    def table(self, name: str) -> list[dict[str, Shown]]:
        return self.pages.tables[name].records()

    def note(self, shown: Shown, where: str) -> str:
        """The provenance note a linked cell points to (fails if the cell is not linked)."""
        assert shown.anchor is not None, f"{where}: {shown.text!r} is not linked to a source"
        assert shown.anchor in self.pages.notes, f"{where}: dangling link #{shown.anchor}"
        return self.pages.notes[shown.anchor]

    def analyses(self) -> dict[str, dict[str, Any]]:
        """results.json analyses by their printed title."""
        by_title = {a["title"]: a for a in self.results["analyses"].values()}
        assert len(by_title) == len(self.results["analyses"]), "two analyses share a title"
        return by_title


def _read(name: str, out: Path, evidence: Evidence) -> Audit:
    tables, notes, order = parse_html(out / "index.html")
    md_tables, footnotes = parse_markdown(out / "report.md")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return Audit(name, evidence, Pages(tables, notes, order, md_tables, footnotes), results)


@pytest.fixture(scope="module", params=["curated", "invented"])
def audit(
    request: pytest.FixtureRequest,
    built: tuple[Path, Report],
    evidence: Evidence,
    tmp_path_factory: pytest.TempPathFactory,
) -> Audit:
    """The curated build (shared session fixture), or one with the invented studies added."""
    if request.param == "curated":
        return _read("curated", built[0], evidence)
    folder = tmp_path_factory.mktemp("invented_evidence")
    files = []
    for name, spec in INVENTED.items():
        path = folder / f"invented_{name}.yaml"
        path.write_text(_invented_yaml(name, spec), encoding="utf-8")
        files.append(path)
    extended = load([DATA_DIR, *files])
    out = tmp_path_factory.mktemp("invented_report")
    build_report(out, evidence=extended)
    return _read("invented", out, extended)


@pytest.fixture(scope="module")
def metafor(r_metafor: str) -> Iterator[RSession]:
    """One live R session with metafor (tests/oracle/r/server.R) for this module."""
    session = RSession(r_metafor)
    try:
        yield session
    finally:
        session.close()


# --------------------------------------------------------------------------- checks


def printed_number(text: str, digits: int, where: str, form: str = "short") -> Decimal:
    """Parse a printed number, holding it to its form (see the module docstring)."""
    assert re.fullmatch(NUM, text), f"{where}: {text!r} is not a plain number"
    decimals = text.split(".")[1] if "." in text else ""
    assert len(decimals) <= digits, f"{where}: {text!r} has more than {digits} decimals"
    if form == "short":
        assert not decimals.endswith("0"), f"{where}: trailing decimal zero in {text!r}"
    elif form == "fixed":
        assert len(decimals) == digits, f"{where}: {text!r} is not at {digits} decimals"
    assert not (text.startswith("-") and Decimal(text) == 0), f"{where}: {text!r} is -0"
    return Decimal(text)


def assert_rounds(
    text: str,
    value: float | Decimal,
    digits: int = 1,
    slack: float = 0.0,
    where: str = "",
    form: str = "short",
) -> None:
    """``text`` is ``value`` rounded to ``digits`` decimals (± ``slack`` for the reference)."""
    printed = printed_number(text, digits, where, form)
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    bound = Decimal(5).scaleb(-(digits + 1)) + Decimal(repr(slack))
    assert abs(printed - exact) <= bound, (
        f"{where}: printed {text}, expected {value} at {digits} decimals"
    )


def computed(
    text: str, value: float | Decimal, where: str, digits: int = 1, slack: float = STORED
) -> None:
    """A number this project computed, printed at a fixed precision."""
    assert_rounds(text, value, digits, slack, where, form="fixed")


def assert_p(text: str, value: float, where: str) -> None:
    """A p-value: three decimals, or "< 0.001" (a tiny p never prints as 0)."""
    if text == "< 0.001":
        assert value < 0.001, f"{where}: printed < 0.001, p = {value}"
    else:
        computed(text, value, f"{where} p", digits=3)


def _ws(text: str) -> str:
    return " ".join(text.split())


def assert_note_cites(
    audit: Audit, note: str, provenance: Provenance | None, source_key: str, where: str
) -> None:
    """The note quotes the record (or names its locator) and cites the source that holds it."""
    text = _ws(note)
    if provenance is not None and provenance.quote:
        assert _ws(provenance.quote) in text, f"{where}: note lacks the quote {provenance.quote!r}"
    elif provenance is not None and provenance.locator:
        assert _ws(provenance.locator) in text, f"{where}: note lacks {provenance.locator!r}"
    cited = (provenance.source_key if provenance else None) or source_key
    if cited in {s.key for s in audit.evidence.sources}:
        citation = audit.evidence.source(cited).citation
        assert _ws(citation) in text, f"{where}: note does not cite {cited}"


def cohort_named(evidence: Evidence, study: str, label: str, where: str) -> Cohort:
    hits = [
        c
        for c in evidence.cohorts
        if c.label == label and evidence.study(c.study_key).name == study
    ]
    assert len(hits) == 1, f"{where}: {len(hits)} cohorts are '{study}' / '{label}'"
    return hits[0]


def first_point(
    evidence: Evidence, cohort: Cohort, measure: Measure, months: float | None
) -> Outcome | None:
    """The cohort's first single-cohort value of ``measure`` at ``months``."""
    for o in evidence.outcomes:
        if (o.cohort_key, o.measure, o.timepoint_months) == (cohort.key, measure, months) and (
            o.value is not None and o.statistic == Statistic.point
        ):
            return o
    return None


def is_disputed(evidence: Evidence, outcome: Outcome) -> bool:
    """A curated discrepancy links the outcome to another figure (it points, or is pointed at)."""
    pointed_at = {o.discrepancy_with for o in evidence.outcomes if o.discrepancy_with}
    return outcome.discrepancy_with is not None or outcome.key in pointed_at


def check_outcome_cell(audit: Audit, shown: Shown, outcome: Outcome | None, where: str) -> int:
    """``X%`` or ``X% (E)`` against the curated outcome; returns how many numbers it checked."""
    if outcome is None:
        assert shown.text == "", f"{where}: {shown.text!r} printed, nothing curated"
        return 0
    assert outcome.value is not None
    cell = re.fullmatch(rf"({NUM})%(?: \((\d+)(?:/(\d+)(?: ([a-z]+))?)?\))?( †)?", shown.text)
    assert cell, f"{where}: {shown.text!r} is not 'X%', 'X% (E)' or 'X% (E/D unit)'"
    assert_rounds(cell[1], outcome.value, 1, where=f"{where} ({outcome.ref})")
    assert bool(cell[5]) == is_disputed(audit.evidence, outcome), f"{where}: † mark"
    if cell[3] is not None:  # a count out of another denominator than the cohort's n
        assert int(cell[3]) == outcome.denominator, f"{where}: denominator {cell[3]}"
        assert (cell[4] or "patients") == outcome.analysis_unit, f"{where}: unit {cell[4]}"
    show = (
        outcome.events is not None
        and outcome.events_basis in SHOWN_EVENTS
        and outcome.measure not in LANDMARK_RATES
        and outcome.timepoint_months is None
    )
    if show:
        assert cell[2] == str(outcome.events), f"{where}: events {cell[2]} ≠ {outcome.events}"
    else:
        assert cell[2] is None, (
            f"{where}: events ({cell[2]}) shown, basis {outcome.events_basis.value}, "
            f"measure {outcome.measure.value}"
        )
    study = audit.evidence.study_of(outcome)
    note = audit.note(shown, where)
    assert _ws(note).startswith(f"{study.name}: {outcome.measure.value}"), f"{where}: {note!r}"
    assert_note_cites(audit, note, outcome.provenance, study.source_key, where)
    return 2 if cell[2] else 1


def check_n_cell(audit: Audit, shown: Shown, cohort: Cohort, where: str) -> int:
    """n printed as the exact integer (60 is "60", never "6"), linked to where it was read."""
    expected = "" if cohort.n is None else str(cohort.n)
    assert shown.text == expected, (
        f"{where}: n printed {shown.text!r}, cohort {cohort.key} has {expected!r}"
    )
    if cohort.n is None:
        return 0
    note = audit.note(shown, f"{where} n")
    source = audit.evidence.study(cohort.study_key).source_key
    assert_note_cites(audit, note, cohort.n_provenance, source, f"{where} n")
    return 1


def lineage(evidence: Evidence, key: str) -> set[str]:
    """A cohort and every cohort it is a subgroup of."""
    keys = {key}
    cohort = evidence.cohort(key)
    while cohort.subgroup_of is not None:
        cohort = evidence.cohort(cohort.subgroup_of)
        keys.add(cohort.key)
    return keys


def overlap_clashes(evidence: Evidence, cohort_keys: list[str]) -> list[str]:
    """Enforced overlap groups with members from more than one study among ``cohort_keys``."""
    clashes = []
    for group in evidence.overlaps:
        if group.certainty.value not in ENFORCED:
            continue
        studies = {
            evidence.cohort(k).study_key
            for k in cohort_keys
            if lineage(evidence, k) & set(group.cohorts)
        }
        if len(studies) > 1:
            clashes.append(f"{group.key}: {sorted(studies)}")
    return clashes


def used_rows(audit: Audit, title: str) -> list[dict[str, Shown]]:
    return [
        r
        for r in audit.table("analysis_studies")
        if r["Analysis"].text == title and r["Status"].text == "used"
    ]


def ci_pair(text: str, where: str) -> tuple[str, str]:
    """``L–H%`` → the two printed ends."""
    ci = re.fullmatch(rf"({NUM})–({NUM})%", text)
    assert ci, f"{where}: {text!r} is not 'L–H%'"
    return ci[1], ci[2]


# --------------------------------------------------------------------------- tests


def test_html_and_markdown_tables_agree_cell_by_cell(audit: Audit) -> None:
    pages = audit.pages
    assert set(pages.md_tables) == {t.title for t in pages.tables.values()}
    cells = 0
    for table in pages.tables.values():
        md = pages.md_tables[table.title]
        assert md.columns == table.columns, table.name
        assert len(md.rows) == len(table.rows), table.name
        for i, (row, md_row) in enumerate(zip(table.rows, md.rows, strict=True)):
            assert len(md_row) == len(row), f"{table.name} row {i + 1}"
            for column, shown, (md_text, number) in zip(table.columns, row, md_row, strict=True):
                where = f"{table.name} row {i + 1} {column}"
                assert md_text == shown.text.replace("\n", " "), where
                assert (number is None) == (shown.anchor is None), where
                if shown.anchor is not None and number is not None:
                    # Same note in both documents: footnote N is the N-th provenance note.
                    assert pages.note_order[number - 1] == shown.anchor, where
                    assert pages.footnotes[number] == shown.title, where
                cells += 1
    assert cells > 1000


def test_every_link_resolves_to_a_provenance_note(audit: Audit) -> None:
    pages = audit.pages
    assert len(pages.note_order) == len(set(pages.note_order)) == len(pages.footnotes)
    for table in pages.tables.values():
        for i, row in enumerate(table.rows):
            for shown in row:
                if shown.anchor is not None:
                    where = f"{table.name} row {i + 1}"
                    assert shown.anchor in pages.notes, f"{where}: dangling #{shown.anchor}"
                    assert shown.text, f"{where}: a link without text"


def test_table3_shows_only_cart_treated_cohorts(audit: Audit) -> None:
    for i, row in enumerate(audit.table("table3")):
        where = f"table3 row {i + 1}"
        cohort = cohort_named(audit.evidence, row["Study"].text, row["Cohort"].text, where)
        study = audit.evidence.study(cohort.study_key)
        assert cohort.role.value in CART_ROLES, f"{where}: role {cohort.role.value}"
        assert study.design.value in REAL_WORLD, f"{where}: design {study.design.value}"
        assert (cohort.disease or study.disease).value in LBCL, where
        role = {"cart_all_comers": "all-comers", "cart_product_arm": "product arm"}.get(
            cohort.role.value, f"selected: {_ws(cohort.selection or '')}"
        )
        assert row["Population"].text == role, where


def test_table3_numbers_are_the_curated_ones(audit: Audit) -> None:
    evidence, checked = audit.evidence, 0
    seen: set[str] = set()
    for i, row in enumerate(audit.table("table3")):
        where = f"table3 row {i + 1} ({row['Study'].text} / {row['Cohort'].text})"
        cohort = cohort_named(evidence, row["Study"].text, row["Cohort"].text, where)
        assert cohort.key not in seen, f"{where}: cohort printed twice"
        seen.add(cohort.key)
        study = evidence.study(cohort.study_key)
        assert_note_cites(audit, audit.note(row["Study"], where), None, study.source_key, where)
        assert row["Denominator"].text == BASIS_LABEL[cohort.denominator_basis.value], where
        assert row["Product"].text == (", ".join(cohort.products) or "not stated"), where
        checked += check_n_cell(audit, row["n"], cohort, where)
        for column, (measure, months) in TABLE3_COLUMNS.items():
            outcome = first_point(evidence, cohort, measure, months)
            checked += check_outcome_cell(audit, row[column], outcome, f"{where} {column}")
    assert checked > 150


def _survival_outcome(evidence: Evidence, cohort: Cohort, rate: Measure) -> Outcome | None:
    median = {Measure.os_rate: Measure.median_os, Measure.pfs_rate: Measure.median_pfs}[rate]
    for measure in (rate, median):
        for o in evidence.outcomes_for(cohort.key, measure):
            if o.value is not None and (o.timepoint_months is not None or measure in MEDIANS):
                return o
    return None


def _check_survival_cell(audit: Audit, shown: Shown, outcome: Outcome | None, where: str) -> int:
    if outcome is None:
        assert shown.text == "", where
        return 0
    assert outcome.value is not None
    if outcome.measure in MEDIANS:
        cell = re.fullmatch(rf"median ({NUM}) (\w+)( †)?", shown.text)
        assert cell, f"{where}: {shown.text!r}"
        assert bool(cell[3]) == is_disputed(audit.evidence, outcome), f"{where}: † mark"
        assert cell[2] == outcome.unit.value, where
        numbers = [(cell[1], outcome.value)]
    else:
        cell = re.fullmatch(rf"({NUM})% at ({NUM}) mo( †)?", shown.text)
        assert cell, f"{where}: {shown.text!r} (a KM rate never shows events)"
        assert bool(cell[3]) == is_disputed(audit.evidence, outcome), f"{where}: † mark"
        assert outcome.timepoint_months is not None
        numbers = [(cell[1], outcome.value), (cell[2], outcome.timepoint_months)]
    for text, value in numbers:
        assert_rounds(text, value, 1, where=f"{where} ({outcome.ref})")
    study = audit.evidence.study_of(outcome)
    assert_note_cites(audit, audit.note(shown, where), outcome.provenance, study.source_key, where)
    return len(numbers)


def _check_toxicity_cell(audit: Audit, shown: Shown, cohort: Cohort, where: str) -> int:
    expected = [
        o
        for m in TOXICITY
        for o in audit.evidence.outcomes_for(cohort.key, m)
        if o.value is not None
    ]
    if not expected:
        assert shown.text == "", where
        return 0
    parts = shown.text.split("; ")
    assert len(parts) == len(expected), f"{where}: {shown.text!r}"
    for part, outcome in zip(parts, expected, strict=True):
        cell = re.fullmatch(rf"([a-z0-9 ]+) ({NUM})%( †)?", part)
        assert cell, f"{where}: {part!r}"
        assert bool(cell[3]) == is_disputed(audit.evidence, outcome), f"{where}: † mark"
        assert cell[1].replace(" ", "_") == outcome.measure.value, where
        assert outcome.value is not None
        assert_rounds(cell[2], outcome.value, 1, where=f"{where} ({outcome.ref})")
    first = expected[0]
    study = audit.evidence.study_of(first)
    assert_note_cites(audit, audit.note(shown, where), first.provenance, study.source_key, where)
    return len(parts)


def test_table4_numbers_are_the_curated_ones(audit: Audit) -> None:
    evidence, checked = audit.evidence, 0
    for i, row in enumerate(audit.table("table4")):
        where = f"table4 row {i + 1} ({row['Study'].text} / {row['Cohort'].text})"
        cohort = cohort_named(evidence, row["Study"].text, row["Cohort"].text, where)
        assert cohort.role.value in SALVAGE_ROLES, f"{where}: role {cohort.role.value}"
        assert cohort.therapy is not None, where
        assert row["Therapy"].text == evidence.therapy(cohort.therapy).name, where
        assert row["Denominator"].text == BASIS_LABEL[cohort.denominator_basis.value], where
        checked += check_n_cell(audit, row["n"], cohort, where)
        for column, measure in (("ORR", Measure.orr), ("CR", Measure.cr)):
            outcome = first_point(evidence, cohort, measure, None)
            checked += check_outcome_cell(audit, row[column], outcome, f"{where} {column}")
        for column, rate in (("OS", Measure.os_rate), ("PFS", Measure.pfs_rate)):
            outcome = _survival_outcome(evidence, cohort, rate)
            checked += _check_survival_cell(audit, row[column], outcome, f"{where} {column}")
        checked += _check_toxicity_cell(audit, row["Toxicity"], cohort, f"{where} Toxicity")
        small = re.search(r"small n \((\d+)\)", row["Caveat"].text)
        if small:
            assert small[1] == str(cohort.n), f"{where}: caveat {small[0]!r}, n = {cohort.n}"
    assert checked > 100


def _table2_studies(audit: Audit, shown: Shown, where: str) -> list[tuple[str, str, str]]:
    """(study name, outcome ref, printed value) as the linked note lists them."""
    note = audit.note(shown, where)
    listed = re.search(r"“Studies: (.*?)”", note, re.DOTALL)
    assert listed, f"{where}: note lists no studies: {note[:200]!r}"
    items = re.findall(rf"(?:^|; )(.+?) \[([^\]\s]+)\] ({NUM})%(?=; |$)", listed[1])
    rebuilt = "; ".join(f"{name} [{ref}] {value}%" for name, ref, value in items)
    assert rebuilt == listed[1], f"{where}: could not read every study of {listed[1]!r}"
    return items


def _table2_cells(audit: Audit) -> Iterator[tuple[str, str, str | None, Shown]]:
    for i, row in enumerate(audit.table("table2")):
        if row["Basis"].text != "recomputed from this base":
            continue
        product = TABLE2_PRODUCTS[row["Products"].text]
        for column in TABLE2_COLUMNS:
            yield (
                f"table2 row {i + 1} {row['Products'].text} {column}",
                column,
                product,
                row[column],
            )


def test_table2_recomputed_cells_are_the_median_and_range_of_their_studies(audit: Audit) -> None:
    evidence, checked = audit.evidence, 0
    for where, column, product, shown in _table2_cells(audit):
        if shown.text == "":
            assert shown.anchor is None, where
            continue
        cell = re.fullmatch(rf"({NUM})% (?:\(k = 1\)|\(({NUM})–({NUM})\), k = (\d+))", shown.text)
        assert cell, f"{where}: {shown.text!r}"
        values = []
        measure, months = TABLE2_COLUMNS[column]
        for name, ref, printed in _table2_studies(audit, shown, where):
            outcome = evidence.outcome(ref)
            cohort = evidence.cohort(outcome.cohort_key)
            study = evidence.study(cohort.study_key)
            assert study.name == name, f"{where}: {ref} is from {study.name}, not {name}"
            assert (outcome.measure, outcome.timepoint_months) == (measure, months), where
            assert outcome.statistic == Statistic.point, where
            assert outcome.value is not None, where
            assert cohort.role.value in ALL_COMER_ROLES, f"{where}: {ref} role {cohort.role}"
            assert study.design.value in REAL_WORLD, where
            assert cohort.denominator_basis.value in ("treated", "not_stated"), where
            if product is not None:
                assert cohort.products == (product,), f"{where}: {ref} is {cohort.products}"
            assert_rounds(printed, outcome.value, 1, where=f"{where} note {ref}")
            values.append(Decimal(repr(outcome.value)))
        k = len(values)
        assert k >= 1, where
        assert_rounds(cell[1], statistics.median(values), 1, where=f"{where} median")
        if k == 1:
            assert cell[2] is None, f"{where}: k = 1 printed as a range"
        else:
            assert cell[4] == str(k), f"{where}: k printed {cell[4]}, note lists {k}"
            assert_rounds(cell[2], min(values), 1, where=f"{where} min")
            assert_rounds(cell[3], max(values), 1, where=f"{where} max")
        checked += 4 + k
    assert checked > 20


def test_table2_cells_take_one_value_per_study_and_overlap_group(audit: Audit) -> None:
    evidence = audit.evidence
    for where, _, _, shown in _table2_cells(audit):
        if not shown.text:
            continue
        refs = [ref for _, ref, _ in _table2_studies(audit, shown, where)]
        cohorts = [evidence.outcome(ref).cohort_key for ref in refs]
        studies = [evidence.cohort(k).study_key for k in cohorts]
        assert len(studies) == len(set(studies)), f"{where}: a study counted twice: {studies}"
        assert not overlap_clashes(evidence, cohorts), (
            f"{where}: {overlap_clashes(evidence, cohorts)}"
        )


def test_table2_as_reported_cells_quote_the_review(audit: Audit) -> None:
    aggregates = (Statistic.median_across_studies, Statistic.range_across_studies)
    for i, row in enumerate(audit.table("table2")):
        if not row["Basis"].text.startswith("as reported"):
            continue
        for column, (measure, _) in TABLE2_COLUMNS.items():
            shown, where = row[column], f"table2 row {i + 1} {column}"
            if not shown.text:
                continue
            note = _ws(audit.note(shown, where))
            quoted = [
                o
                for o in audit.evidence.outcomes
                if o.measure == measure
                and o.statistic in aggregates
                and o.provenance.quote
                and _ws(o.provenance.quote) in note
            ]
            assert quoted, f"{where}: the note quotes no curated review figure"
            o = quoted[0]
            median = re.fullmatch(rf"({NUM})% \(({NUM})–({NUM})\), (\d+) studies", shown.text)
            spread = re.fullmatch(rf"({NUM})–({NUM})%, (\d+) studies", shown.text)
            if median:
                figures = (o.value, o.range_low, o.range_high)
                for text, figure in zip(median.groups()[:3], figures, strict=True):
                    assert figure is not None, where
                    assert_rounds(text, figure, 1, where=where)
                assert median[4] == str(o.n_studies), where
            else:
                assert spread, f"{where}: {shown.text!r}"
                assert o.range_low is not None, where
                assert o.range_high is not None, where
                assert_rounds(spread[1], o.range_low, 1, where=where)
                assert_rounds(spread[2], o.range_high, 1, where=where)
                assert spread[3] == str(o.n_studies), where


def _pooled_rows(audit: Audit) -> Iterator[tuple[str, dict[str, Shown], dict[str, Any]]]:
    analyses = audit.analyses()
    for table in ("pooled_cart", "pooled_salvage"):
        for i, row in enumerate(audit.table(table)):
            title = row["Outcome"].text
            assert title in analyses, f"{table} row {i + 1}: no analysis titled {title!r}"
            yield f"{table} row {i + 1} ({title})", row, analyses[title]


def _check_sensitivity(text: str, a: dict[str, Any], where: str) -> int:
    checked = 0
    sens = a["sensitivity_percent"]
    if sens is None:
        assert text == "" or text.startswith(("approximate events", "overlap choice")), where
    else:
        head = re.match(
            rf"{re.escape(a['sensitivity_label'])}: ({NUM})% \(({NUM})–({NUM})%\)", text
        )
        assert head, f"{where}: sensitivity {text[:120]!r}"
        for printed, stored in zip(head.groups(), sens, strict=True):
            computed(printed, stored, f"{where} sensitivity")
        checked += 3
    bounds = re.search(rf"approximate events at their rounding bounds: ({NUM})% to ({NUM})%", text)
    if a["rounding_percent"] is None:
        assert bounds is None, where
    else:
        assert bounds, f"{where}: rounding bounds not printed"
        for printed, stored in zip(bounds.groups(), a["rounding_percent"], strict=True):
            computed(printed, stored, f"{where} rounding bounds")
        checked += 2
    assert text.count("overlap choice, ") == len(a["overlap_swaps"]), where
    for swap in a["overlap_swaps"]:
        found = re.search(rf"overlap choice, {re.escape(swap['swapped_in'])}: ({NUM})%", text)
        assert found, f"{where}: swap {swap['swapped_in']!r} not printed"
        computed(found[1], swap["percent"], f"{where} overlap swap")
        checked += 1
    return checked


def test_pooled_tables_print_results_json(audit: Audit) -> None:
    titles, checked = [], 0
    for where, row, a in _pooled_rows(audit):
        titles.append(a["title"])
        family = "pooled_cart" if a["name"].startswith("rw_") else "pooled_salvage"
        assert where.startswith(family), f"{where}: {a['name']} printed in the wrong table"
        assert row["Population"].text == a["population"], where
        used = used_rows(audit, a["title"])
        assert row["k"].text == str(a["k"]) == str(len(used)), f"{where}: k"
        if a["pooled_percent"] is None:
            assert row["Pooled"].text == "not pooled", where
            assert all(row[c].text == "" for c in ("95% CI", "95% PI", "Heterogeneity")), where
            if a["k"] == 1:
                study = a["studies"][0]
                single = re.match(rf"{re.escape(study['label'])}: ({NUM})% \(n = (\d+)\) — ",
                                  row["Notes"].text)  # fmt: skip
                assert single, f"{where}: notes {row['Notes'].text[:120]!r}"
                # The value as its source printed it (not events/n, which for approximate
                # events claims a precision the source never gave), and the cohort's n.
                shown = study["value"] if study.get("reported") is None else study["reported"]
                assert_rounds(single[1], shown, 1, STORED, where, form="any")
                assert int(single[2]) == study["n"], where
            continue
        pooled = re.fullmatch(rf"({NUM})%", row["Pooled"].text)
        assert pooled, f"{where}: {row['Pooled'].text!r}"
        computed(pooled[1], a["pooled_percent"], f"{where} Pooled")
        for column, key in (("95% CI", "ci_percent"), ("95% PI", "pi_percent")):
            ends = ci_pair(row[column].text, f"{where} {column}")
            for printed, stored in zip(ends, a[key], strict=True):
                computed(printed, stored, f"{where} {column}")
        fit = a["primary"]
        het = re.fullmatch(
            rf"τ² ({NUM}); I² ({NUM})%; Q\((\d+)\) ({NUM}), p (< 0\.001|{NUM})",
            row["Heterogeneity"].text,
        )
        assert het, f"{where}: {row['Heterogeneity'].text!r}"
        assert het[3] == str(fit["q_df"]), where
        computed(het[1], fit["tau2"], f"{where} τ²", digits=3)
        computed(het[2], fit["i2"], f"{where} I²")
        computed(het[4], fit["q"], f"{where} Q", digits=2)
        assert_p(het[5], fit["q_p"], f"{where} heterogeneity")
        checked += 11 + _check_sensitivity(row["Sensitivity"].text, a, where)
        note = audit.note(row["Pooled"], where)
        listed = re.findall(r"\[([^\]\s]+)\]", note.split("Studies pooled:")[1])
        assert listed == [s["outcome_ref"] for s in a["studies"]], f"{where}: note lists {listed}"
    with_data = [a["title"] for a in audit.results["analyses"].values() if a["k"] > 0]
    assert sorted(titles) == sorted(with_data)
    assert checked > 50


def test_studies_table_prints_the_pooled_rows(audit: Audit) -> None:
    evidence, checked = audit.evidence, 0
    for a in audit.results["analyses"].values():
        rows = used_rows(audit, a["title"])
        by_label = {s["label"]: s for s in a["studies"]}
        assert len(by_label) == len(a["studies"]) == len(rows), a["name"]
        for row in rows:
            where = f"analysis_studies {a['name']} / {row['Study'].text}"
            s = by_label[row["Study"].text]
            outcome = evidence.outcome(s["outcome_ref"])
            cohort = evidence.cohort(s["cohort_key"])
            assert outcome.cohort_key == cohort.key, where
            n = outcome.denominator if outcome.denominator is not None else cohort.n
            assert row["n"].text == str(n) == str(s["n"]), f"{where}: n {row['n'].text}"
            basis = outcome.denominator_basis or cohort.denominator_basis
            assert row["Denominator"].text == BASIS_LABEL[basis.value], where
            study = evidence.study_of(outcome)
            note = audit.note(row["Value"], where)
            assert_note_cites(audit, note, outcome.provenance, study.source_key, where)
            value = re.fullmatch(rf"({NUM})%", row["Value"].text)
            assert value, f"{where}: {row['Value'].text!r}"
            if a["kind"] == "proportion":
                approx = "≈" if outcome.events_basis == EventsBasis.approximate else ""
                assert row["Events"].text == f"{approx}{outcome.events}", f"{where}: events"
                assert outcome.events is not None, where
                assert n, where
                exact = Decimal(outcome.events) * 100 / Decimal(n)
                computed(value[1], exact, f"{where} value = events / n", slack=0)
                assert row["Reported 95% CI"].text == "", where
            else:
                assert outcome.value is not None
                assert row["Events"].text == "", f"{where}: a KM rate shows no events"
                assert_rounds(value[1], outcome.value, 1, where=f"{where} value")
                if outcome.ci_low is not None and outcome.ci_high is not None:
                    ends = ci_pair(row["Reported 95% CI"].text, where)
                    assert_rounds(ends[0], outcome.ci_low, 1, where=f"{where} CI")
                    assert_rounds(ends[1], outcome.ci_high, 1, where=f"{where} CI")
                else:
                    assert row["Reported 95% CI"].text == "", where
            if s["weight"] is None:
                assert row["Weight"].text == "", where
            else:
                weight = re.fullmatch(rf"({NUM})%", row["Weight"].text)
                assert weight, f"{where}: weight {row['Weight'].text!r}"
                computed(weight[1], s["weight"], f"{where} weight")
            checked += 4
    assert checked > 50


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _cloglog(p: float) -> float:
    return math.log(-math.log(p))


def _landmark_yi_vi(
    s: float, ci: tuple[float, float] | None, n: int | None, scale: str
) -> tuple[float, float]:
    """One study's effect size by hand (src/postcart/stats/landmark.py documents the rules).

    With a reported 95% CI: se = |g(upper) − g(lower)| / (2 · 1.959964) (one end at 0 or 1:
    |g(finite end) − g(S)| / 1.959964). With only n: the binomial S(1 − S)/n carried to the
    scale by the delta method, |g'(S)| = 1 / (S |log S|) (cloglog) or 1 / (S (1 − S)) (logit).
    """
    g = _cloglog if scale == "cloglog" else _logit
    if ci is not None:
        lo, hi = ci
        if 0 < lo < hi < 1:
            se = abs(g(hi) - g(lo)) / (2 * Z975)
        else:
            end = next(b for b in (lo, hi) if 0 < b < 1 and b != s)
            se = abs(g(end) - g(s)) / Z975
    else:
        assert n is not None
        slope = 1 / (s * abs(math.log(s))) if scale == "cloglog" else 1 / (s * (1 - s))
        se = math.sqrt(s * (1 - s) / n) * slope
    return g(s), se**2


#: One request for every pooled analysis: GLMM and two-step logit for proportions; REML-HKSJ
#: on log(−log S), and on logit S as the sensitivity, for landmark rates. Proportions come
#: back through metafor's transf.ilogit; log(−log S) through exp(−exp(y)), whose interval
#: ends swap because the map is decreasing.
R_CODE = """
lapply(d$cases, function(cs) {
  if (cs$kind == "proportion") {
    g <- rma.glmm(measure = "PLO", xi = cs$xi, ni = cs$ni, test = "t")
    pg <- predict(g, transf = transf.ilogit)
    es <- escalc(measure = "PLO", xi = cs$xi, ni = cs$ni)
    s <- rma(es$yi, es$vi, method = "REML", test = "knha")
    ps <- predict(s, transf = transf.ilogit)
    primary <- c(pg$pred, pg$ci.lb, pg$ci.ub, pg$pi.lb, pg$pi.ub)
  } else {
    f <- rma(cs$yi, cs$vi, method = "REML", test = "knha")
    p <- predict(f)
    back <- function(y) exp(-exp(y))
    primary <- c(back(p$pred), back(p$ci.ub), back(p$ci.lb), back(p$pi.ub), back(p$pi.lb))
    s <- rma(cs$yi_logit, cs$vi_logit, method = "REML", test = "knha")
    ps <- predict(s, transf = transf.ilogit)
  }
  list(name = cs$name, primary = 100 * primary, sensitivity = 100 * c(ps$pred, ps$ci.lb, ps$ci.ub))
})
"""


def _r_case(audit: Audit, a: dict[str, Any]) -> dict[str, Any]:
    """The analysis's inputs as printed in 'Studies used and left out'."""
    rows = used_rows(audit, a["title"])
    case: dict[str, Any] = {"name": a["name"], "kind": a["kind"]}
    if a["kind"] == "proportion":
        case["xi"] = [int(r["Events"].text.removeprefix("≈")) for r in rows]
        case["ni"] = [int(r["n"].text) for r in rows]
        return case
    for scale, suffix in (("cloglog", ""), ("logit", "_logit")):
        effects = []
        for r in rows:
            s = float(Decimal(r["Value"].text.removesuffix("%")) / 100)
            ci = None
            if r["Reported 95% CI"].text:
                lo, hi = ci_pair(r["Reported 95% CI"].text, a["name"])
                ci = (float(Decimal(lo) / 100), float(Decimal(hi) / 100))
            else:
                assert "approximation from n" in r["Precision / reason"].text, a["name"]
            n = int(r["n"].text) if r["n"].text else None
            effects.append(_landmark_yi_vi(s, ci, n, scale))
        case["yi" + suffix] = [y for y, _ in effects]
        case["vi" + suffix] = [v for _, v in effects]
    return case


def test_pooled_numbers_match_metafor(audit: Audit, metafor: RSession) -> None:
    pooled = {
        where: (row, a) for where, row, a in _pooled_rows(audit) if a["pooled_percent"] is not None
    }
    assert pooled, "no pooled analysis to check"
    cases = [_r_case(audit, a) for _, a in pooled.values()]
    answers = {r["name"]: r for r in metafor.call(R_CODE, {"cases": cases})}
    checked = 0
    for where, (row, a) in pooled.items():
        r = answers[a["name"]]
        slack = GLMM_PERCENT if a["kind"] == "proportion" else TWO_STEP_PERCENT
        printed = [
            row["Pooled"].text.removesuffix("%"),
            *ci_pair(row["95% CI"].text, where),
            *ci_pair(row["95% PI"].text, where),
        ]
        labels = ("pooled", "CI", "CI", "PI", "PI")
        for text, value, what in zip(printed, r["primary"], labels, strict=True):
            computed(text, Decimal(repr(value)), f"{where} {what} vs metafor", slack=slack)
        sens = re.match(rf".*?: ({NUM})% \(({NUM})–({NUM})%\)", row["Sensitivity"].text)
        assert sens, f"{where}: {row['Sensitivity'].text[:100]!r}"
        for text, value in zip(sens.groups(), r["sensitivity"], strict=True):
            what = f"{where} sensitivity vs metafor"
            computed(text, Decimal(repr(value)), what, slack=TWO_STEP_PERCENT)
        checked += 8
    if audit.name == "invented":
        kinds = {a["kind"] for _, a in pooled.values()}
        assert kinds == {"proportion", "landmark"}, "the invented build must pool landmark rates"
    assert checked >= 8


def test_every_analysis_holds_its_invariants(audit: Audit) -> None:
    evidence = audit.evidence
    for name, a in audit.results["analyses"].items():
        keys = [s["cohort_key"] for s in a["studies"]]
        assert a["k"] == len(keys), name
        assert len(keys) == len(set(keys)), f"{name}: a cohort pooled twice: {keys}"
        assert not overlap_clashes(evidence, keys), f"{name}: {overlap_clashes(evidence, keys)}"
        if a["sensitivity_percent"] is not None:
            values = [s["value"] for s in a["studies"]]
            est = a["sensitivity_percent"][0]
            assert min(values) - STORED <= est <= max(values) + STORED, (
                f"{name}: two-step estimate {est} outside the studies' range {values}"
            )


def test_leave_one_out_prints_results_json(audit: Audit) -> None:
    printed: dict[str, list[dict[str, Shown]]] = {}
    for row in audit.table("leave_one_out"):
        printed.setdefault(row["Analysis"].text, []).append(row)
    expected = {a["title"]: a for a in audit.results["analyses"].values() if a["leave_one_out"]}
    assert set(printed) == set(expected)
    for title, rows in printed.items():
        for row, loo in zip(rows, expected[title]["leave_one_out"], strict=True):
            where = f"leave_one_out {title} / {row['Study omitted'].text}"
            assert row["Study omitted"].text == loo["omitted"], where
            computed(row["Pooled without it"].text.removesuffix("%"), loo["percent"], where)
            ends = ci_pair(row["95% CI"].text, where)
            for text, stored in zip(ends, loo["ci_percent"], strict=True):
                computed(text, stored, f"{where} CI")


def test_thin_and_boundary_fits_say_so_in_plain_words(audit: Audit) -> None:
    warned = 0
    for where, row, a in _pooled_rows(audit):
        notes = row["Notes"].text
        if a["pooled_percent"] is None:
            if a["k"] == 1:
                assert "(k = 1): shown, not pooled" in notes, f"{where}: {notes[:120]!r}"
            continue
        two = "Only two studies" in notes
        assert two == (a["k"] == 2), f"{where}: k = {a['k']}, two-study warning {two}"
        tau2 = a["primary"]["tau2"]
        boundary = "τ² at its boundary" in notes
        if tau2 < 1e-8:
            assert boundary, f"{where}: τ² = {tau2} without the boundary warning"
        elif tau2 > 1e-6:
            assert not boundary, f"{where}: τ² = {tau2} but the boundary warning is printed"
        warned += two + boundary
    if audit.name == "curated":
        assert warned > 0


def test_every_skipped_study_is_listed_with_its_reason(audit: Audit) -> None:
    rows = audit.table("analysis_studies")
    for a in audit.results["analyses"].values():
        left_out = [
            (r["Study"].text, r["Precision / reason"].text)
            for r in rows
            if r["Analysis"].text == a["title"] and r["Status"].text == "left out"
        ]
        expected = [(s["name"], s["reason"]) for s in a["skipped"]]
        assert Counter(left_out) == Counter(expected), a["name"]
    for r in rows:
        if r["Status"].text == "left out":
            blank = ("n", "Denominator", "Events", "Value", "Reported 95% CI", "Weight")
            assert all(r[c].text == "" for c in blank), r["Study"].text
        else:
            assert r["Status"].text == "used", r["Status"].text


def test_product_comparisons_print_results_json(audit: Audit) -> None:
    by_title = {c["title"]: c for c in audit.results["product_comparisons"].values()}
    rows = audit.table("products")
    assert sorted(r["Outcome"].text for r in rows) == sorted(by_title)
    for row in rows:
        c, where = by_title[row["Outcome"].text], f"products {row['Outcome'].text}"
        for i, column in enumerate(("Axi-cel", "Tisa-cel")):
            text = row[column].text
            if not c["percent"]:
                assert text == f"k = {c['k'][i]}", where
                continue
            cell = re.fullmatch(rf"({NUM})% \(({NUM})–({NUM})%\), k = (\d+)", text)
            assert cell, f"{where}: {text!r}"
            assert cell[4] == str(c["k"][i]), where
            for printed, stored in zip(cell.groups()[:3], c["percent"][i], strict=True):
                computed(printed, stored, f"{where} {column}")
        if c["q_between_p"] is None:
            assert row["Test of difference"].text == "", where
        else:
            q = re.fullmatch(rf"Q ({NUM}), p (< 0\.001|{NUM})", row["Test of difference"].text)
            assert q, f"{where}: {row['Test of difference'].text!r}"
            computed(q[1], c["q_between"], f"{where} Q", digits=2)
            assert_p(q[2], c["q_between_p"], where)
