"""Study-level effect sizes for single proportions, as metafor's ``escalc()``.

The continuity correction is the silent default users most often trip over (metafor
issue #22). When ``add`` is not given, metafor's default depends on the measure: ``1/2``
for PR and PLO, added to both cells of *only* the studies with 0 or all events
(``to="only0"``), but ``0`` (no correction) for PAS and PFT, whose values exist at 0 and
all events. We mirror that default exactly and record the ``add`` used and which studies
were corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError
from postcart.stats._checks import (
    FloatArray,
    as_vector,
    check_choice,
    check_counts,
    effects_and_variances,
    same_length,
)

Measure = Literal["PR", "PLO", "PAS", "PFT", "GEN"]
#: Measures computed from events ``xi`` out of ``ni`` (the rest take ``yi``/``vi`` directly).
PROPORTION_MEASURES: tuple[str, ...] = ("PR", "PLO", "PAS", "PFT")
MEASURES: tuple[str, ...] = (*PROPORTION_MEASURES, "GEN")
#: metafor's ``to=`` choices for where the continuity correction ``add`` goes.
CORRECTION_TARGETS: tuple[str, ...] = ("only0", "all", "if0all", "none")
#: metafor's ``add`` when the caller does not pass one (``escalc()`` sets ``add <- 0`` for
#: the arcsine measures when ``add`` is missing from the call; otherwise its formal ``1/2``).
DEFAULT_ADD: Mapping[str, float] = MappingProxyType({"PR": 0.5, "PLO": 0.5, "PAS": 0.0, "PFT": 0.0})


def default_add(measure: str) -> float:
    """metafor's continuity correction for ``measure`` when ``add`` is omitted.

    ``0.5`` for PR and PLO, ``0`` for PAS and PFT; ``0`` for GEN (nothing is corrected).
    """
    measure = check_choice("measure", measure, MEASURES)
    return DEFAULT_ADD.get(measure, 0.0)


@dataclass(frozen=True, slots=True)
class EffectSizes:
    """Effect sizes ``yi`` with sampling variances ``vi``; counts kept for back-transforms.

    ``xi``/``ni`` are the *uncorrected* counts (``None`` for GEN); ``corrected`` flags the
    studies that received the continuity correction ``add`` (the value actually used: the
    caller's, or metafor's default for the measure when it was omitted).
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
    add: float | None = None,
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
        Continuity correction: add ``add`` to events and non-events of the studies ``to``
        selects. ``to="only0"`` (the default) selects studies with 0 or ``ni`` events,
        ``"all"`` every study, ``"if0all"`` every study if any has 0 or ``ni`` events,
        ``"none"`` none. ``add=None`` (omitted) means metafor's default for the measure:
        ``1/2`` for PR and PLO, ``0`` for PAS and PFT (so by default the arcsine measures
        are never corrected, whatever ``to`` says). A value passed explicitly is used for
        every measure: as in metafor the corrected counts then feed ``yi`` *and* ``vi``,
        PAS and PFT included.
    drop00
        Accepted for metafor compatibility; like metafor it only concerns two-group tables
        and has no effect on single proportions.

    Returns
    -------
    EffectSizes
        As metafor, ``PR`` without a correction gives ``vi = 0`` for 0 or all events; ``rma``
        then refuses that row. Undefined values (a logit of 0 or 1) raise ``InputError``.
        ``add`` records the correction used (resolved from the measure when omitted).
    """
    del drop00  # metafor ignores it for single-group measures; so do we.
    measure = check_choice("measure", measure, MEASURES)
    to = check_choice("to", to, CORRECTION_TARGETS)
    if measure == "GEN":
        if yi is None or vi is None:
            raise InputError("measure='GEN' needs both yi and vi")
        y, v = effects_and_variances(yi, vi)
        return EffectSizes(measure, y, v, None, None)
    if xi is None or ni is None:
        raise InputError(f"measure={measure!r} needs both xi (events) and ni (group sizes)")
    if add is None:
        add = DEFAULT_ADD[measure]
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
