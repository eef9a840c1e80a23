"""Recover an event count from a printed percentage, only when no guess is involved.

"82% of 22 patients" means 18 events: 18/22 = 81.8 % is the only count that prints as 82.
"50% of 200" could be 99, 100 or 101 (49.5 %, 50 %, 50.5 % all round to 50), so it stays empty.
A percentage sitting exactly on a rounding boundary is accepted from either side, because
papers round half-up and half-to-even alike.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def decimals_printed(text: str) -> int:
    """Digits after the decimal point as written ("81.8" → 1, "82" → 0)."""
    exponent = Decimal(text).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def derive_events(printed_percent: str, n: int) -> int | None:
    """The unique count k in 0..n whose 100·k/n rounds to ``printed_percent``, else None."""
    try:
        value = Decimal(printed_percent.strip())
    except InvalidOperation:
        return None
    if n <= 0 or not value.is_finite():
        return None
    half_step = Decimal(5) / Decimal(10) ** (decimals_printed(printed_percent.strip()) + 1)
    # |100k/n − value| ≤ half_step, multiplied through by n so the comparison is exact.
    tolerance = half_step * n
    target = value * n
    matches = [k for k in range(n + 1) if abs(Decimal(100 * k) - target) <= tolerance]
    return matches[0] if len(matches) == 1 else None


def percent_bounds(printed_percent: str) -> tuple[Decimal, Decimal] | None:
    """The interval of true percentages that print as ``printed_percent`` (either rounding)."""
    try:
        value = Decimal(printed_percent.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    half_step = Decimal(5) / Decimal(10) ** (decimals_printed(printed_percent.strip()) + 1)
    return max(Decimal(0), value - half_step), min(Decimal(100), value + half_step)


def event_bounds(printed_percent: str, n: int) -> tuple[int, int] | None:
    """The smallest and largest count in 0..n whose percentage prints as ``printed_percent``.

    These bound a rounding sensitivity analysis: the pooled estimate recomputed with every
    approximate study at its lowest, then at its highest admissible count.
    """
    bounds = percent_bounds(printed_percent)
    if bounds is None or n <= 0:
        return None
    low, high = bounds
    fits = [k for k in range(n + 1) if low * n <= Decimal(100 * k) <= high * n]
    return (fits[0], fits[-1]) if fits else None


def approximate_events(printed_percent: str, n: int) -> int | None:
    """round(percent × n / 100), when at least one count prints as the percentage.

    Used only where several counts fit (else :func:`derive_events` is exact) and the
    percentage is known to be out of ``n``; the result is labelled ``approximate``.
    """
    bounds = event_bounds(printed_percent, n)
    if bounds is None:
        return None
    value = Decimal(printed_percent.strip()) * n / 100
    nearest = int(value.to_integral_value(rounding="ROUND_HALF_EVEN"))
    return min(max(nearest, bounds[0]), bounds[1])
