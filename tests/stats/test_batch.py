"""``rma_batch``: hand-computed estimators, row equality with ``rma``, masks and errors.

The metafor comparison (320 datasets, 1e-6) is in ``tests/oracle``; here FE and DL are
checked against formulas written out in the tests, and every other row against ``rma``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from postcart.errors import InputError
from postcart.stats.batch import rma_batch
from postcart.stats.rma import rma

ROW_KEYS = ("estimate", "se", "pval", "ci_low", "ci_high", "pi_low", "pi_high", "tau2",
            "se_tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_p", "df",
            "i2_ci_low", "i2_ci_high")  # fmt: skip


def _assert_row_equals_rma(batch_row: object, single: object) -> None:
    for key in ROW_KEYS:
        a, b = getattr(batch_row, key), getattr(single, key)
        if isinstance(b, float) and math.isnan(b):
            assert math.isnan(a), key
        else:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), key
    assert batch_row.k == single.k  # type: ignore[attr-defined]
    assert batch_row.status == single.status  # type: ignore[attr-defined]
    assert batch_row.warnings == single.warnings  # type: ignore[attr-defined]
    np.testing.assert_allclose(batch_row.weights, single.weights, rtol=1e-12)  # type: ignore[attr-defined]


def test_common_effect_and_dl_by_hand() -> None:
    y = np.array([[0.1, 0.5, -0.2, 0.4]])
    v = np.array([[0.04, 0.09, 0.05, 0.02]])
    w = 1 / v[0]
    mean_fe = float((w * y[0]).sum() / w.sum())
    q = float((w * (y[0] - mean_fe) ** 2).sum())
    tau2_dl = max(0.0, (q - 3) / (w.sum() - (w**2).sum() / w.sum()))
    fe = rma_batch(y, v, method="FE", test="z")[0]
    assert fe.estimate == pytest.approx(mean_fe, rel=1e-13)
    assert fe.se == pytest.approx(1 / math.sqrt(w.sum()), rel=1e-13)
    assert fe.q == pytest.approx(q, rel=1e-13)
    assert fe.q_p == pytest.approx(stats.chi2.sf(q, 3), rel=1e-12)
    dl = rma_batch(y, v, method="DL", test="knha")[0]
    w_re = 1 / (v[0] + tau2_dl)
    mean_re = float((w_re * y[0]).sum() / w_re.sum())
    s2 = float((w_re * (y[0] - mean_re) ** 2).sum()) / 3
    assert dl.tau2 == pytest.approx(tau2_dl, rel=1e-12)
    assert dl.estimate == pytest.approx(mean_re, rel=1e-12)
    assert dl.se == pytest.approx(math.sqrt(s2 / w_re.sum()), rel=1e-12)
    assert dl.ci_high - dl.estimate == pytest.approx(stats.t.isf(0.025, 3) * dl.se, rel=1e-12)


@pytest.mark.parametrize("method", ["REML", "DL", "FE", "ML", "HE", "HS", "EB", "PM", "SJ"])
@pytest.mark.parametrize("test", ["knha", "z"])
def test_every_row_equals_rma(method: str, test: str) -> None:
    rng = np.random.default_rng(7)
    m, width = 40, 12
    k = rng.integers(1, width + 1, m)
    mask = np.arange(width)[None, :] < k[:, None]
    v = rng.uniform(0.01, 0.4, (m, width))
    y = rng.normal(0.2, np.sqrt(v + rng.uniform(0, 0.3, (m, 1))))
    batch = rma_batch(y, v, mask, method=method, test=test, measure="PLO")
    for i in range(m):
        single = rma(y[i, mask[i]], v[i, mask[i]], method=method, test=test, measure="PLO")
        _assert_row_equals_rma(batch[i], single)
        assert batch[i].back.mean == pytest.approx(single.back.mean, rel=1e-10)


def test_scattered_mask_keeps_weights_in_their_columns() -> None:
    y = np.array([[0.3, 9.0, 0.1, 0.6], [0.0, 0.2, -0.1, 9.0]])
    v = np.array([[0.05, 1.0, 0.1, 0.2], [0.3, 0.05, 0.1, 1.0]])
    mask = np.array([[True, False, True, True], [True, True, True, False]])
    batch = rma_batch(y, v, mask)
    assert np.isnan(batch.weights[0, 1])
    assert np.isnan(batch.weights[1, 3])
    np.testing.assert_allclose(np.nansum(batch.weights, axis=1), 100.0)
    single = rma(y[0, mask[0]], v[0, mask[0]], test="knha")
    np.testing.assert_allclose(batch.weights[0, mask[0]], single.weights, rtol=1e-12)
    assert len(batch.to_frame()) == 2


def test_bad_input_names_analysis_and_study() -> None:
    with pytest.raises(InputError, match=r"analysis 2, study 3, column 'vi'"):
        rma_batch([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]], [[0.1, 0.1, 0.1], [0.1, 0.1, 0.0]])
    with pytest.raises(InputError, match="2-D"):
        rma_batch([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(InputError, match="no studies"):
        rma_batch([[0.1, 0.2]], [[0.1, 0.1]], [[False, False]])
    with pytest.raises(InputError, match="measure"):
        rma_batch([[0.1, 0.2]], [[0.1, 0.1]], measure="PFT")


@given(
    st.lists(st.tuples(st.floats(-3, 3), st.floats(0.001, 2.0)), min_size=2, max_size=15),
    st.sampled_from(["REML", "DL", "ML"]),
)
def test_property_single_row_batch_equals_rma(
    studies: list[tuple[float, float]], method: str
) -> None:
    y = np.array([[s[0] for s in studies]])
    v = np.array([[s[1] for s in studies]])
    _assert_row_equals_rma(rma_batch(y, v, method=method)[0],
                           rma(y[0], v[0], method=method, test="knha"))  # fmt: skip
