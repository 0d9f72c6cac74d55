import numpy as np
import pytest

from collapse_kit import regression as R


def test_laws_values():
    unit = R.ols_error_unit(10, 50, noise=2.0)
    assert unit == pytest.approx(4 * 10 / 39)
    assert R.replace_law([0, 1, 4], 10, 50, 2.0) == pytest.approx(unit * np.array([1, 2, 5]))
    acc = R.accumulate_law(np.arange(200), 10, 50, 2.0)
    assert acc[0] == pytest.approx(unit)
    assert acc[1] == pytest.approx(unit * 1.25)
    assert np.all(np.diff(acc) > 0) and np.all(acc < R.accumulate_bound(10, 50, 2.0))
    assert acc[-1] == pytest.approx(R.accumulate_bound(10, 50, 2.0), rel=0.01)


def test_model_fits_exactly_and_relabels_the_design():
    p = R.linear_problem(3, n_samples=8, n_features=2, noise=0.5, seed=1)
    x = p.design
    w = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    data = np.concatenate([x, np.einsum("ctd,cd->ct", x, w)[..., None]], axis=2)
    m = p.make_model().fit(data)
    np.testing.assert_allclose(m.w_, w, atol=1e-10)  # noiseless labels: least squares recovers w
    rng = np.random.default_rng(0)
    s = m.sample(8, rng)
    assert s.shape == (3, 8, 3)
    np.testing.assert_array_equal(s[..., :2], x)  # n = T: the design once, in order
    assert np.abs(s[..., 2] - np.einsum("ctd,cd->ct", x, w)).std() == pytest.approx(0.5, rel=0.5)
    s2 = m.sample(19, rng)  # 2 copies + 3 distinct random rows
    np.testing.assert_array_equal(s2[:, :16, :2], np.concatenate([x, x], axis=1))
    for c in range(3):
        extra = s2[c, 16:, :2]
        assert len({tuple(r) for r in extra}) == 3 and all((x[c] == r).all(1).any() for r in extra)
    with pytest.raises(RuntimeError, match="fit"):
        p.make_model().sample(2, rng)
    with pytest.raises(ValueError, match="data"):
        p.make_model().fit(data[..., :2])


def test_law_table_and_history():
    h = R.compare_regression(n_chains=200, generations=3, n_samples=20, n_features=4, seed=0)
    assert set(h["metric"].astype(str)) == {"test error"}
    assert h["chain"].max() == 199 and (h["seed"] == 0).all()
    t = R.law_table(h)
    assert t.loc[t.strategy == "accumulate-subsample", "law"].isna().all()
    assert t.loc[t.strategy == "replace", "law"].notna().all()
    assert (t["sem"] > 0).all() and (t["count"] == 200).all()
    with pytest.raises(ValueError, match="compare_regression"):
        R.law_table(h.drop(columns="T"))


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_samples=10, n_features=9), "n_samples"),
    (dict(noise=0.0), "noise"),
    (dict(n_chains=0), "n_chains"),
    (dict(seed=-1), "seed"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        R.linear_problem(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="generation"):
        R.replace_law(-1, 5, 30)
    with pytest.raises(ValueError, match="n_samples"):
        R.accumulate_bound(5, 6)
    with pytest.raises(TypeError, match="n_features"):
        R.ols_error_unit(2.5, 30)
    with pytest.raises(ValueError, match="design"):
        R.RegressionModel(np.zeros((2, 3)))
    p = R.linear_problem(4, n_samples=10, n_features=2)
    with pytest.raises(ValueError, match="n_chains"):
        p.real_sampler(np.random.default_rng(0), 5, 10)
