"""1-D Gaussian mixture: populations, batched EM, sampler, minority measures."""
import numpy as np
import pytest

from collapse_kit import mixture as X


def test_populations_are_valid_and_named():
    pop = X.population("rare_mode")
    assert pop.weights == (0.9, 0.1) and pop.minority == 1
    assert X.population("two_modes").minority == 1
    x = pop.sample(20000, np.random.default_rng(0))
    assert x.shape == (20000,) and abs(x.mean() - 0.4) < 0.05
    y = pop.sampler()(np.random.default_rng(0), 3, 7)
    assert y.shape == (3, 7)
    post = pop.posterior(np.array([[0.0, 4.0]]))
    assert post.shape == (1, 2, 2) and post[0, 0, 0] > 0.99 and post[0, 1, 1] > 0.99
    grid = np.linspace(-8, 12, 4001)
    assert abs(pop.pdf(grid).sum() * (grid[1] - grid[0]) - 1) < 1e-6


@pytest.mark.parametrize("call, match", [
    (lambda: X.population("dogs"), "name"),
    (lambda: X.MixtureParams((0.5, 0.6), (0, 0), (1, 1)), "weights"),
    (lambda: X.MixtureParams((0.5, 0.5), (0, 0), (1, -1)), "sds"),
    (lambda: X.MixtureParams((0.5, 0.5), (0, 0, 0), (1, 1)), "same length"),
    (lambda: X.GaussianMixtureModel(n_components=0), "n_components"),
    (lambda: X.GaussianMixtureModel(temperature=0), "temperature"),
    (lambda: X.GaussianMixtureModel().fit(np.ones((2, 1)), np.random.default_rng(0)), "n >= 2"),
    (lambda: X.GaussianMixtureModel().fit(np.ones(5), np.random.default_rng(0)), "dimension"),
    (lambda: X.prob_minority_absent(1.2, 10), "minority_share"),
    (lambda: X.population("rare_mode").sample(0, np.random.default_rng(0)), "`n`"),
])
def test_bad_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_batched_em_recovers_each_chains_mixture():
    rng = np.random.default_rng(0)
    pop = X.MixtureParams((0.7, 0.3), (0.0, 4.0), (1.0, 0.7))
    x = pop.sampler()(rng, 3, 4000) + np.array([[0.0], [10.0], [-5.0]])
    m = X.GaussianMixtureModel().fit(x, rng)
    assert m.weights_.shape == (3, 2)
    np.testing.assert_allclose(m.weights_, [[0.7, 0.3]] * 3, atol=0.03)
    np.testing.assert_allclose(m.means_ - np.array([[0.0], [10.0], [-5.0]]), [[0.0, 4.0]] * 3, atol=0.1)
    np.testing.assert_allclose(m.vars_, [[1.0, 0.49]] * 3, rtol=0.15)
    # one component is the Gaussian MLE; a chain's fit does not depend on the other chains
    one = X.GaussianMixtureModel(1).fit(x, rng)
    np.testing.assert_allclose(one.means_[:, 0], x.mean(axis=1))
    np.testing.assert_allclose(one.vars_[:, 0], x.var(axis=1))


def test_sample_and_temperature():
    rng = np.random.default_rng(1)
    pop = X.population("rare_mode")
    m = X.GaussianMixtureModel().fit(pop.sampler()(rng, 2, 3000), rng)
    s = m.sample(20000, rng)
    assert s.shape == (2, 20000)
    np.testing.assert_allclose(X.minority_share(s, pop), 0.1, atol=0.02)
    cold = X.GaussianMixtureModel(temperature=0.5)
    cold.weights_, cold.means_, cold.vars_ = m.weights_, m.means_, m.vars_
    assert cold.sample(20000, rng).std(axis=1).max() < s.std(axis=1).min()
    with pytest.raises(RuntimeError, match="fit"):
        X.GaussianMixtureModel().sample(3, rng)


def test_minority_measures():
    pop = X.population("rare_mode")
    rng = np.random.default_rng(2)
    data = pop.sampler()(rng, 40, 300)
    share = X.minority_share(data, pop)
    assert share.shape == (40,) and abs(share.mean() - 0.1) < 4 * np.sqrt(0.09 / 12000)
    m = X.GaussianMixtureModel().fit(data, rng)
    mass = X.minority_mass(m, pop)
    assert mass.shape == (40,) and abs(mass.mean() - 0.1) < 0.02
    no_minority = X.GaussianMixtureModel().fit(rng.standard_normal((5, 300)), rng)
    assert (X.minority_share(no_minority.sample(300, rng), pop) < 0.02).all()
    with pytest.raises(TypeError, match="population"):
        X.minority_share(data, "rare_mode")
    with pytest.raises(ValueError, match="fitted"):
        X.minority_mass(X.GaussianMixtureModel(), pop)
    assert X.prob_minority_absent(0.1, 10) == pytest.approx(0.9**10)


def test_explorer_redraws_headlessly():
    from collapse_kit.explorers import minority_explorer
    from collapse_kit.widgets import figure_data

    ex = minority_explorer(n_chains=6, generations=4)
    n0, before = ex.n_draws, ex.last_result
    ex.controls["minority_weight"].value = 0.3
    assert ex.n_draws == n0 + 1 and ex.last_result is not before
    assert ex.last_result["population"].weights[1] == pytest.approx(0.3)
    assert ex.controls["real_fraction"].disabled
    ex.controls["strategy"].value = "real fraction (fresh real data)"
    assert not ex.controls["real_fraction"].disabled
    ex.controls["real_fraction"].value = 0.5
    assert ex.last_result["strategy"].label == "real fraction 0.5 (fresh)"
    ex.controls["strategy"].value = "accumulate"
    assert ex.last_result["strategy"].label == "accumulate" and ex.figure is not None
    ex.controls["sample_size"].value = ex.controls["sample_size"].min  # extreme values: no crash
    ex.controls["minority_weight"].value = ex.controls["minority_weight"].min
    assert ex.last_error is None and len(figure_data(ex.figure)) > 0
