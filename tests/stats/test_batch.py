"""``rma_batch``: hand-computed estimators, row equality with ``rma``, masks and errors.

The metafor comparison (320 datasets, 1e-6) is in ``tests/oracle``; here FE and DL are
checked against formulas written out in the tests, and every other row against ``rma``
(every estimator × every test, the PFT back-transform with per-row study sizes).
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from postcart.errors import InputError
from postcart.stats import escalc
from postcart.stats.batch import rma_batch
from postcart.stats.inference import TESTS
from postcart.stats.rma import rma

METHODS = ("REML", "DL", "FE", "ML", "HE", "HS", "EB", "PM", "SJ")
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


def _assert_back_equals_rma(batch_row: object, single: object) -> None:
    ours, theirs = batch_row.back, single.back  # type: ignore[attr-defined]
    assert (ours.transform, ours.label) == (theirs.transform, theirs.label)
    for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mean"):
        a, b = getattr(ours, key), getattr(theirs, key)
        if math.isnan(b):
            assert math.isnan(a), key
        else:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), key


def test_t_and_adhoc_by_hand() -> None:
    """t keeps the Wald variance; adhoc floors the Knapp–Hartung factor s² at 1.

    The studies agree closely (s² < 1), so adhoc must equal t and knha must be narrower.
    """
    y = np.array([[0.30, 0.31, 0.29, 0.30]])
    v = np.array([[0.04, 0.09, 0.05, 0.02]])
    w = 1 / v[0]
    mean = float((w * y[0]).sum() / w.sum())
    s2 = float((w * (y[0] - mean) ** 2).sum()) / 3
    assert s2 < 1
    t_crit = stats.t.isf(0.025, 3)
    t_row = rma_batch(y, v, method="FE", test="t")[0]
    adhoc = rma_batch(y, v, method="FE", test="adhoc")[0]
    knha = rma_batch(y, v, method="FE", test="knha")[0]
    assert t_row.se == pytest.approx(1 / math.sqrt(w.sum()), rel=1e-13)
    assert t_row.df == 3
    assert t_row.ci_high - t_row.estimate == pytest.approx(t_crit * t_row.se, rel=1e-12)
    assert t_row.pval == pytest.approx(2 * stats.t.sf(mean * math.sqrt(w.sum()), 3), rel=1e-10)
    assert adhoc.se == pytest.approx(t_row.se, rel=1e-13)
    assert knha.se == pytest.approx(math.sqrt(s2 / w.sum()), rel=1e-12)
    assert (
        adhoc.warnings
        == knha.warnings
        == ("Knapp–Hartung is not meant for a common-effect (FE) model",)
    )
    assert t_row.warnings == ()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_every_row_equals_rma(method: str, test: str) -> None:
    rng = np.random.default_rng(7)
    m, width = 40, 12
    k = rng.integers(1, width + 1, m)
    k[:2] = (1, 2)  # metafor's k = 1 fallback to z, and the smallest t (1 df)
    mask = np.arange(width)[None, :] < k[:, None]
    v = rng.uniform(0.01, 0.4, (m, width))
    y = rng.normal(0.2, np.sqrt(v + rng.uniform(0, 0.3, (m, 1))))
    batch = rma_batch(y, v, mask, method=method, test=test, measure="PLO")
    for i in range(m):
        single = rma(y[i, mask[i]], v[i, mask[i]], method=method, test=test, measure="PLO")
        _assert_row_equals_rma(batch[i], single)
        assert batch[i].test == single.test
        assert batch[i].back.mean == pytest.approx(single.back.mean, rel=1e-10)


def _pft_batch(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ragged PFT rows with 0/n and n/n studies, a k = 1 row and sizes 5 to 1000 (some rows
    differ > 10-fold, so ``rma`` warns about the harmonic mean), plus rows of rare events
    whose pooled value can fall below the PFT of 0 at the harmonic-mean n."""
    rng = np.random.default_rng(seed)
    m, width = 30, 9
    k = rng.integers(1, width + 1, m)
    k[0] = 1
    mask = np.arange(width)[None, :] < k[:, None]
    ni = rng.choice([5, 12, 30, 80, 250, 1000], (m, width))
    p = np.where(np.arange(m)[:, None] % 3 == 0, 0.01, rng.uniform(0.02, 0.98, (m, 1)))
    xi = rng.binomial(ni, p)
    xi[1, 0], xi[2, 0] = 0, ni[2, 0]
    sizes = escalc("PFT", xi=xi.ravel(), ni=ni.ravel(), add=0)
    yi, vi = np.reshape(sizes.yi, (m, width)), np.reshape(sizes.vi, (m, width))
    return yi, vi, mask, ni.astype(np.float64)


