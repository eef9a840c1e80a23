"""Quote checks: figures written in the quote, and verbatim occurrence up to typography."""

from __future__ import annotations

from decimal import Decimal

import pytest

from postcart.evidence.quotes import figures_in, mentions_figure, occurs_in


def test_figures_are_read_with_typography_normalised() -> None:
    text = "ORR 82\u2009% (n\u00a0=\u00a01,200); median 4·5 months; 30%–60%"
    assert figures_in(text) == [Decimal(x) for x in ("82", "1200", "4.5", "30", "60")]


@pytest.mark.parametrize(
    ("quote", "figure", "percent", "expected"),
    [
        ("an ORR of 82%", 82.0, True, True),
        ("an ORR of 82 %", 82.0, True, True),
        ("an ORR of 82.0%", 82.0, True, True),
        ("an ORR of 28%", 82.0, True, False),
        ("an ORR of 821 patients", 82.0, True, False),
        ("median OS 5.3 months", 5.3, False, True),
        ("median OS 5.3 months", 5.0, False, False),
        ("seven patients responded", 7.0, False, True),
        ("had an ORR of 71% but had no CR", 0.0, True, True),
        ("had no CR", 0.0, False, False),  # "no" means 0 only on a percentage scale
        ("all participants experienced CRS", 100.0, True, True),
    ],
)
def test_mentions_figure(quote: str, figure: float, percent: bool, expected: bool) -> None:
    assert mentions_figure(quote, figure, percent=percent) is expected


def test_occurs_in_ignores_spacing_and_quote_marks_only() -> None:
    text = "The  ORR was\n82\u2009% in the “real world”."
    assert occurs_in('ORR was 82% in the "real world"', text)
    assert not occurs_in("ORR was 83% in the", text)
