"""Cohen's kappa against a hand calculation."""

from __future__ import annotations

import pytest

from postcart.errors import InputError
from postcart.literature.kappa import cohen_kappa


def test_kappa_matches_hand_calculation() -> None:
    # 10 records. Pairs: (y,y) x4, (y,n) x2, (n,y) x1, (n,n) x3.
    # p_o = 7/10; A says yes 6/10, B says yes 5/10; p_e = .6*.5 + .4*.5 = .5; kappa = .2/.5 = .4
    first = ["y"] * 4 + ["y"] * 2 + ["n"] * 1 + ["n"] * 3
    second = ["y"] * 4 + ["n"] * 2 + ["y"] * 1 + ["n"] * 3
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_kappa_three_categories() -> None:
    # yes/maybe/no, 6 records: agree on 3 -> p_o = .5
    # A: y y m m n n ; B: y m m n n y -> A marginals 2/6 each, B 2/6 each -> p_e = 3 * (1/9) = 1/3
    # kappa = (1/2 - 1/3) / (2/3) = 0.25
    assert cohen_kappa(list("yymmnn"), list("ymmnny")) == pytest.approx(0.25)


def test_kappa_rejects_unpaired() -> None:
    with pytest.raises(InputError):
        cohen_kappa(["y"], [])
