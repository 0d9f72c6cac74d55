"""Seed sweep of lesson 02's notebook asserts.

Each function re-runs one assert's computation from ``solutions/02_tails_vanish_first.ipynb`` at the
notebook's sizes for the current mode (``pick``: quick sizes under ``COLLAPSE_KIT_QUICK=1``, as in the
suite; full sizes under ``COLLAPSE_KIT_QUICK=0``), for another seed, and returns whether it holds. The sweep
requires all of them to hold for 20 seeds other than the notebook's own; ``COLLAPSE_KIT_SWEEP_SEEDS=100``
measures the pass rate over more seeds (a one-off; the rates are in benchmarks/RESULTS.md). Asserts that
involve no randomness (the learning-curve exponent, the tail-cut floors) are not swept.
"""
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from conftest import assert_holds_for_many_seeds

from collapse_kit import discrete as D
from collapse_kit import mixture as X
from collapse_kit import text as T
from collapse_kit.exercises import lesson02 as check
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.plots import minority_lost
from collapse_kit.runtime import pick
from collapse_kit.strategies import WORKFLOWS


@lru_cache(maxsize=1)
def words():
    counts = T.word_counts()
    return counts, (counts / counts.sum()).to_numpy(), D.codes_from_counts(counts.to_numpy())


def word_chains(sample_size, generations, n_chains, seed, tracker=None):
    counts, _, real = words()
    return run_generations(lambda: D.CategoricalModel(len(counts)), real, sample_size=sample_size,
                           generations=generations, n_chains=n_chains, strategies=WORKFLOWS[0],
                           metrics=D.loop_metrics(), on_generation=tracker, seeds=seed)


def nb02_one_generation_closed_forms(seed, law_sample_size=10_000):
    """Section 2: survival per band and expected survivors after one generation of M = 10,000, at the
    notebook's sizes for the current mode (60 chains quick, 400 full)."""
    counts, p0, _ = words()
    M, n = 10_000, pick(full=400, quick=60)
    tracker = D.ExtinctionTracker(len(counts))
    run = word_chains(M, 1, n, seed, tracker)
    survived = tracker.survival_curve()[1]
    closed = 1 - (1 - p0) ** law_sample_size
    bands = pd.cut(counts.to_numpy(), [0, 1, 2, 3, 5, 10, 20, 50, 1e9], labels=False)
    tab = pd.DataFrame({"band": bands, "sim": survived, "closed": closed}).groupby("band").agg(
        sim=("sim", "mean"), closed=("closed", "mean"), words=("sim", "size"))
    sem = np.sqrt(tab["closed"] * (1 - tab["closed"]) / (n * tab["words"])) + 1e-9
    alive1 = values(run, "alive")[:, 1]
    return bool(np.all(np.abs(tab["sim"] - tab["closed"]) < 6 * sem + 2e-3)
                and abs(alive1.mean() - closed.sum()) < 5 * alive1.std() / np.sqrt(n) + 1)


def nb02_vocabulary_one_step_law(seed):
    """Section 3: absorbing states, the one-step prediction unbiased, the extinction table ordered (at the
    notebook's sizes for the current mode)."""
    counts, _, _ = words()
    tracker = D.ExtinctionTracker(len(counts))
    run = word_chains(10_000, pick(full=60, quick=15), pick(full=30, quick=6), seed, tracker)
    alive, predicted = values(run, "alive"), values(run, "predicted alive")
    err = alive[:, 1:] - predicted[:, :-1]
    table = D.extinction_table(tracker, counts.index, counts.to_numpy(), chain=0, n_examples=4)
    return bool((np.diff(alive, axis=1) <= 0).all() and abs(err.mean()) < 5 * err.std() / np.sqrt(err.size) + 0.5
                and table["lost by the end"].iloc[0] >= table["lost by the end"].iloc[-1])


