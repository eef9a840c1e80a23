"""Input validation shared by the pooling functions, with messages that name row and column.

Checks happen once, at the call, so the numerics below can assume clean arrays.
Rows are reported 1-based, as a user counts them in a spreadsheet.

Beyond "finite and positive", effect sizes and variances must stay inside a range where
double precision can do the arithmetic of a meta-analysis: REML's Fisher information sums
fourth powers of the weights 1/vᵢ, Q sums wᵢ·yᵢ², and metafor's own numerics break down
long before. Values outside it are refused at the call with the offending row, instead of
surfacing later as ZeroDivisionError, OverflowError or a NaN estimate marked "ok":

* ``|yi| ≤ 1e50`` (every scale used here — logit, log, arcsine, raw proportions — stays
  within a few hundred);
* ``1e-50 ≤ vi ≤ 1e50``;
* ``max(vi)/min(vi) < 1e16``: beyond 1/ε (ε = 2.2e-16) the smallest weight vanishes when
  added to the largest, so the result would silently ignore studies (metafor already warns
  at 1e7).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError

FloatArray = npt.NDArray[np.float64]

#: Largest |yi| accepted (see the module docstring).
YI_MAX = 1e50
#: Accepted range of a sampling variance.
VI_MIN = 1e-50
VI_MAX = 1e50
#: Largest accepted group size: more than the world's population is a data error, and the
#: binomial likelihood of the GLMM loses all precision long before (1e16 is ε⁻¹).
N_MAX = 1e10
#: Largest accepted max(vi)/min(vi): at 1/ε the smallest weight vanishes in a sum.
VI_RATIO_MAX = 1e16


def reject_booleans(values: object, column: str, where: str = "") -> None:
    """Refuse True/False where a number is meant: numpy would quietly read them as 1 and 0.

    ``where`` prefixes the message (e.g. ``"analysis 3, "`` for a batch row).
    """
    if isinstance(values, bool | np.bool_):
        raise InputError(f"{where}row 1, column '{column}': {values!r} is a boolean, not a number")
    if isinstance(values, np.ndarray):
        if values.dtype == np.bool_:
            raise InputError(f"{where}column '{column}': a boolean array, not numbers")
        if values.dtype != object:
            return
    if isinstance(values, list | tuple | np.ndarray):
        for row, value in enumerate(values, start=1):
            if isinstance(value, bool | np.bool_):
                raise InputError(
                    f"{where}row {row}, column '{column}': {value!r} is a boolean, not a number"
                )


def as_vector(values: npt.ArrayLike, column: str) -> FloatArray:
    """Convert to a 1-D float array, rejecting NaN/inf and booleans with the first bad row."""
    reject_booleans(values, column)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column '{column}': not numeric ({exc})") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InputError(f"column '{column}': expected a 1-D sequence, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argmax(bad)) + 1
        raise InputError(f"row {row}, column '{column}': missing or non-finite value")
    return array


def as_matrix(values: npt.ArrayLike, column: str) -> FloatArray:
    """A float array for the batch functions (shape checked by the caller), refusing booleans
    and text with the argument's name; a boolean names its analysis (row) and study."""
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        raise InputError(f"column '{column}': a boolean array, not numbers")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column '{column}': not a numeric array ({exc})") from exc
    if isinstance(values, list | tuple):
        for i, row in enumerate(values):
            reject_booleans(row, column, where=f"analysis {i + 1}, ")
    return array


def same_length(columns: Sequence[tuple[str, FloatArray]]) -> int:
    """Return the common length k (≥ 1) of the named columns, or raise naming the mismatch."""
    lengths = {name: len(array) for name, array in columns}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"'{name}' has {n}" for name, n in lengths.items())
        raise InputError(f"columns differ in length: {shown}")
    k = next(iter(lengths.values()))
    if k == 0:
        raise InputError("no studies: k = 0")
    return k


def first_row(mask: npt.NDArray[np.bool_]) -> int:
    """1-based index of the first True in ``mask``."""
    return int(np.argmax(mask)) + 1


