"""Conformance: the digit VAE in the one loop.

For every strategy of WORKFLOWS plus fresh real data: DigitVAE runs through run_generations with the
right shapes, the same seed gives the same history (and samples), and an interrupted run resumed through
`store=` equals an uninterrupted one. The lesson's other entry point, prepare_image_runs, *is* the loop
with a store: its history equals a direct run_generations call.
"""
import numpy as np
import pandas as pd
import pytest

from conftest import assert_resumes

pytest.importorskip("torch")

from collapse_kit import images as I  # noqa: E402
from collapse_kit.history import values  # noqa: E402
from collapse_kit.loop import run_generations  # noqa: E402
from collapse_kit.strategies import WORKFLOWS, Strategy  # noqa: E402

ALL = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]
TINY = dict(epochs=2, hidden=16, latent_dim=3, prior_components=3, device="cpu")
X, _ = I.load_digits(0.3)
REAL = X[:60]
JUDGE = I.train_classifier()


def loop(strategies, seeds=0, n_chains=2, generations=2, **kw):
    return run_generations(lambda: I.DigitVAE(**TINY), REAL, generations=generations, sample_size=40,
                           strategies=strategies, real_sampler=I.reservoir_sampler(0.3), n_chains=n_chains,
                           metrics={"": I.digit_metrics(JUDGE)}, seeds=seeds, **kw)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_vae_runs_through_the_loop(strategy):
    seen = []
    h = loop(strategy, on_generation=lambda ctx: seen.append((ctx.generation, ctx.samples.shape,
                                                              None if ctx.train is None else ctx.train.shape)))
    assert {"share.0", "share.9", "recognised", "minority_share", "latent_spread", "sharpness"} <= set(
        h["metric"].astype(str))
    v = values(h, "latent_spread")
    assert v.shape == (2, 3) and np.all(v > 0)
    shares = sum(values(h, f"share.{c}") for c in range(10))
    np.testing.assert_allclose(shares, values(h, "recognised"))
    assert [s for _, s, _ in seen] == [(2, 40, 64)] * 3
    sizes = [t[1] for _, _, t in seen]
    assert sizes[0] == 60 and sizes[1:] == [strategy.training_size(g, 60, 40) for g in (1, 2)]


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_same_seed_same_history(strategy):
    pd.testing.assert_frame_equal(loop(strategy, seeds=3), loop(strategy, seeds=3))
    assert not np.array_equal(values(loop(strategy, seeds=3), "latent_spread"),
                              values(loop(strategy, seeds=4), "latent_spread"))


def test_same_seed_same_samples():
    a, b = I.DigitVAE(**TINY), I.DigitVAE(**TINY)
    data = np.stack([REAL, REAL[::-1]])
    a.fit(data, np.random.default_rng(5))
    b.fit(data, np.random.default_rng(5))
    np.testing.assert_array_equal(a.sample(10, np.random.default_rng(1)), b.sample(10, np.random.default_rng(1)))


def test_interrupted_run_resumes_to_the_same_history(tmp_path):
    assert_resumes(lambda **kw: loop(ALL, n_chains=1, **kw), tmp_path / "run", seed=0, generation=2,
                   strategy=ALL[2])


def test_prepare_image_runs_is_the_loop(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path))
    vae = dict(TINY)
    hist, folder = I.prepare_image_runs((0.0, 0.5), imbalance=0.3, generations=1, n_chains=2, seed=2, vae=vae)
    x, _ = I.load_digits(0.3, seed=2)
    direct = run_generations(lambda: I.DigitVAE(**TINY), x, generations=1, n_chains=2,
                             strategies=[Strategy(), Strategy("real_fraction", 0.5),
                                         Strategy("real_fraction", 0.5, fresh_real=True)],
                             real_sampler=I.reservoir_sampler(0.3, seed=2),
                             metrics={"": I.digit_metrics(I.train_classifier(2))}, seeds=2,
                             labels={"imbalance": 0.3})
    pd.testing.assert_frame_equal(hist, direct)
    again, folder2 = I.prepare_image_runs((0.5, 0.0), imbalance=0.3, generations=1, n_chains=2, seed=2, vae=vae)
    assert folder2 == folder
    pd.testing.assert_frame_equal(again, hist)
