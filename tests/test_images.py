"""Digits with imbalance, the small VAE, the classifier judge, latent spread, the loop run."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from collapse_kit import images as I  # noqa: E402


def test_load_digits_imbalance():
    x, y = I.load_digits(1.0)
    assert x.shape == (1797, 64) and x.min() >= 0 and x.max() <= 1
    x2, y2 = I.load_digits(0.1, seed=1)
    counts = np.bincount(y2, minlength=10)
    assert counts[0] == np.bincount(y)[0] and counts[9] == round(0.1 * np.bincount(y)[9])
    assert np.all(np.diff(counts) <= 3)  # decreasing profile (up to the classes' own sizes)
    again = I.load_digits(0.1, seed=1)
    assert np.array_equal(again[0], x2)
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="imbalance"):
            I.load_digits(bad)


@pytest.mark.parametrize("kwargs, match", [
    (dict(latent_dim=0), "latent_dim"), (dict(epochs=0), "epochs"), (dict(lr=0.0), "lr"),
    (dict(likelihood="laplace"), "likelihood"), (dict(pixel_sd=-1.0), "pixel_sd"),
])
def test_vae_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I.DigitVAE(**kwargs)


def test_vae_fit_sample_reproducible_and_validated():
    x, _ = I.load_digits(0.3)
    x = x[:200]
    a = I.DigitVAE(epochs=3, device="cpu").fit(x, np.random.default_rng(0))
    b = I.DigitVAE(epochs=3, device="cpu").fit(x, np.random.default_rng(0))
    sa, sb = a.sample(16, np.random.default_rng(5)), b.sample(16, np.random.default_rng(5))
    assert sa.shape == (16, 64) and np.array_equal(sa, sb)
    assert sa.min() >= 0 and sa.max() <= 1
    assert a.losses_[-1] < a.losses_[0]
    assert a.encode(x[:10]).shape == (10, 8)
    with pytest.raises(ValueError, match="64 pixels"):
        I.DigitVAE(epochs=1).fit(np.zeros((5, 10)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        I.DigitVAE(epochs=1).fit(x * 16, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="fit"):
        I.DigitVAE().sample(3, np.random.default_rng(0))
    noisy = I.DigitVAE(epochs=1, pixel_noise=True, device="cpu").fit(x, np.random.default_rng(0))
    assert set(np.unique(noisy.sample(8, np.random.default_rng(0)))) <= {0.0, 1.0}


def test_classifier_and_shares():
    clf = I.train_classifier()
    assert clf.holdout_accuracy_ > 0.93
    x, y = I.load_digits(0.2)
    shares = I.class_shares(x, clf)
    np.testing.assert_allclose(shares, np.bincount(y, minlength=10) / len(y), atol=0.03)
    grey = np.full((20, 64), 0.3)
    assert I.class_shares(grey, clf, min_confidence=0.99).sum() == 0.0
    with pytest.raises(ValueError, match="min_confidence"):
        I.class_shares(x, clf, min_confidence=2)


def test_latent_spread_definition():
    x, _ = I.load_digits(0.3)
    vae = I.DigitVAE(epochs=2, device="cpu").fit(x[:150], np.random.default_rng(0))
    mu = vae.encode(x[:100])
    assert I.latent_spread(x[:100], vae) == pytest.approx(float(mu.std(axis=0).mean()), rel=1e-6)
    assert I.latent_spread(np.repeat(x[:1], 5, axis=0), vae) == pytest.approx(0.0, abs=1e-6)
    assert I.pixel_sharpness(np.zeros((2, 64))) == 1.0 and I.pixel_sharpness(np.full((2, 64), 0.5)) == 0.0


def test_run_digit_generations_tidy_history_and_grid():
    x, _ = I.load_digits(0.3)
    run = I.run_digit_generations(x[:120], generations=2, epochs=2, seeds=[0, 1], keep_samples=6, device="cpu")
    h = run.history
    assert set(h.columns) >= {"generation", "seed", "metric", "value", "strategy"}
    assert {"share.0", "share.9", "unrecognised", "minority_share", "latent_spread", "sharpness"} <= set(h.metric)
    assert len(h[(h.metric == "latent_spread")]) == 2 * 3
    tab = run.shares()
    assert tab.shape == (3, 10)
    np.testing.assert_allclose(tab.sum(axis=1) + run.metric("unrecognised"), 1.0)
    assert run.samples[1][2].shape == (6, 64)
    ax = I.image_grid(run.samples[0][0], n_cols=3, title="g0")
    assert ax.get_title() == "g0"
    with pytest.raises(ValueError, match="epochs"):
        I.run_digit_generations(x[:50], generations=1, epochs=0)


def test_imbalance_explorer():
    ex = I.imbalance_explorer()
    assert ex.last_result[9] < ex.last_result[0]
    n0 = ex.n_draws
    ex.controls["imbalance"].value = 1.0
    assert ex.n_draws == n0 + 1 and ex.last_result.min() > 150
    ex.controls["imbalance"].value = ex.controls["imbalance"].min
    assert ex.last_error is None and ex.last_result.min() >= 1
