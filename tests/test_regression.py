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


@pytest.mark.parametrize("strategy", ["replace", "accumulate"])
def test_simulation_matches_law(strategy):
    sim = R.simulate_regression(3000, 6, n_samples=30, n_features=5, noise=0.5, strategy=strategy, seed=3)
    z = sim.z_scores()
    assert np.all(np.abs(z) < 4.5), z
    assert sim.error.shape == (3000, 7)


def test_accumulate_under_bound_and_subsample_between():
    kw = dict(n_samples=30, n_features=5, seed=1)
    rep = R.simulate_regression(2000, 8, strategy="replace", **kw).mean()
    acc = R.simulate_regression(2000, 8, strategy="accumulate", **kw).mean()
    sub = R.simulate_regression(2000, 8, strategy="accumulate_subsample", **kw).mean()
    assert acc[-1] < R.accumulate_bound(5, 30)
    assert acc[-1] < sub[-1] < rep[-1]
    assert R.simulate_regression(10, 2, strategy="accumulate_subsample", **kw).law() is None


def test_reproducible_and_history():
    a = R.simulate_regression(20, 3, seed=5)
    b = R.simulate_regression(20, 3, seed=5)
    np.testing.assert_array_equal(a.error, b.error)
    h = a.to_history()
    assert list(h.columns) == ["generation", "seed", "metric", "value", "strategy"]
    assert len(h) == 20 * 4
    t = R.compare_regression(n_chains=50, generations=3, seed=0)
    assert set(t["strategy"]) == set(R.REGRESSION_STRATEGIES)
    assert t.loc[t.strategy == "accumulate_subsample", "law"].isna().all()


def test_plot_regression():
    import matplotlib.pyplot as plt

    t = R.compare_regression(("replace", "accumulate"), n_chains=50, generations=3)
    ax = R.plot_regression(t, bound=R.accumulate_bound(10, 50))
    assert "generation" in ax.get_xlabel()
    plt.close("all")


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_samples=10, n_features=9), "n_samples"),
    (dict(strategy="mix"), "strategy"),
    (dict(noise=0.0), "noise"),
    (dict(n_chains=0), "n_chains"),
    (dict(generations=0), "generations"),
    (dict(seed=-1), "seed"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        R.simulate_regression(**kwargs)


def test_bad_law_inputs():
    with pytest.raises(ValueError, match="generation"):
        R.replace_law(-1, 5, 30)
    with pytest.raises(ValueError, match="n_samples"):
        R.accumulate_bound(5, 6)
    with pytest.raises(TypeError, match="n_features"):
        R.ols_error_unit(2.5, 30)
