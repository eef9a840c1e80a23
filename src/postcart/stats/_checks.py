"""Input validation shared by the pooling functions, with messages that name row and column.

Checks happen once, at the call, so the numerics below can assume clean arrays.
Rows are reported 1-based, as a user counts them in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from postcart.errors import InputError

FloatArray = npt.NDArray[np.float64]


def as_vector(values: npt.ArrayLike, column: str) -> FloatArray:
    """Convert to a 1-D float array, rejecting NaN/inf with the first offending row."""
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
    """Events and sizes must be whole, non-negative, with 0 ≤ xi ≤ ni and ni > 0."""
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
    empty = ni <= 0
    if empty.any():
        row = first_row(empty)
        raise InputError(f"row {row}, column 'ni': group size must be > 0, got {ni[row - 1]:g}")
    too_many = xi > ni
    if too_many.any():
        row = first_row(too_many)
        raise InputError(f"row {row}, column 'xi': {xi[row - 1]:g} events > ni = {ni[row - 1]:g}")


def check_variances(vi: FloatArray) -> None:
    """Sampling variances must be strictly positive (metafor cannot use Q, DL, PM otherwise)."""
    bad = vi <= 0
    if bad.any():
        row = first_row(bad)
        raise InputError(
            f"row {row}, column 'vi': sampling variance must be > 0, got {vi[row - 1]:g}"
        )


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
