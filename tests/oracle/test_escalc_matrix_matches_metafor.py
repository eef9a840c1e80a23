"""escalc's defaults against metafor 3.8.1: every measure × ``add`` × ``to`` × edge dataset.

metafor's ``escalc()`` resolves a missing ``add`` per measure (1/2 for PR and PLO, 0 for PAS
and PFT) and a missing ``to`` as ``"only0"``. Each cell of the matrix (4 measures × 5 ``add``
settings × 5 ``to`` settings × 7 datasets = 700) is computed by metafor with the omitted
arguments really left out of the call (``r/escalc_matrix.R`` builds it with ``do.call``) and
by us with the keyword left out. Per cell:

- ``yi`` and ``vi`` agree study by study to 1e-10 relative (absolute floor 1e-12);
- where metafor's ``yi`` or ``vi`` is not finite (a logit of 0 or 1 without a correction) we
  refuse with ``InputError`` naming the first such row, and nowhere else;
- ``rma(yi, vi, method="REML")`` agrees on estimate, se and τ² to 1e-6. Where some
  ``vi = 0`` (PR without a correction on 0 or all events) metafor still fits (REML copes
  when τ² > 0) but our ``rma`` refuses ``vi ≤ 0`` by design (docs/stats.md): we assert the
  refusal. Where we refuse at ``escalc``, metafor's ``rma`` drops the non-finite studies
  (or stops with k = 0); there is nothing of ours to compare.

Both the pinned ``reference/escalc_matrix.json`` and a live R session are compared.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from postcart.errors import InputError
from postcart.stats import escalc, rma
from postcart.stats.effect_sizes import EffectSizes

from .compare import REL_TOL, WorstDiff, relative_difference
from .conftest import load_reference
from .r_session import RSession

pytestmark = pytest.mark.metafor

#: yi/vi are closed-form: agreement is limited only by the 15 digits R sends.
ESCALC_REL_TOL = 1e-10
#: Keys compared for ``rma(yi, vi, method = "REML")`` on each cell (tolerance REL_TOL).
RMA_KEYS = ("estimate", "se", "tau2")

#: Datasets: (name, events, sizes). Same as ``oracle_escalc_matrix_datasets()`` in R.
DATASETS: tuple[tuple[str, list[int], list[int]], ...] = (
    ("zero", [0, 3, 7, 12], [15, 20, 25, 40]),
    ("all", [10, 3, 18, 30], [10, 20, 25, 40]),
    ("n1-zero", [0, 5, 9, 2], [1, 20, 30, 12]),
    ("n1-one", [1, 5, 9, 2], [1, 20, 30, 12]),
    ("mixed", [0, 25, 0, 1, 4, 17, 60], [30, 25, 1, 1, 19, 50, 200]),
    ("only-edges", [0, 12, 0, 40, 1], [10, 12, 25, 40, 1]),
    ("no-edges", [4, 11, 7, 30, 2], [20, 35, 18, 90, 15]),
)
MEASURES = ("PR", "PLO", "PAS", "PFT")
#: ``None`` = the argument is left out of the call.
ADDS: tuple[float | None, ...] = (None, 0.0, 0.5, 1.0, 0.1)
TOS: tuple[str | None, ...] = (None, "only0", "all", "if0all", "none")
#: metafor's add when it is left out (``deparse(escalc)``: add <- 0 for PAS/PFT if missing).
METAFOR_DEFAULT_ADD = {"PR": 0.5, "PLO": 0.5, "PAS": 0.0, "PFT": 0.0}


def _label(value: float | str | None) -> str:
    if value is None:
        return "omitted"
    return f"{value:g}" if isinstance(value, float) else value


def matrix_cases() -> list[dict[str, Any]]:
    """Every cell, in ``oracle_escalc_matrix_cases()``'s order; omitted keys are absent."""
    cases = []
    for name, xi, ni in DATASETS:
        for measure in MEASURES:
            for add in ADDS:
                for to in TOS:
                    case: dict[str, Any] = {
                        "id": f"{name}-{measure}-add={_label(add)}-to={_label(to)}",
                        "measure": measure,
                        "xi": xi,
                        "ni": ni,
                    }
                    if add is not None:
                        case["add"] = add
                    if to is not None:
                        case["to"] = to
                    cases.append(case)
    return cases


