"""Conformance: the categorical and the Gaussian-mixture models in the one loop.

For every strategy of WORKFLOWS plus fresh real data: each model runs through run_generations with
the right shapes, the same seed gives the same history, and an interrupted run resumed through
`store=` equals an uninterrupted one. Under replace, the loop's one-generation survival of a state of
probability q matches 1 - (1 - q)^M within Monte-Carlo error, and the same test rejects a wrong engine
(negative control). Lesson 02 uses no other engine.
"""
import numpy as np
import pandas as pd
import pytest

from conftest import assert_resumes

from collapse_kit import discrete as D
from collapse_kit import mixture as X
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

ALL = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]
P = np.array([0.5, 0.3, 0.15, 0.05])
M, GENS = 12, 4
POP = X.population("rare_mode")


def categorical(strategies, seeds=0, n_chains=3, **kw):
    return run_generations(lambda: D.CategoricalModel(len(P)), real_sampler=lambda rng, c, n: rng.choice(
        len(P), size=(c, n), p=P), real_size=20, sample_size=M, n_chains=n_chains, generations=GENS,
        strategies=strategies, metrics=D.loop_metrics(), seeds=seeds, **kw)


def mixture(strategies, seeds=0, n_chains=3, **kw):
    return run_generations(lambda: X.GaussianMixtureModel(n_iter=20), real_sampler=POP.sampler(), real_size=30,
                           sample_size=M, n_chains=n_chains, generations=GENS, strategies=strategies,
                           metrics=X.loop_metrics(POP), seeds=seeds, **kw)


ENGINES = {"categorical": (categorical, {"alive", "entropy", "collision", "top category", "predicted alive"}),
           "mixture": (mixture, {"minority share", "minority weight"})}


@pytest.mark.parametrize("model", ENGINES)
@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_model_runs_through_the_loop(model, strategy):
    fn, metrics = ENGINES[model]
    h = fn(strategy, seeds=[3, 4])
    assert set(h["metric"].astype(str)) == metrics
    assert len(h) == 2 * 3 * (GENS + 1) * len(metrics)
    assert set(h["chain"]) == {0, 1, 2} and set(h["seed"]) == {3, 4}
    assert (h["strategy"].astype(str) == strategy.label).all()
    v = values(h, next(iter(sorted(metrics))))
    assert v.shape == (6, GENS + 1) and np.isfinite(v).all()
    pd.testing.assert_frame_equal(h, fn(strategy, seeds=[3, 4]))  # same seed, same history
    assert not h["value"].equals(fn(strategy, seeds=[5, 6])["value"])


@pytest.mark.parametrize("model", ENGINES)
def test_interrupted_run_resumes_to_the_same_history(model, tmp_path):
    fn, _ = ENGINES[model]
    assert_resumes(lambda **kw: fn(ALL, seeds=[1, 2], **kw), tmp_path / "run", seed=2, generation=3,
                   strategy=ALL[2])


def test_accumulate_trains_on_all_real_and_synthetic_samples():
    sizes = []
    run_generations(lambda: D.CategoricalModel(len(P)), D.codes_from_counts([5, 3, 2, 1]), sample_size=M,
                    generations=3, n_chains=2, strategies=Strategy("accumulate"),
                    on_generation=lambda ctx: sizes.append(ctx.model.data_.shape[1]))
    assert sizes == [11, 11 + M, 11 + 2 * M, 11 + 3 * M]


def survival_z(surv, q, m, n):
    """z-scores of simulated one-generation survival against 1 - (1 - q)^M."""
    want = D.survival_probability(q, m)
    return (surv - want) / np.sqrt(want * (1 - want) / n + 1e-12)


