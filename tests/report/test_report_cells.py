"""Properties of the number formatters every report cell goes through.

A number printed wrong is the worst bug: these pin what ``fmt_number`` and ``fmt_percent``
(reported numbers), ``fmt_fixed`` and ``ci_text`` (computed numbers) and ``fmt_p`` may print.
The text parses back to ``round(value, digits)``, never reads "-0", and is blank, never "nan",
for an unknown value. Reported numbers carry no trailing decimal zeros but keep an integer's
own zeros (60 is "60", never "6"); computed ones are at a fixed precision ("72.0").
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from postcart.report.cells import fmt_fixed, fmt_number, fmt_p, fmt_percent
from postcart.report.tables.pooled import ci_text

DIGITS = st.integers(min_value=0, max_value=3)
#: Finite values a report prints: percentages, counts, τ², Q, p-values, and a wide margin.
FINITE = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
#: Values within half a unit of the last digit of zero: the ones that could print as "-0".
NEAR_ZERO = st.floats(min_value=-0.0005, max_value=0.0005, allow_nan=False)
#: Decimals as curated (one or two decimals), which exercise ties such as 8.15.
DECIMALS = st.decimals(min_value=-1000, max_value=1000, places=2).map(float)
INTEGERS = st.integers(min_value=-(10**7), max_value=10**7)
UNKNOWN = [None, math.nan, -math.nan, math.inf, -math.inf]


def assert_well_formed(text: str, value: float, digits: int, *, fixed: bool = False) -> None:
    """The printed text is the value at ``digits`` decimals: shortest form, or ``fixed``."""
    assert text, f"{value!r} printed blank"
    assert float(text) == round(value, digits), (value, digits, text)
    decimals = text.split(".")[1] if "." in text else ""
    if fixed:
        assert len(decimals) == digits, f"{text!r} is not at {digits} decimals"
    else:
        assert len(decimals) <= digits
        assert not decimals.endswith("0"), f"trailing decimal zero in {text!r}"
        assert "." not in text or decimals, text
    assert not (text.startswith("-") and float(text) == 0), f"negative zero {text!r}"
    assert "nan" not in text.lower()
    assert "e" not in text.lower(), f"exponent notation {text!r}"


@given(FINITE | DECIMALS | NEAR_ZERO, DIGITS)
@example(8.15, 1)
@example(0.04999, 1)
@example(-0.04999, 1)
@example(-0.0004, 3)
@example(59.95, 1)
@example(99.999, 2)
def test_fmt_number_is_the_rounded_value(value: float, digits: int) -> None:
    assert_well_formed(fmt_number(value, digits), value, digits)


@given(INTEGERS, DIGITS)
@example(60, 0)
@example(60, 1)
@example(10, 1)
@example(100, 1)
@example(120, 0)
@example(1000, 3)
@example(0, 1)
@example(-60, 1)
@example(-100, 2)
def test_integers_keep_their_trailing_zeros(value: int, digits: int) -> None:
    assert fmt_number(value, digits) == str(value)
    assert fmt_number(float(value), digits) == str(value)


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (60, 0, "60"),
        (60.0, 1, "60"),
        (120.04, 1, "120"),
        (1000.0, 1, "1000"),
        (2.50, 1, "2.5"),
        (0.10, 3, "0.1"),
        (74.95, 1, "75"),  # 74.95 is 74.9500000000000028… in binary: rounds up
        (8.15, 1, "8.2"),
        (-0.04, 1, "0"),
        (-0.0, 2, "0"),
        (-0.0004, 3, "0"),
        (-1.25, 1, "-1.2"),  # exact binary tie: round half to even, as round() does
        (0.0001, 1, "0"),
        (5e-7, 3, "0"),
    ],
)
def test_fmt_number_examples(value: float, digits: int, text: str) -> None:
    assert fmt_number(value, digits) == text


@pytest.mark.parametrize("value", UNKNOWN)
@pytest.mark.parametrize("digits", [0, 1, 3])
def test_unknown_prints_blank(value: float | None, digits: int) -> None:
    assert fmt_number(value, digits) == ""
    assert fmt_percent(value, digits) == ""
    assert fmt_fixed(value, digits) == ""
    assert fmt_p(value) == ""


@given(FINITE | DECIMALS | NEAR_ZERO | INTEGERS.map(float), DIGITS)
def test_fmt_percent_is_fmt_number_with_a_sign(value: float, digits: int) -> None:
    text = fmt_percent(value, digits)
    assert text == fmt_number(value, digits) + "%"
    assert_well_formed(text.removesuffix("%"), value, digits)


@given(FINITE | DECIMALS | NEAR_ZERO | INTEGERS.map(float), DIGITS)
@example(72.0, 1)
@example(60, 0)
@example(-0.04, 1)
@example(-0.0004, 3)
def test_fmt_fixed_is_the_rounded_value_at_fixed_precision(value: float, digits: int) -> None:
    assert_well_formed(fmt_fixed(value, digits), value, digits, fixed=True)


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(72.0, 1, "72.0"), (60, 1, "60.0"), (60, 0, "60"), (-0.04, 1, "0.0"), (0.1, 3, "0.100")],
)
def test_fmt_fixed_examples(value: float, digits: int, text: str) -> None:
    assert fmt_fixed(value, digits) == text


@given(FINITE | DECIMALS | NEAR_ZERO, FINITE | DECIMALS | INTEGERS.map(float))
@example(2.0, 96.1)
@example(60.0, 100.0)
@example(-0.01, 10.0)
def test_ci_text_prints_both_ends_at_one_decimal(low: float, high: float) -> None:
    text = ci_text(low, high)
    assert text.endswith("%")
    printed_low, printed_high = text.removesuffix("%").split("–")
    assert_well_formed(printed_low, low, 1, fixed=True)
    assert_well_formed(printed_high, high, 1, fixed=True)


@given(st.floats(min_value=0, max_value=1))
@example(0.0)
@example(0.000999)
@example(0.001)
@example(0.0495)
@example(1.0)
def test_fmt_p_never_prints_a_tiny_p_as_zero(p: float) -> None:
    text = fmt_p(p)
    if p < 0.001:
        assert text == "< 0.001"
    else:
        assert_well_formed(text, p, 3, fixed=True)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("good", [0.0, 12.5, 100.0])
def test_ci_text_is_blank_when_an_end_is_unknown(bad: float, good: float) -> None:
    assert ci_text(bad, good) == ""
    assert ci_text(good, bad) == ""
    assert ci_text(bad, bad) == ""
