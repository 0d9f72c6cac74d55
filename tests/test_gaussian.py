import numpy as np
import pytest
from scipy import stats

from collapse_kit import gaussian as G

CASES = [
    dict(strategy="replace"),
    dict(strategy="replace", estimator="unbiased"),
    dict(strategy="accumulate"),
    dict(strategy="real_fraction", real_fraction=0.3),
    dict(strategy="real_fraction", real_fraction=0.3, fresh_real=True),
    dict(strategy="replace", temperature=0.8),
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_exact_simulator_matches_naive_resample_and_refit(kw):
    """Two-sample KS test between the exact and naive simulators (fixed seeds: deterministic)."""
    exact = G.simulate_gaussian_chains(3000, 8, 10, seed=1, **kw)
    naive = G.simulate_gaussian_naive(3000, 8, 10, seed=2, **kw)
    for g in (0, 2, 8):
        assert stats.ks_2samp(exact.var[:, g], naive.var[:, g]).pvalue > 1e-3, g
        assert stats.ks_2samp(exact.mean[:, g], naive.mean[:, g]).pvalue > 1e-3, g


def test_the_distributional_test_can_fail():
    """Negative control: a simulator with the wrong χ² degrees of freedom is caught."""
    exact = G.simulate_gaussian_chains(3000, 8, 10, seed=1)
    naive = G.simulate_gaussian_naive(3000, 8, 10, seed=2)
    wrong = exact.var * (10 / 9) ** np.arange(9)  # what an unbiased refit would give
    assert stats.ks_2samp(wrong[:, 8], naive.var[:, 8]).pvalue < 1e-3


def test_closed_forms_agree_with_simulation():
    m, gens = 20, np.array([0, 4, 9])
    c = G.simulate_gaussian_chains(20000, 9, m, seed=3)
    se = c.var.std(axis=0) / np.sqrt(20000)
    assert np.all(np.abs(c.var.mean(axis=0)[gens] - G.expected_variance(gens, m)[...]) < 4 * se[gens])
    assert np.allclose(np.median(c.var, axis=0)[gens], G.median_variance(gens, m, "mle"), rtol=0.08)
    u = G.simulate_gaussian_chains(20000, 9, m, estimator="unbiased", seed=4)
    assert np.allclose(u.marginal_variance()[gens], G.marginal_variance_law(gens, m), rtol=0.06)
    w = G.simulate_gaussian_chains(20000, 19, 500, estimator="unbiased", seed=5)
    assert np.allclose(w.w2_squared().mean(axis=0)[[0, 19]], G.w2_first_order(np.array([0, 19]), 500), rtol=0.06)


def test_closed_form_values():
    assert G.expected_variance(0, 10) == pytest.approx(0.9)
    assert G.expected_variance(9, 10) == pytest.approx(0.9**10)
    assert G.expected_variance(9, 10, "unbiased") == 1.0
    assert G.marginal_variance_law(9, 10) == pytest.approx(2.0)
    assert G.w2_first_order(1, [10, 100]) == pytest.approx(1.5 * (0.1 + 0.01))
    with pytest.raises(ValueError, match="sample_size"):
        G.w2_first_order(2, [10, 100])


def test_same_seed_same_chains():
    a = G.simulate_gaussian_chains(50, 5, 10, seed=9, strategy="accumulate")
    b = G.simulate_gaussian_chains(50, 5, 10, seed=9, strategy="accumulate")
    np.testing.assert_array_equal(a.var, b.var)


def test_real_fraction_one_with_fixed_set_never_moves():
    c = G.simulate_gaussian_chains(5, 10, 8, strategy="real_fraction", real_fraction=1.0)
    assert np.allclose(c.var, c.var[:, :1]) and np.allclose(c.mean, c.mean[:, :1])


def test_extremes_do_not_produce_nan():
    c = G.simulate_gaussian_chains(100, 1000, 2, seed=0)
    assert np.all(np.isfinite(c.var)) and np.all(c.var >= 0)
    c = G.simulate_gaussian_chains(10, 50, 2, strategy="real_fraction", real_fraction=0.5)
    assert np.all(np.isfinite(c.var))


def test_history_format():
    h = G.simulate_gaussian_chains(4, 3, 10, seed=0).to_history()
    assert list(h.columns[:5]) == ["generation", "seed", "metric", "value", "strategy"]
    assert len(h) == 4 * 4 * 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_chains=0), "n_chains"),
    (dict(generations=0), "generations"),
    (dict(sample_size=1), "sample_size"),
    (dict(estimator="mom"), "estimator"),
    (dict(strategy="accumulate_subsample"), "strategy"),
    (dict(strategy="real_fraction", real_fraction=2.0), "real_fraction"),
    (dict(strategy="replace", real_fraction=0.5), "real_fraction"),
    (dict(temperature=0.0), "temperature"),
    (dict(sigma0=-1.0), "sigma0"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        G.simulate_gaussian_chains(**kwargs)


def test_model_validation():
    with pytest.raises(ValueError, match="estimator"):
        G.GaussianModel("median")
    with pytest.raises(ValueError, match="temperature"):
        G.GaussianModel(temperature=-1)
    with pytest.raises(RuntimeError, match="fit"):
        G.GaussianModel().sample(3, np.random.default_rng())
    with pytest.raises(ValueError, match="NaN"):
        G.GaussianModel().fit([1.0, np.inf])
