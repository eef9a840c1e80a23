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