def check_counts(xi: FloatArray, ni: FloatArray) -> None:
    """Events and sizes must be whole, non-negative, with 0 ≤ xi ≤ ni and 0 < ni ≤ N_MAX."""
    for name, array in (("xi", xi), ("ni", ni)):
        negative = array < 0
        if negative.any():
            row = first_row(negative)
            raise InputError(f"row {row}, column '{name}': negative count {array[row - 1]:g}")
        fractional = array != np.round(array)
        if fractional.any():
            row = first_row(fractional)
            raise InputError(
                f"row {row}, column '{name}': {array[row - 1]:g} is not a whole number"
            )
    huge = ni > N_MAX
    if huge.any():
        row = first_row(huge)
        raise InputError(
            f"row {row}, column 'ni': group size {ni[row - 1]:g} is beyond {N_MAX:g}; "
            "no study is that large (a shifted column?)"
        )
    empty = ni <= 0
    if empty.any():
        row = first_row(empty)
        raise InputError(f"row {row}, column 'ni': group size must be > 0, got {ni[row - 1]:g}")
    too_many = xi > ni
    if too_many.any():
        row = first_row(too_many)
        raise InputError(f"row {row}, column 'xi': {xi[row - 1]:g} events > ni = {ni[row - 1]:g}")


def check_variances(vi: FloatArray) -> None:
    """Sampling variances must be strictly positive (metafor cannot use Q, DL, PM otherwise)
    and inside the range double precision can pool (module docstring)."""
    bad = vi <= 0
    if bad.any():
        row = first_row(bad)
        raise InputError(
            f"row {row}, column 'vi': sampling variance must be > 0, got {vi[row - 1]:g}"
        )
    extreme = (vi < VI_MIN) | (vi > VI_MAX)
    if extreme.any():
        row = first_row(extreme)
        raise InputError(
            f"row {row}, column 'vi': sampling variance {vi[row - 1]:g} is outside "
            f"[{VI_MIN:g}, {VI_MAX:g}], beyond what double precision can pool"
        )
    high, low = int(np.argmax(vi)), int(np.argmin(vi))
    if vi[high] / vi[low] >= VI_RATIO_MAX:
        raise InputError(
            f"rows {high + 1} and {low + 1}, column 'vi': sampling variances {vi[high]:g} and "
            f"{vi[low]:g} differ by a factor ≥ {VI_RATIO_MAX:g}; in double precision the "
            "smaller weights vanish next to the largest"
        )


def check_effects(yi: FloatArray) -> None:
    """Effect sizes must stay within ±YI_MAX, so their weighted squares stay finite."""
    extreme = np.abs(yi) > YI_MAX
    if extreme.any():
        row = first_row(extreme)
        raise InputError(
            f"row {row}, column 'yi': effect size {yi[row - 1]:g} is beyond ±{YI_MAX:g}, "
            "outside every effect-size scale and what double precision can pool"
        )


def effects_and_variances(yi: npt.ArrayLike, vi: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The boundary check of every public function that takes ``yi`` and ``vi``."""
    y, v = as_vector(yi, "yi"), as_vector(vi, "vi")
    same_length([("yi", y), ("vi", v)])
    check_effects(y)
    check_variances(v)
    return y, v


def check_level(level: float) -> float:
    """Return alpha for a confidence level given in percent (``95``) or as a fraction (``0.95``).

    metafor's ``.level()`` reads values ≥ 1 as percentages and values in (0.5, 1) as fractions.
    """
    if 1 <= level < 100:
        return (100.0 - level) / 100.0
    if 0.5 < level < 1:
        return 1.0 - level
    raise InputError(f"level must be a percentage in [1, 100) (e.g. 95), got {level}")


def check_choice(name: str, value: str, allowed: Sequence[str]) -> str:
    """Reject an unknown option with the list of allowed spellings."""
    if value not in allowed:
        raise InputError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value
