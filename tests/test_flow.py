"""The neural flow of lesson 08: gradient, fit, inverse, temperature, metrics and validation."""
import numpy as np
import pytest

from collapse_kit import flow as FL
from collapse_kit import mixture as X

POP = X.population("two_modes")


def test_gradient_matches_finite_differences():
    m = FL.FlowModel(n_units=3)
    rng = np.random.default_rng(0)
    theta, u = rng.standard_normal((2, 11)), rng.standard_normal((2, 50))
    loss, grad = m.loss_and_grad(theta, u)
    num = np.zeros_like(theta)
    for i in range(theta.shape[1]):
        e = np.zeros_like(theta)
        e[:, i] = 1e-6
        num[:, i] = (m.loss_and_grad(theta + e, u)[0] - m.loss_and_grad(theta - e, u)[0]) / 2e-6
    np.testing.assert_allclose(grad, num, atol=1e-7)
    assert loss.shape == (2,)


def test_generation_zero_learns_both_modes():
    x = POP.sampler()(np.random.default_rng(0), 16, 300)
    flow = FL.FlowModel().fit(x, np.random.default_rng(1))
    test = POP.sampler()(np.random.default_rng(2), 16, 4000)
    kl = (np.log(POP.pdf(test)) - flow.log_density(test)).mean(axis=1)
    assert kl.mean() < POP.best_gaussian_kl() / 2   # ~0.02 nats against 0.108 for the best single Gaussian
    xs = POP.sample(200_000, np.random.default_rng(3))
    np.testing.assert_allclose(POP.variance, xs.var(), rtol=0.02)
    np.testing.assert_allclose(POP.best_gaussian_kl(), np.mean(np.log(POP.pdf(xs)) + 0.5 * np.log(2 * np.pi * xs.var())
                                                              + (xs - xs.mean()) ** 2 / (2 * xs.var())), atol=0.01)
    # the density integrates to 1 (exact change of variables)
    grid = np.linspace(-8, 8, 20001)
    dens = np.exp(flow.log_density(np.broadcast_to(grid, (16, grid.size))))
    np.testing.assert_allclose(dens.sum(axis=1) * (grid[1] - grid[0]), 1.0, atol=2e-3)


def test_sample_inverts_the_flow_and_temperature_scales_z():
    x = POP.sampler()(np.random.default_rng(0), 3, 300)
    flow = FL.FlowModel(temperature=0.7).fit(x, np.random.default_rng(1))
    s = flow.sample(5000, np.random.default_rng(2))
    p = flow.params_
    g, _ = flow._g((s - p["m"][:, None]) / p["s"][:, None], p["a"], p["b"], p["c"], p["w"], p["d"])
    np.testing.assert_allclose(g, 0.7 * np.random.default_rng(2).standard_normal((3, 5000)), atol=1e-9)
    warm = flow.at_temperature(1.0)
    assert warm.temperature == 1.0 and flow.temperature == 0.7 and warm.params_ is flow.params_
    assert np.all(warm.sample(5000, np.random.default_rng(2)).var(axis=1) > s.var(axis=1))


def test_fit_is_reproducible_and_chains_are_independent():
    rng = np.random.default_rng(0)
    x = POP.sampler()(rng, 2, 100)
    y = x.copy()
    y[1] = POP.sampler()(rng, 1, 100)[0]
    a = FL.FlowModel(steps=50).fit(x, np.random.default_rng(5))
    b = FL.FlowModel(steps=50).fit(x, np.random.default_rng(5))
    c = FL.FlowModel(steps=50).fit(y, np.random.default_rng(5))
    np.testing.assert_array_equal(a.sample(10, np.random.default_rng(1)), b.sample(10, np.random.default_rng(1)))
    np.testing.assert_array_equal(a.theta_[0], c.theta_[0])   # chain 1's data changed: chain 0 did not move
    assert not np.array_equal(a.theta_[1], c.theta_[1])
    big = POP.sampler()(rng, 2, 2000)                           # larger than a mini-batch: still reproducible
    np.testing.assert_array_equal(FL.FlowModel(steps=20).fit(big, np.random.default_rng(5)).theta_,
                                  FL.FlowModel(steps=20).fit(big, np.random.default_rng(5)).theta_)


def test_loop_metrics_definitions():
    from collapse_kit.loop import run_generations

    h = run_generations(FL.FlowModel, real_sampler=POP.sampler(), sample_size=300, generations=1, n_chains=8,
                        metrics=FL.loop_metrics(POP, n_eval=4000), seeds=0)
    v = h[(h.metric == "variance / real variance") & (h.generation == 0)]["value"]
    kl = h[(h.metric == "KL(real ‖ model)") & (h.generation == 0)]["value"]
    assert abs(v.mean() - 1) < 0.15 and 0 < kl.mean() < 0.06
    with pytest.raises(ValueError, match="n_eval"):
        FL.loop_metrics(POP, n_eval=1)


@pytest.mark.parametrize("kwargs, match", [(dict(n_units=0), "n_units"), (dict(steps=0), "steps"),
                                           (dict(lr=0), "lr"), (dict(temperature=0), "temperature"),
                                           (dict(batch_size=1), "batch_size")])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FL.FlowModel(**kwargs)


def test_bad_data_and_unfitted():
    with pytest.raises(ValueError, match="n_chains"):
        FL.FlowModel().fit(np.zeros(10), np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite"):
        FL.FlowModel().fit(np.array([[0.0, np.nan, 1.0]]), np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        FL.FlowModel().fit(np.zeros((1, 5)), 0)
    with pytest.raises(RuntimeError, match="fit"):
        FL.FlowModel().sample(3, np.random.default_rng(0))
    flow = FL.FlowModel(steps=5).fit(np.random.default_rng(0).standard_normal((2, 20)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        flow.log_density(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="temperature"):
        flow.at_temperature(-1)


def test_memory_guard_refuses_before_allocating(monkeypatch):
    flow = FL.FlowModel(steps=5).fit(np.random.default_rng(0).standard_normal((2, 20)), np.random.default_rng(0))
    monkeypatch.setenv("COLLAPSE_KIT_MEMORY_GB", "0.001")
    with pytest.raises(ValueError, match=r"`n` = 100,000 items for 2 chains.*use `n` <= "):
        flow.sample(100_000, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        FL.FlowModel(steps=1).fit(np.zeros((2000, 600)) + np.arange(600), np.random.default_rng(0))
