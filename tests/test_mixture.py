"""1-D Gaussian mixture: EM, loop protocol, minority tracking, explorer."""
import numpy as np
import pytest

from collapse_kit import mixture as X
from collapse_kit.loop import run_generations


def test_em_recovers_a_known_mixture():
    real = X.real_mixture(0.3)
    x = real.sample(4000, np.random.default_rng(0))
    w, mu, var = X.fit_gmm_batch(x, 2, rng=np.random.default_rng(1))
    np.testing.assert_allclose(w[0], [0.7, 0.3], atol=0.03)
    np.testing.assert_allclose(mu[0], [0.0, 4.0], atol=0.1)
    np.testing.assert_allclose(var[0], [1.0, 0.49], rtol=0.15)


def test_batch_em_equals_single_fits():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(3, 50)) + np.array([[0], [5], [-2]])
    w, mu, var = X.fit_gmm_batch(xs, 1)
    np.testing.assert_allclose(mu[:, 0], xs.mean(axis=1))
    np.testing.assert_allclose(var[:, 0], xs.var(axis=1))


@pytest.mark.parametrize("call, match", [
    (lambda: X.real_mixture(0.0), "minority_share"),
    (lambda: X.real_mixture(1.0), "minority_share"),
    (lambda: X.MixtureParams(np.array([0.5, 0.6]), np.zeros(2), np.ones(2)), "sum to 1"),
    (lambda: X.MixtureParams(np.array([0.5, 0.5]), np.zeros(2), np.array([1.0, -1.0])), "variances"),
    (lambda: X.MixtureParams(np.array([0.5, 0.5]), np.zeros(3), np.ones(2)), "same length"),
    (lambda: X.simulate_minority(0.1, sample_size=1), "sample_size"),
    (lambda: X.simulate_minority(0.1, strategy="mix"), "strategy"),
    (lambda: X.fit_gmm_batch(np.ones((2, 1))), "at least 2"),
    (lambda: X.prob_minority_absent(1.2, 10), "minority_share"),
])
def test_bad_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_loop_protocol_and_minority_share():
    real = X.real_mixture(0.2)
    data = real.sample(300, np.random.default_rng(0))
    assert X.minority_share(data, real) == pytest.approx(0.2, abs=0.06)
    hist = run_generations(lambda: X.GaussianMixture1D(2), data, generations=3,
                           metrics={"minority": lambda m, s: X.minority_share(s, real)}, seeds=[0, 1])
    assert len(hist) == 2 * 4 and hist["value"].between(0, 1).all()
    with pytest.raises(RuntimeError, match="fit"):
        X.GaussianMixture1D().sample(3, np.random.default_rng(0))


def test_minority_lost_under_replace_not_under_accumulate():
    kw = dict(sample_size=40, generations=25, n_chains=40, seed=0)
    rep = X.simulate_minority(0.1, strategy="replace", **kw)
    acc = X.simulate_minority(0.1, strategy="accumulate", **kw)
    assert rep.values().shape == (40, 26)
    assert rep.lost_fraction()[-1] > 0.3
    assert acc.lost_fraction()[-1] < rep.lost_fraction()[-1] - 0.2
    again = X.simulate_minority(0.1, strategy="replace", **kw)
    assert again.history.equals(rep.history)
    assert X.prob_minority_absent(0.1, 10) == pytest.approx(0.9**10)


def test_explorer_redraws_headlessly():
    from collapse_kit.widgets import figure_data

    ex = X.minority_explorer(n_chains=8, generations=5)
    n0, before = ex.n_draws, ex.last_result
    ex.controls["minority_share"].value = 0.3
    assert ex.n_draws == n0 + 1 and ex.last_result is not before
    assert ex.last_result.real.weights[1] == pytest.approx(0.3)
    ex.controls["strategy"].value = "accumulate"
    assert ex.last_result.strategy == "accumulate" and ex.figure is not None
    ex.controls["sample_size"].value = ex.controls["sample_size"].min  # extreme value: no crash
    ex.controls["minority_share"].value = ex.controls["minority_share"].min
    assert ex.last_error is None and len(figure_data(ex.figure)) > 0
