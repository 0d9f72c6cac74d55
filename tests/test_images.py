"""Digits (imbalance, reservoir), the batched VAE, the judge, the metrics, the figure and the explorer."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from collapse_kit import images as I  # noqa: E402
from collapse_kit.loop import run_generations  # noqa: E402

TINY = dict(epochs=2, hidden=16, latent_dim=3, prior_components=3, device="cpu")


def test_load_digits_parts_and_imbalance():
    x_all, y_all = I.load_digits(part="all")
    assert x_all.shape == (1797, 64) and x_all.min() >= 0 and x_all.max() <= 1
    xp, yp = I.load_digits(part="pool")
    xr, yr = I.load_digits(part="reservoir")
    assert len(xp) + len(xr) == 1797
    np.testing.assert_allclose(np.bincount(yr) / np.bincount(y_all), 0.25, atol=0.01)
    x, y = I.load_digits(0.1, seed=1)
    pool = np.bincount(I.load_digits(part="pool", seed=1)[1])
    counts = np.bincount(y, minlength=10)
    assert counts[0] == pool[0] and counts[9] == round(0.1 * pool[9])
    assert np.array_equal(I.load_digits(0.1, seed=1)[0], x)
    assert not np.array_equal(I.load_digits(0.1, seed=2)[0][:50], x[:50])
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="imbalance"):
            I.load_digits(bad)
    with pytest.raises(ValueError, match="part"):
        I.load_digits(part="test")


def test_training_set_and_reservoir_are_disjoint():
    _, _ = I.load_digits(0.1)
    train = {bytes(r) for r in I.load_digits(1.0, part="pool")[0]}
    held = [bytes(r) for r in I.load_digits(1.0, part="reservoir")[0]]
    # the 8x8 digits contain a few exact duplicates; nearly all reservoir images are unseen
    assert np.mean([h in train for h in held]) < 0.02


def test_reservoir_sampler_follows_the_real_class_shares():
    draw = I.reservoir_sampler(0.1, seed=0)
    a = draw(np.random.default_rng(0), 2, 3000)
    assert a.shape == (2, 3000, 64) and a.dtype == np.float32
    np.testing.assert_array_equal(a, draw(np.random.default_rng(0), 2, 3000))
    judge = I.train_classifier()
    shares = I.class_shares(a[0], judge, min_confidence=0.0)
    w = I.class_fractions(0.1) / I.class_fractions(0.1).sum()
    np.testing.assert_allclose(shares, w, atol=0.02)
    reservoir = {bytes(r) for r in I.load_digits(0.1, part="reservoir")[0]}
    assert all(bytes(r) in reservoir for r in a[1, :200])


@pytest.mark.parametrize("kwargs, match", [
    (dict(latent_dim=0), "latent_dim"), (dict(epochs=0), "epochs"), (dict(lr=0.0), "lr"),
    (dict(warmup=1.5), "warmup"), (dict(beta=0.0), "beta"), (dict(prior_components=-1), "prior_components"),
    (dict(hidden=2), "hidden"), (dict(batch_size=0), "batch_size"),
])
def test_vae_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I.DigitVAE(**kwargs)


def test_vae_batched_fit_sample_reproducible_and_validated():
    x, _ = I.load_digits(0.3)
    data = np.stack([x[:120], x[120:240]])
    a = I.DigitVAE(**dict(TINY, epochs=4)).fit(data, np.random.default_rng(0))
    b = I.DigitVAE(**dict(TINY, epochs=4)).fit(data, np.random.default_rng(0))
    sa, sb = a.sample(16, np.random.default_rng(5)), b.sample(16, np.random.default_rng(5))
    assert sa.shape == (2, 16, 64) and np.array_equal(sa, sb)
    assert sa.min() >= 0 and sa.max() <= 1
    assert not np.array_equal(sa[0], sa[1])  # one network per chain
    assert all(l[-1] < l[0] for l in a.losses_)
    assert a.encode(data[:, :10]).shape == (2, 10, 3)
    with pytest.raises(ValueError, match="n_chains"):
        I.DigitVAE(**TINY).fit(np.zeros((5, 64)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        I.DigitVAE(**TINY).fit(data * 16, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        I.DigitVAE(**TINY).fit(data, 0)
    with pytest.raises(RuntimeError, match="fit"):
        I.DigitVAE(**TINY).sample(3, np.random.default_rng(0))
    np.testing.assert_allclose(a.encode(data[:1, :10]), a.encode(np.stack([data[0, :10]] * 2)))  # one set, every encoder
    with pytest.raises(ValueError, match="images"):
        a.encode(np.stack([data[0]] * 3))


def test_chains_train_independently_in_the_batched_network():
    # same random numbers, chain 1's data changed: chain 0's network, losses and samples do not move
    x, _ = I.load_digits(0.3)
    a = I.DigitVAE(**dict(TINY, epochs=3)).fit(np.stack([x[:100], x[100:200]]), np.random.default_rng(4))
    b = I.DigitVAE(**dict(TINY, epochs=3)).fit(np.stack([x[:100], x[300:400]]), np.random.default_rng(4))
    np.testing.assert_allclose(a.losses_[0], b.losses_[0], rtol=1e-6)
    assert not np.allclose(a.losses_[1], b.losses_[1])
    np.testing.assert_allclose(a.encode(np.stack([x[:20]] * 2))[0], b.encode(np.stack([x[:20]] * 2))[0], atol=1e-6)


def test_temperature_sharpens_the_latent_mixture():
    x, _ = I.load_digits(0.3)
    hot = I.DigitVAE(**dict(TINY, epochs=2)).fit(x[None, :100], np.random.default_rng(1))
    cold = I.DigitVAE(**dict(TINY, epochs=2, temperature=0.5)).fit(x[None, :100], np.random.default_rng(1))
    prior = (np.array([0.8, 0.2]), np.array([[-50.0, 0, 0], [50.0, 0, 0]]), np.stack([np.eye(3)] * 2))
    hot.priors_ = cold.priors_ = [prior]           # two far-apart components, weights 0.8 and 0.2
    z_hot, z_cold = (m.sample_latents(40000, np.random.default_rng(2))[0] for m in (hot, cold))
    # component weights 0.8 : 0.2 become 0.8² : 0.2² at temperature 0.5 (= 0.941 : 0.059); spreads halve
    np.testing.assert_allclose((z_hot[:, 0] < 0).mean(), 0.8, atol=0.01)
    np.testing.assert_allclose((z_cold[:, 0] < 0).mean(), 0.64 / 0.68, atol=0.01)
    np.testing.assert_allclose(z_hot[:, 1:].std(), 1.0, atol=0.02)
    np.testing.assert_allclose(z_cold[:, 1:].std(), 0.5, atol=0.01)
    assert "temperature" in cold.settings() and "temperature" not in hot.settings()  # old cache names unchanged
    with pytest.raises(ValueError, match="temperature"):
        I.DigitVAE(temperature=0)


def test_reference_spread_and_class_distance():
    x, y = I.load_digits(1.0, part="all")
    one_digit = x[y == 3][None, :100]
    assert I.reference_spread(x[None, :500])[0] > 1.3 * I.reference_spread(one_digit)[0]
    np.testing.assert_allclose(I.reference_spread(np.repeat(x[None, :1], 4, axis=1)), 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        I.reference_spread(x[None, :1])
    a = np.full(10, 0.1)
    assert I.class_distance(a, a) == 0.0
    b = np.zeros(10); b[0] = 0.5                    # half digit 0, half unrecognised
    np.testing.assert_allclose(I.class_distance(b, a), 0.5 * (0.4 + 0.1 * 9 + 0.5))
    np.testing.assert_allclose(I.class_distance(np.stack([a, b]), a), [0.0, 0.9])
    with pytest.raises(ValueError, match="10 class shares"):
        I.class_distance(a[:9], a)


def test_prior_sampler_matches_the_encoded_training_images():
    x, _ = I.load_digits(0.3)
    vae = I.DigitVAE(**dict(TINY, epochs=5, prior_components=4)).fit(x[None, :300], np.random.default_rng(1))
    mu = vae.encode(x[None, :300])[0]
    z = vae.sample_latents(4000, np.random.default_rng(2))[0]
    np.testing.assert_allclose(z.mean(axis=0), mu.mean(axis=0), atol=0.1 * mu.std(axis=0).max() + 0.02)
    plain = I.DigitVAE(**dict(TINY, prior_components=0)).fit(x[None, :100], np.random.default_rng(1))
    zp = plain.sample_latents(4000, np.random.default_rng(2))[0]
    np.testing.assert_allclose(zp.std(axis=0), 1.0, atol=0.05)


def test_save_load_roundtrip(tmp_path):
    x, _ = I.load_digits(0.3)
    vae = I.DigitVAE(**TINY).fit(np.stack([x[:80], x[80:160]]), np.random.default_rng(0))
    vae.save(tmp_path / "m")
    back = I.DigitVAE(**TINY).load(tmp_path / "m")
    np.testing.assert_array_equal(vae.sample(8, np.random.default_rng(3)), back.sample(8, np.random.default_rng(3)))
    with pytest.raises(ValueError, match="settings"):
        I.DigitVAE(**dict(TINY, epochs=3)).load(tmp_path / "m")


def test_classifier_and_shares():
    clf = I.train_classifier()
    assert clf.holdout_accuracy_ > 0.93 and 0.9 < clf.holdout_recognised_ <= 1
    x, y = I.load_digits(0.2)
    shares = I.class_shares(x, clf, min_confidence=0.0)
    np.testing.assert_allclose(shares, np.bincount(y, minlength=10) / len(y), atol=0.03)
    grey = np.full((20, 64), 0.3)
    assert I.class_shares(grey, clf, min_confidence=0.99).sum() == 0.0
    with pytest.raises(ValueError, match="min_confidence"):
        I.class_shares(x, clf, min_confidence=2)


def test_latent_spread_and_sharpness_definitions():
    x, _ = I.load_digits(0.3)
    vae = I.DigitVAE(**TINY).fit(np.stack([x[:100], x[100:200]]), np.random.default_rng(0))
    imgs = np.stack([x[:50], x[50:100]])
    mu = vae.encode(imgs)
    np.testing.assert_allclose(I.latent_spread(imgs, vae), mu.std(axis=1).mean(axis=1), rtol=1e-6)
    same = np.repeat(x[None, :1], 5, axis=1).repeat(2, axis=0)
    np.testing.assert_allclose(I.latent_spread(same, vae), 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        I.latent_spread(imgs[:, :1], vae)
    assert I.pixel_sharpness(np.zeros((1, 2, 64))) == 1.0 and I.pixel_sharpness(np.full((1, 2, 64), 0.5)) == 0.0


def test_digit_metrics_on_the_loop_context():
    x, _ = I.load_digits(0.3)
    judge = I.train_classifier()

    def run(n_eval):
        seen = {}
        h = run_generations(lambda: I.DigitVAE(**TINY), x[:80], generations=1, n_chains=2,
                            metrics={"": I.digit_metrics(judge, minority=(8, 9), n_eval=n_eval)},
                            on_generation=lambda ctx: seen.setdefault(ctx.generation, ctx))
        return h, seen[1]

    h, ctx = run(0)     # measured on the generation's own samples
    got = h[(h.metric == "minority_share") & (h.generation == 1)].sort_values("chain")["value"].to_numpy()
    np.testing.assert_allclose(got, [I.class_shares(s, judge)[[8, 9]].sum() for s in ctx.samples])
    spread = h[(h.metric == "latent_spread") & (h.generation == 1)].sort_values("chain")["value"].to_numpy()
    np.testing.assert_allclose(spread, I.latent_spread(ctx.samples, ctx.model0), rtol=1e-6)
    h2, ctx2 = run(300)  # measured on 300 fresh draws from the model: the loop's own numbers do not change
    np.testing.assert_array_equal(ctx.samples, ctx2.samples)
    draws = ctx2.model.sample(300, ctx2.rng("judge"))
    rec = h2[(h2.metric == "recognised") & (h2.generation == 1)].sort_values("chain")["value"].to_numpy()
    np.testing.assert_allclose(rec, [I.class_shares(d, judge).sum() for d in draws])
    with pytest.raises(ValueError, match="minority"):
        I.digit_metrics(judge, minority=(10,))
    with pytest.raises(ValueError, match="n_eval"):
        I.digit_metrics(judge, n_eval=-1)
    dist = h[(h.metric == "class_distance") & (h.generation == 1)].sort_values("chain")["value"].to_numpy()
    real = I.class_shares(x[:80], judge)
    np.testing.assert_allclose(dist, [I.class_distance(I.class_shares(s, judge), real) for s in ctx.samples])
    assert I.shares_table(h).shape == (2, 10)


def test_image_figure_and_explorer(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from collapse_kit import explorers, plots

    ax = plots.image_grid(np.zeros((5, 64)), n_cols=3, title="g0")
    assert ax.get_title() == "g0"
    with pytest.raises(ValueError, match="images"):
        plots.image_grid(np.zeros((5, 10)))
    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path))
    ex = explorers.image_mix_explorer((0.0, 0.5), imbalance=0.3, generations=1, n_chains=2, vae=TINY, n_show=4,
                                      progress=False)
    assert "0, 0.5" in ex.ui.children[0].value  # says which settings exist
    fixed = ex.last_result
    assert fixed["strategy"] == "real fraction 0.5 (fixed)" and len(fixed["latent_spread"]) == 2
    ex.controls["fresh"].value = "fresh draws"
    assert ex.last_result["strategy"] == "real fraction 0.5 (fresh)"
    assert not np.array_equal(ex.last_result["latent_spread"], fixed["latent_spread"])
    ex.controls["real_fraction"].value = 0.0
    assert ex.last_result["strategy"] == "replace" and ex.last_error is None
    with pytest.raises(ValueError, match="not stored"):
        I.stored_samples(tmp_path, None, 0, seed=9)
    plt.close("all")