CASES = matrix_cases()
IDS = [case["id"] for case in CASES]
REFERENCE: dict[str, Any] = load_reference("escalc_matrix")
PINNED: dict[str, dict[str, Any]] = {case["id"]: case for case in REFERENCE["cases"]}
#: Worst relative difference per key, and how each cell was judged (printed by test_zz).
WORST = WorstDiff()
OUTCOMES: dict[str, dict[str, str]] = {"pinned": {}, "live": {}}


def _vector(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)


def _raw_relative(ours_value: float, theirs: float) -> float:
    """|ours − theirs| / |theirs| without the absolute floor (for the report only)."""
    diff = abs(ours_value - theirs)
    return diff / abs(theirs) if theirs != 0 else diff


def ours(case: dict[str, Any]) -> EffectSizes:
    """Our escalc for a cell, leaving out exactly the keywords the cell leaves out."""
    kwargs: dict[str, Any] = {"xi": case["xi"], "ni": case["ni"]}
    for key in ("add", "to"):
        if key in case:
            kwargs[key] = case[key]
    return escalc(case["measure"], **kwargs)


def check(case: dict[str, Any], theirs: dict[str, Any]) -> str:
    """Assert one cell agrees with metafor's answer; return how it was judged.

    Every mismatch of the cell (yi, vi, the rma keys, the recorded ``add``) is listed in
    one failure, so a wrong default shows how far downstream it reaches.
    """
    assert "error" not in theirs, f"metafor's escalc failed: {theirs['error']}"
    yi_ref, vi_ref = _vector(theirs["yi"]), _vector(theirs["vi"])
    undefined = [not (_finite(y) and _finite(v)) for y, v in zip(yi_ref, vi_ref, strict=True)]
    if any(undefined):
        first = undefined.index(True) + 1
        with pytest.raises(InputError, match=rf"^row {first}, column 'xi': .* undefined"):
            ours(case)
        return "refused at escalc (metafor: non-finite yi/vi)"
    sizes = ours(case)
    problems = []
    for name, mine, ref in (("yi", sizes.yi, yi_ref), ("vi", sizes.vi, vi_ref)):
        for row, (a, b) in enumerate(zip(mine, ref, strict=True), start=1):
            WORST.note(name, _raw_relative(float(a), float(b)))
            if relative_difference(float(a), float(b)) > ESCALC_REL_TOL:
                problems.append(f"row {row} {name}: ours {a!r}, metafor {b!r}")
    fit = theirs["rma"]
    assert "error" not in fit, f"metafor's rma failed: {fit['error']}"
    if any(v == 0 for v in vi_ref):
        # metafor fits (with a warning unless every vi is 0); we refuse vi ≤ 0 on purpose.
        with pytest.raises(InputError, match=r"column 'vi': sampling variance must be > 0"):
            rma(sizes.yi, sizes.vi, method="REML")
        outcome = "escalc compared; rma refused (vi = 0; metafor fits)"
    else:
        result = rma(sizes.yi, sizes.vi, method="REML")
        assert result.status == "ok", result.reason
        for key in RMA_KEYS:
            a, b = float(getattr(result, key)), float(fit[key])
            rel = relative_difference(a, b)
            WORST.note(f"rma.{key}", _raw_relative(a, b))
            if rel > REL_TOL:
                problems.append(f"rma {key}: ours {a!r}, metafor {b!r} (rel {rel:.2e})")
        outcome = "escalc and rma compared"
    expected_add = case.get("add", METAFOR_DEFAULT_ADD[case["measure"]])
    if sizes.add != expected_add:
        problems.append(f"recorded add: ours {sizes.add!r}, metafor used {expected_add!r}")
    assert not problems, "\n".join(problems)
    return outcome


@pytest.fixture(scope="module")
def live(r_session: RSession) -> dict[str, dict[str, Any]]:
    """metafor's answers for all 700 cells, in one request."""
    answers = r_session.call("oracle_escalc_matrix_batch(d$cases)", {"cases": CASES})
    return dict(zip(IDS, answers, strict=True))