def test_survival_under_replace_matches_closed_form_and_rejects_a_wrong_engine():
    n, m = 4000, 5
    q = np.array([0.6, 0.25, 0.1, 0.04, 0.01])
    real = D.codes_from_counts(q * 100)
    tracker = D.ExtinctionTracker(len(q))
    run_generations(lambda: D.CategoricalModel(len(q)), real, sample_size=m, generations=1, n_chains=n,
                    on_generation=tracker, seeds=11)
    # generation 1 fits the M samples of generation 0 (drawn from q): survival of each state
    assert np.all(np.abs(survival_z(tracker.survival_curve()[1], q, m, n)) < 5)

    class Smoothed(D.CategoricalModel):  # a wrong engine: add-one smoothing keeps every state alive
        def fit(self, data, rng=None):
            data = np.asarray(data)
            return super().fit(np.concatenate([data, np.broadcast_to(np.arange(len(q)), (len(data), len(q)))], 1))

    bad = D.ExtinctionTracker(len(q))
    run_generations(lambda: Smoothed(len(q)), real, sample_size=m, generations=1, n_chains=n,
                    on_generation=bad, seeds=11)
    assert np.any(np.abs(survival_z(bad.survival_curve()[1], q, m, n)) > 5)


# --------------------------------------------------------------------------- lesson 02's asserts, many seeds
SEEDS = range(100, 120)


def test_lesson02_word_asserts_hold_for_many_seeds():
    """The computations behind lesson 02's asserts (sections 2-4), at quick sizes, for 20 seeds."""
    from collapse_kit import text as T

    counts = T.word_counts()
    p0 = (counts / counts.sum()).to_numpy()
    K, real = len(counts), D.codes_from_counts(counts.to_numpy())
    top10_mass = p0[:10].sum()
    won = []
    for seed in SEEDS:
        tracker = D.ExtinctionTracker(K)
        h = run_generations(lambda: D.CategoricalModel(K), real, sample_size=10_000, generations=1, n_chains=60,
                            metrics=D.loop_metrics(), on_generation=tracker, seeds=seed)
        alive1 = values(h, "alive")[:, 1]
        assert abs(alive1.mean() - D.expected_survivors(p0, 10_000)) < 5 * alive1.std() / np.sqrt(60) + 1
        h = run_generations(lambda: D.CategoricalModel(K), real, sample_size=10_000, generations=15, n_chains=6,
                            metrics=D.loop_metrics(), seeds=seed)
        alive, pred = values(h, "alive"), values(h, "predicted alive")
        assert (np.diff(alive, axis=1) <= 0).all()
        err = alive[:, 1:] - pred[:, :-1]
        assert abs(err.mean()) < 5 * err.std() / np.sqrt(err.size) + 0.5
        h = run_generations(lambda: D.CategoricalModel(K), real, sample_size=30, generations=300, n_chains=60,
                            metrics=D.loop_metrics(), seeds=seed)
        assert (values(h, "alive")[:, -1] == 1).mean() > 0.9
        winner = values(h, "top category")[:, -1]
        won.append((winner < 10).mean())
        assert abs(won[-1] - top10_mass) < 5 * np.sqrt(top10_mass * (1 - top10_mass) / 60)
        coll = values(h, "collision")
        law = D.seddik_collision(D.collision_probability(p0), 30, np.arange(301))
        at = np.array([1, 2, 5, 15, 30, 60])
        assert np.all(np.abs(coll[:, at].mean(axis=0) - law[at]) < 5 * coll[:, at].std(axis=0) / np.sqrt(60) + 1e-3)


def test_lesson02_minority_assert_holds_for_many_seeds():
    """Section 6's asserts at quick sizes (M = 100, 25 generations, 30 chains), for 20 seeds."""
    for seed in SEEDS:
        h = run_generations(X.GaussianMixtureModel, real_sampler=POP.sampler(), real_size=100, sample_size=100,
                            generations=25, n_chains=30, strategies=WORKFLOWS[:2], metrics=X.loop_metrics(POP),
                            seeds=seed)
        shares = {s.label: values(h, "minority share", s.label) for s in WORKFLOWS[:2]}
        assert (shares["replace"][:, 0] > 0).mean() > 0.9
        lost = {k: float((v[:, -1] < 0.01).mean()) for k, v in shares.items()}
        se = np.sqrt(sum(p * (1 - p) for p in lost.values()) / 30)
        assert lost["replace"] - lost["accumulate"] > max(3 * se, 0.1), (seed, lost)
