"""Events derived from a printed percentage: only when exactly one count reproduces it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postcart.evidence import load
from postcart.evidence.events import (
    approximate_events,
    decimals_printed,
    derive_events,
    event_bounds,
)
from postcart.evidence.vocab import LANDMARK_RATES, EventsBasis


@pytest.mark.parametrize(
    ("printed", "n", "expected"),
    [
        # 82 % of 22: 17/22 = 77.27 %, 18/22 = 81.82 % (prints 82), 19/22 = 86.36 % → 18.
        ("82", 22, 18),
        # 50 % of 200: 99/200 = 49.5 %, 100/200 = 50 %, 101/200 = 50.5 % all print as 50 → none.
        ("50", 200, None),
        # 50.0 % of 200: the window is 49.95–50.05 %, and only 100/200 = 50.00 % lies in it.
        ("50.0", 200, 100),
        # 81.8 % of 22: 18/22 = 81.818 % → 18 (one decimal printed, window 81.75–81.85).
        ("81.8", 22, 18),
        # 33 % of 3: 1/3 = 33.33 % → 1.
        ("33", 3, 1),
        # 0 % of 40: 0/40 = 0 %, 1/40 = 2.5 % → 0 (a reported zero is a real count).
        ("0", 40, 0),
        # 100 % of 7: 7/7 → 7.
        ("100", 7, 7),
        # 45 % of 22: 10/22 = 45.45 % rounds to 45; 9/22 = 40.9 %, 11/22 = 50 % → 10.
        ("45", 22, 10),
        # 40 % of 22: 9/22 = 40.91 % prints 41, 8/22 = 36.36 % → no count prints 40 → none.
        ("40", 22, None),
        # 12.5 % of 8: 1/8 = 12.5 % exactly → 1.
        ("12.5", 8, 1),
        # 13 % of 8: 1/8 = 12.5 % sits on the 12.5–13.5 boundary; 2/8 = 25 % → 1 (either rounding).
        ("13", 8, 1),
        # n = 0: nothing to derive.
        ("0", 0, None),
        ("not a number", 10, None),
    ],
)
def test_hand_calculated_derivations(printed: str, n: int, expected: int | None) -> None:
    assert derive_events(printed, n) == expected


def test_decimals_are_read_as_printed() -> None:
    assert [decimals_printed(t) for t in ("82", "82.0", "81.82", "5")] == [0, 1, 2, 0]


@given(n=st.integers(min_value=1, max_value=400), data=st.data())
def test_a_derived_count_always_prints_back_to_the_percent(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    printed = f"{100 * k / n:.1f}"
    derived = derive_events(printed, n)
    # When a count is derived it must reproduce the printed figure; and the true k is among
    # the candidates, so a unique candidate is k itself.
    if derived is not None:
        assert derived == k


def test_event_bounds_are_every_count_that_prints_as_the_percent() -> None:
    # 74 % of 1343: 73.5 % × 1343 = 987.1 and 74.5 % × 1343 = 1000.5, so 988..1000 by hand.
    assert event_bounds("74", 1343) == (988, 1000)
    assert approximate_events("74", 1343) == 994  # round(0.74 × 1343) = round(993.82)
    # 50 % of 200: 99, 100 and 101 all print as 50 %.
    assert event_bounds("50", 200) == (99, 101)
    assert approximate_events("50", 200) == 100
    # A percentage no count can print as has no approximation either (1/3 = 33.3, 2/3 = 66.7).
    assert event_bounds("50", 3) is None
    assert approximate_events("50", 3) is None


def test_curated_landmark_rates_never_carry_derived_counts() -> None:
    evidence = load()
    for o in evidence.outcomes:
        if o.measure in LANDMARK_RATES or o.timepoint_months is not None:
            assert o.events_basis in (EventsBasis.reported, EventsBasis.none), o.ref


def test_uncertain_denominators_never_carry_derived_counts() -> None:
    evidence = load()
    uncertain = [o for o in evidence.outcomes if o.denominator_uncertain]
    assert uncertain  # the curated base flags some (JULIET toxicity, Landsburg, ...)
    for o in uncertain:
        assert o.events_basis in (EventsBasis.reported, EventsBasis.none), o.ref
