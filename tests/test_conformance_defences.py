"""Conformance: the defences of lesson 07 run through run_generations for every strategy.

The filter is a strategy (defences.Filtered); with a detector that flags nothing it *is* the wrapped
strategy (exactly); with a real detector it runs every strategy with the right shapes, is
deterministic, and resumes from a store to the same history. The verifier runs on the regression
model the same way."""
import numpy as np
import pandas as pd
import pytest

from collapse_kit import defences as D
from collapse_kit.gaussian import GaussianModel, normal_source
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.regression import linear_problem
from collapse_kit.strategies import WORKFLOWS, Strategy

ALL = [*WORKFLOWS, Strategy("real_fraction", 0.5, fresh_real=True)]
SOURCE = D.marked_source(normal_source())


def never(items, rng):
    return np.zeros(np.asarray(items).shape[:2], dtype=bool)


def _run(strategies, metrics=None, **kw):
    return run_generations(lambda: D.MarkedModel(GaussianModel()), real_sampler=SOURCE, sample_size=12, n_chains=5,
                           strategies=strategies, metrics=metrics or D.coordination_metrics(), **kw)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_a_filter_that_flags_nothing_is_the_wrapped_strategy(strategy):
    rng_data = np.random.default_rng(0)
    real = SOURCE(rng_data, 4, 12)
    synthetic = [D.MarkedModel(GaussianModel()).fit(real).sample(12, rng_data) for _ in range(3)]
    want = strategy.training_set(real, synthetic, 12, np.random.default_rng(7), SOURCE)
    got = D.Filtered.wrap(strategy, never, "none").training_set(real, synthetic, 12, np.random.default_rng(7), SOURCE)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_every_filtered_strategy_runs_and_is_deterministic(strategy):
    arm = D.Filtered.wrap(strategy, D.provenance_detector(0.5, 0.9, 0.05), "wm")
    seen = []
    h = _run(arm, generations=3, seeds=3, on_generation=lambda c: seen.append((c.samples.shape, c.train.shape)))
    v = values(h, "W2²")
    assert v.shape == (5, 4) and np.all(np.isfinite(v))
    assert all(s == (5, 12, 2) for s, _ in seen)
    assert [t[1] for _, t in seen] == [arm.training_size(g, 12, 12) for g in range(4)]
    share = values(h, "synthetic share")
    assert np.all(share[:, 0] == 0) and np.all((share >= 0) & (share <= 1))
    pd.testing.assert_frame_equal(h, _run(arm, generations=3, seeds=3))
    assert not h.equals(_run(arm, generations=3, seeds=4))


def test_a_perfect_filter_removes_the_synthetic_items_of_every_strategy():
    arms = [D.Filtered.wrap(s, D.provenance_detector(1.0, 1.0, 0.0), "all") for s in ALL if s.uses_real]
    h = _run(arms, generations=3, seeds=0)
    for arm in arms:
        share = values(h, "synthetic share", arm.label)
        # a chain whose training set is all synthetic (a subsample of the pool can be) keeps it: nothing else to train on
        assert np.all((share == 0) | (share == 1)) and share.mean() < 0.2, arm.label
        if arm.name != "accumulate_subsample":
            assert np.all(share == 0), arm.label


def test_store_resume_gives_identical_results(tmp_path):
    arms = [D.Filtered.wrap(s, D.provenance_detector(0.5, 0.9, 0.05), "wm") for s in ALL[1:]]
    want = _run(arms, generations=4, seeds=1)
    metric = D.coordination_metrics()["W2²"]

    def flaky(ctx):
        if ctx.generation == 3 and ctx.strategy == arms[1]:
            raise KeyboardInterrupt
        return metric(ctx)

    metrics = {**D.coordination_metrics(), "W2²": flaky}
    with pytest.raises(KeyboardInterrupt):
        _run(arms, metrics=metrics, generations=4, seeds=1, store=tmp_path / "run")
    assert any((tmp_path / "run").rglob("gen=*"))
    pd.testing.assert_frame_equal(_run(arms, generations=4, seeds=1, store=tmp_path / "run"), want)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_the_verifier_runs_on_the_regression_model_for_every_strategy(strategy):
    p = linear_problem(4, n_samples=20, n_features=3, seed=1)
    arm = D.Filtered.wrap(strategy, D.verifier_detector(p.w_star, 1.5), "verifier")
    kw = dict(real_sampler=p.real_sampler, real_size=p.n_samples, n_chains=p.n_chains, strategies=arm,
              metrics=p.metrics(), generations=3, seeds=2)
    h = run_generations(p.make_model, **kw)
    assert values(h, "test error").shape == (4, 4)
    pd.testing.assert_frame_equal(h, run_generations(p.make_model, **kw))


def test_the_closed_form_of_the_kept_synthetic_share_agrees_with_the_loop():
    """The coordination experiment's synthetic share (loop) against its closed form, within 4 standard errors;
    negative control: the same test rejects the share of synthetic items that survive the filter, 1 − q,
    which forgets that the human items are kept too."""
    shares, tpr, fpr = (0.0, 0.5, 0.9, 1.0), 0.8, 0.05
    h = D.coordination_run(shares, tpr=tpr, fpr=fpr, n_chains=300, generations=4, seed=5)
    labels = list(dict.fromkeys(h["strategy"].astype(str)))[1:]
    for p, label in zip(shares, labels):
        got = values(h, "synthetic share", label)[:, 1:].ravel()
        se = got.std() / np.sqrt(got.size)
        assert abs(got.mean() - D.kept_synthetic_share(0.2, p, tpr, fpr)) < 4 * se + 1e-3, p
        wrong = 1 - (p * tpr + (1 - p) * fpr)
        assert abs(got.mean() - wrong) > 4 * se, p