def test_matrix_is_the_one_r_builds(r_session: RSession) -> None:
    """The Python matrix, R's ``oracle_escalc_matrix_cases()`` and the pinned inputs agree."""
    from_r = r_session.call("oracle_escalc_matrix_cases()")
    assert len(CASES) == 4 * 5 * 5 * len(DATASETS) == 700
    assert from_r == CASES
    assert [case["input"] for case in REFERENCE["cases"]] == CASES
    assert REFERENCE["metafor_version"] == "3.8.1"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matrix_cell_matches_pinned_metafor(case: dict[str, Any]) -> None:
    OUTCOMES["pinned"][case["id"]] = check(case, PINNED[case["id"]]["output"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matrix_cell_matches_live_metafor(case: dict[str, Any], live: dict[str, Any]) -> None:
    OUTCOMES["live"][case["id"]] = check(case, live[case["id"]])


def test_metafor_default_add_depends_on_measure(live: dict[str, Any]) -> None:
    """The oracle really omits ``add``: metafor's omitted = 1/2 for PR/PLO, = 0 for PAS/PFT.

    On every dataset with 0 or all events, PAS and PFT with ``add`` omitted differ from
    ``add=0.5`` (so a 0.5 default cannot pass), and equal ``add=0``.
    """
    for name, xi, ni in DATASETS:
        has_edges = any(x in (0, n) for x, n in zip(xi, ni, strict=True))
        for measure in MEASURES:
            for to in TOS:
                cell = f"{name}-{measure}-add={{}}-to={_label(to)}"
                omitted = live[cell.format("omitted")]
                same = live[cell.format(f"{METAFOR_DEFAULT_ADD[measure]:g}")]
                assert omitted == same, cell.format("omitted")
                if has_edges and measure in ("PAS", "PFT") and to != "none":
                    assert omitted != live[cell.format("0.5")], cell.format("omitted")


def _changed(pinned: Any, now: Any, rel_tol: float) -> bool:
    if _finite(pinned) and _finite(now):
        return relative_difference(pinned, now) > rel_tol
    if pinned is None or now is None:
        return not (pinned is None and now is None)
    return not (pinned == now or (math.isnan(pinned) and math.isnan(now)))


def test_pinned_matrix_equals_live_metafor(live: dict[str, Any]) -> None:
    """The installed metafor still gives the pinned matrix (else: run `make oracle`)."""
    changed = []
    for case_id, case in PINNED.items():
        pinned, now = case["output"], live[case_id]
        pairs = [
            (f"{key}[{i}]", a, b, ESCALC_REL_TOL)
            for key in ("yi", "vi")
            for i, (a, b) in enumerate(zip(_vector(pinned[key]), _vector(now[key]), strict=True))
        ]
        fit_pinned, fit_now = pinned["rma"], now["rma"]
        if ("error" in fit_pinned) != ("error" in fit_now):
            changed.append(f"{case_id} rma: pinned {fit_pinned}, live {fit_now}")
        elif "error" not in fit_now:
            pairs += [(f"rma.{key}", fit_pinned[key], fit_now[key], REL_TOL) for key in RMA_KEYS]
        changed += [
            f"{case_id} {key}: pinned {a}, live {b}"
            for key, a, b, rel_tol in pairs
            if _changed(a, b, rel_tol)
        ]
    assert not changed, "\n".join(changed[:20])


def test_zz_report_matrix() -> None:
    """Runs last: how the cells were judged and the worst differences (pytest -s).

    The differences printed are raw (no absolute floor); the assertions use the floor.
    """
    assert WORST.per_key, "no comparisons ran"
    for source, outcomes in OUTCOMES.items():
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        for outcome, count in sorted(counts.items()):
            print(f"escalc matrix ({source}): {count:4d} {outcome}")  # noqa: T201
    for key, rel in sorted(WORST.per_key.items(), key=lambda item: -item[1]):
        print(f"escalc matrix worst relative difference {key:>13}: {rel:.2e}")  # noqa: T201
