"""Study-level effect sizes for single proportions, as metafor's ``escalc()``.

The continuity correction is the silent default users most often trip over (metafor
issue #22): ``add=1/2`` is added to both cells of *only* the studies with 0 or all events
(``to="only0"``). We mirror that default exactly and record which studies were corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats._checks import (
    FloatArray,
    as_vector,
    check_choice,
    check_counts,
    check_variances,
    same_length,
)

Measure = Literal["PR", "PLO", "PAS", "PFT", "GEN"]
#: Measures computed from events ``xi`` out of ``ni`` (the rest take ``yi``/``vi`` directly).
PROPORTION_MEASURES: tuple[str, ...] = ("PR", "PLO", "PAS", "PFT")
MEASURES: tuple[str, ...] = (*PROPORTION_MEASURES, "GEN")
#: metafor's ``to=`` choices for where the continuity correction ``add`` goes.
CORRECTION_TARGETS: tuple[str, ...] = ("only0", "all", "if0all", "none")


@dataclass(frozen=True, slots=True)
class EffectSizes:
    """Effect sizes ``yi`` with sampling variances ``vi``; counts kept for back-transforms.

    ``xi``/``ni`` are the *uncorrected* counts (``None`` for GEN); ``corrected`` flags the
    studies that received the continuity correction ``add``.
    """

    measure: str
    yi: FloatArray
    vi: FloatArray
    ni: FloatArray | None
    xi: FloatArray | None
    add: float = 0.0
    to: str = "none"
    corrected: npt.NDArray[np.bool_] | None = None

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.yi)


def escalc(
    measure: str,
    *,
    xi: npt.ArrayLike | None = None,
    ni: npt.ArrayLike | None = None,
    yi: npt.ArrayLike | None = None,
    vi: npt.ArrayLike | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> EffectSizes:
    """Compute effect sizes and sampling variances, as ``metafor::escalc()``.

    Parameters
    ----------
    measure
        ``"PR"`` raw proportion, ``"PLO"`` logit, ``"PAS"`` arcsine square root,
        ``"PFT"`` Freeman–Tukey double arcsine, or ``"GEN"`` (``yi``/``vi`` given).
    xi, ni
        Events and group sizes (proportion measures).
    yi, vi
        Effect sizes and sampling variances (``"GEN"``).
    add, to
        Continuity correction, metafor's defaults ``add=1/2, to="only0"``: add ``add`` to
        events and non-events of studies with 0 or ``ni`` events. ``to="all"`` corrects every
        study, ``"if0all"`` every study if any needs it, ``"none"`` never. As in metafor the
        corrected counts feed ``yi`` *and* ``vi`` of every proportion measure, PFT included
        (pass ``add=0`` for the textbook PFT).
    drop00
        Accepted for metafor compatibility; like metafor it only concerns two-group tables
        and has no effect on single proportions.

    Returns
    -------
    EffectSizes
        As metafor, ``PR`` without a correction gives ``vi = 0`` for 0 or all events; ``rma``
        then refuses that row. Undefined values (a logit of 0 or 1) raise ``InputError``.
    """
    del drop00  # metafor ignores it for single-group measures; so do we.
    measure = check_choice("measure", measure, MEASURES)
    to = check_choice("to", to, CORRECTION_TARGETS)
    if measure == "GEN":
        if yi is None or vi is None:
            raise InputError("measure='GEN' needs both yi and vi")
        y = as_vector(yi, "yi")
        v = as_vector(vi, "vi")
        same_length([("yi", y), ("vi", v)])
        check_variances(v)
        return EffectSizes(measure, y, v, None, None)
    if xi is None or ni is None:
        raise InputError(f"measure={measure!r} needs both xi (events) and ni (group sizes)")
    if not np.isfinite(add) or add < 0:
        raise InputError(f"add must be a finite number ≥ 0, got {add}")
    x = as_vector(xi, "xi")
    n = as_vector(ni, "ni")
    same_length([("xi", x), ("ni", n)])
    check_counts(x, n)
    corrected = _needs_correction(x, n, add, to)
    events = x + corrected * add
    non_events = (n - x) + corrected * add
    size = events + non_events
    y, v = _transform(measure, events, non_events, size)
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(v)):
        bad = ~(np.isfinite(y) & np.isfinite(v))
        row = int(np.argmax(bad)) + 1
        raise InputError(
            f"row {row}, column 'xi': {measure} is undefined for {x[row - 1]:g} events out of "
            f"{n[row - 1]:g} without a continuity correction (use add > 0)"
        )
    return EffectSizes(measure, y, v, n, x, float(add), to, corrected)


def _needs_correction(x: FloatArray, n: FloatArray, add: float, to: str) -> npt.NDArray[np.bool_]:
    """Which studies get ``add`` (metafor's ``to=`` rule)."""
    zero_cell: npt.NDArray[np.bool_] = (x == 0) | (x == n)
    if add == 0 or to == "none":
        return np.zeros(len(x), dtype=np.bool_)
    if to == "all":
        return np.ones(len(x), dtype=np.bool_)
    if to == "if0all":
        return np.full(len(x), bool(zero_cell.any()), dtype=np.bool_)
    return zero_cell


def _transform(
    measure: str, events: FloatArray, non_events: FloatArray, size: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """yi and vi from (possibly corrected) counts; vi is metafor's large-sample ``vtype="LS"``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = events / size
        if measure == "PR":
            return p, p * (1 - p) / size
        if measure == "PLO":
            return np.log(p / (1 - p)), 1 / events + 1 / non_events
        if measure == "PAS":
            return np.arcsin(np.sqrt(p)), 1 / (4 * size)
        y = 0.5 * (
            np.arcsin(np.sqrt(events / (size + 1))) + np.arcsin(np.sqrt((events + 1) / (size + 1)))
        )
        return y, 1 / (4 * size + 2)