def nb02_long_run_single_word_and_collision_law(seed):
    """Sections 4-5: one word left, the winner law, Seddik's law, at the notebook's sizes for the current mode
    (M = 30 for 300 generations, 60 chains, quick; M = 100 for 1000 generations, 300 chains, full)."""
    _, p0, _ = words()
    m, gens, n = pick(full=100, quick=30), pick(full=1000, quick=300), pick(full=300, quick=60)
    long = word_chains(m, gens, n, seed)
    alive = values(long, "alive")
    winner = values(long, "top category")[:, -1].astype(int)
    top10_won, top10_mass = (winner < 10).mean(), p0[:10].sum()
    coll = values(long, "collision")
    law = 1 - (1 - 1 / m) ** np.arange(gens + 1) * (1 - D.collision_probability(p0))
    at = np.array([g for g in (1, 2, 5, m // 2, m, 2 * m) if g <= gens])
    sem = coll[:, at].std(axis=0) / np.sqrt(n)
    return bool((np.diff(alive, axis=1) <= 0).all() and (alive == 1).mean(axis=0)[-1] > 0.9
                and abs(top10_won - top10_mass) < 5 * np.sqrt(top10_mass * (1 - top10_mass) / n)
                and np.all(np.abs(coll[:, at].mean(axis=0) - law[at]) < 5 * sem + 1e-3))


def nb02_tail_cut_simulation(seed):
    """Section 6: the simulated tail-cut learner matches its exact expected error (the notebook's Zipf size,
    grid and repetitions for the current mode)."""
    zipf = D.zipf_probs(pick(full=1_000_000, quick=200_000), 2.0)
    t_grid = np.unique(np.logspace(1, pick(full=5, quick=4.5), pick(full=13, quick=8)).astype(int))
    n_reps = pick(full=30, quick=24)
    ok = True
    for k in (10, 100, 1000, None):
        kk = zipf.size if k is None else k
        sim = D.simulate_tail_cut(zipf, kk, t_grid, n_reps=n_reps, seed=seed).groupby("T")["error"].mean()
        exact = D.tail_cut_error(zipf, kk, t_grid)
        se, step = D.tail_cut_error_sd(zipf, kk, t_grid) / np.sqrt(n_reps), zipf[kk - 1] / n_reps
        ok &= bool(np.all(np.abs(sim.to_numpy() - exact) <= 5 * se + step + 1e-12))
    return ok


def nb02_mixture_minority(seed):
    """Section 7: generation 0 has the minority; replace loses it more often than accumulate (at the notebook's
    sizes for the current mode)."""
    pop = X.population("rare_mode")
    n = pick(full=100, quick=30)
    mix = run_generations(X.GaussianMixtureModel, real_sampler=pop.sampler(), real_size=100, sample_size=100,
                          generations=pick(full=40, quick=25), n_chains=n, strategies=WORKFLOWS[:2],
                          metrics=X.loop_metrics(pop), seeds=seed)
    shares = {s.label: values(mix, "minority share", s.label) for s in WORKFLOWS[:2]}
    lost = {k: float(minority_lost(v)[-1]) for k, v in shares.items()}
    se = np.sqrt(sum(p * (1 - p) for p in lost.values()) / n)
    return bool((shares["replace"][:, 0] > 0).mean() > 0.9 and lost["replace"] - lost["accumulate"] > max(3 * se, 0.1))


def nb02_real_fraction_protects(seed):
    """Exercise 4: without real data the minority is lost more often than with any λ >= 0.1 (the checker's
    sizes for the current mode, ``check.mix_settings()``)."""
    cfg = check.mix_settings()
    lost, _ = check.reference_minority_experiment(cfg["real_fractions"], cfg["n_chains"], cfg["generations"], seed)
    return bool(lost[0.0] > max(v for g, v in lost.items() if g >= 0.1))


SWEEP = [nb02_one_generation_closed_forms, nb02_vocabulary_one_step_law, nb02_long_run_single_word_and_collision_law,
         nb02_tail_cut_simulation, nb02_mixture_minority, nb02_real_fraction_protects]


@pytest.mark.parametrize("check_fn", SWEEP, ids=lambda f: f.__name__)
def test_lesson02_asserts_hold_for_many_seeds(check_fn):
    assert_holds_for_many_seeds(check_fn)


def test_the_lesson02_sweep_can_fail():
    """Negative control: the survival law with a wrong sample size (M = 8,000 instead of 10,000) fails."""
    assert nb02_one_generation_closed_forms(7) and not nb02_one_generation_closed_forms(7, law_sample_size=8_000)