@pytest.mark.parametrize("method", ["REML", "DL", "FE", "PM"])
@pytest.mark.parametrize("test", TESTS)
def test_pft_rows_equal_rma(method: str, test: str) -> None:
    yi, vi, mask, ni = _pft_batch(11)
    batch = rma_batch(yi, vi, mask, method=method, test=test, measure="PFT", ni=ni)
    warned = collections.Counter[str]()
    for i in range(len(yi)):
        single = rma(yi[i, mask[i]], vi[i, mask[i]], method=method, test=test,
                     measure="PFT", ni=ni[i, mask[i]])  # fmt: skip
        _assert_row_equals_rma(batch[i], single)
        _assert_back_equals_rma(batch[i], single)
        warned.update(kind for kind in ("lies outside", "-fold") for note in single.warnings
                      if kind in note)  # fmt: skip
    assert min(warned["lies outside"], warned["-fold"]) >= 2, (
        f"PFT warnings not exercised: {warned}"
    )


def test_pft_scattered_mask_uses_only_masked_sizes() -> None:
    """Sizes hidden by the mask (huge here, scattered among the studies) must not count."""
    yi, vi, mask, ni = _pft_batch(5)
    columns = np.broadcast_to(np.arange(yi.shape[1]), yi.shape)
    order = np.random.default_rng(2).permuted(columns, axis=1)
    yi, vi, mask, ni = (np.take_along_axis(a, order, axis=1) for a in (yi, vi, mask, ni))
    batch = rma_batch(yi, vi, mask, measure="PFT", ni=np.where(mask, ni, 1e9))
    for i in range(len(yi)):
        single = rma(yi[i, mask[i]], vi[i, mask[i]], test="knha", measure="PFT",
                     ni=ni[i, mask[i]])  # fmt: skip
        _assert_row_equals_rma(batch[i], single)
        _assert_back_equals_rma(batch[i], single)


@given(
    st.lists(
        st.lists(st.tuples(st.floats(-3, 3), st.floats(0.001, 2.0)), min_size=1, max_size=8),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["REML", "DL", "ML", "FE", "HE", "HS", "EB"]),
    st.sampled_from(TESTS),
)
def test_property_ragged_batch_equals_rma(
    analyses: list[list[tuple[float, float]]], method: str, test: str
) -> None:
    width = max(len(a) for a in analyses)
    y, v = np.zeros((len(analyses), width)), np.ones((len(analyses), width))
    mask = np.zeros((len(analyses), width), dtype=bool)
    for i, studies in enumerate(analyses):
        y[i, : len(studies)] = [s[0] for s in studies]
        v[i, : len(studies)] = [s[1] for s in studies]
        mask[i, : len(studies)] = True
    batch = rma_batch(y, v, mask, method=method, test=test)
    for i in range(len(analyses)):
        single = rma(y[i, mask[i]], v[i, mask[i]], method=method, test=test)
        _assert_row_equals_rma(batch[i], single)
        assert batch[i].test == single.test


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
        rma_batch([[0.1, 0.2]], [[0.1, 0.1]], measure="SMD")


def test_pft_needs_study_sizes() -> None:
    y, v = [[0.1, 0.2], [0.3, 0.2]], [[0.1, 0.1], [0.1, 0.2]]
    with pytest.raises(InputError, match=r"'PFT' needs the study sizes ni"):
        rma_batch(y, v, measure="PFT")
    with pytest.raises(InputError, match=r"ni has shape \(2, 3\), expected \(2, 2\)"):
        rma_batch(y, v, measure="PFT", ni=[[10, 20, 30], [10, 20, 30]])
    with pytest.raises(InputError, match=r"analysis 2, study 1, column 'ni'"):
        rma_batch(y, v, measure="PFT", ni=[[10, 20], [0, 20]])
    masked = rma_batch(y, v, [[True, True], [False, True]], measure="PFT",
                       ni=[[10, 20], [0, 20]])  # fmt: skip
    assert masked[1].k == 1


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
