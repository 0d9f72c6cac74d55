"""Categorical chains, survival closed forms, Seddik's law and the tail-cut learner."""
import numpy as np
import pytest

from collapse_kit import discrete as D
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.strategies import Strategy


P = np.array([0.5, 0.3, 0.15, 0.04, 0.01])


def test_closed_forms_values():
    assert D.survival_probability(0.5, 2) == pytest.approx(0.75)
    assert D.survival_probability(1.0, 3) == 1.0 and D.survival_probability(0.0, 3) == 0.0
    assert D.survival_probability(1e-9, 1000) == pytest.approx(1e-6, rel=1e-3)  # accurate for tiny q
    assert D.expected_survivors([0.5, 0.5], 2) == pytest.approx(1.5)
    assert D.entropy([0.5, 0.5]) == pytest.approx(1.0) and D.entropy([1.0, 0.0]) == 0.0
    assert D.collision_probability([0.5, 0.5]) == pytest.approx(0.5)
    np.testing.assert_allclose(D.seddik_collision(0.2, 10, [0, 1, 2]), [0.2, 0.28, 1 - 0.81 * 0.8])


@pytest.mark.parametrize("call, match", [
    (lambda: D.entropy([0.5, 0.6]), "sum to 1"),
    (lambda: D.entropy([1.2, -0.2]), "non-negative"),
    (lambda: D.survival_probability(0.1, 0), "sample_size"),
    (lambda: D.survival_probability(1.5, 3), "q"),
    (lambda: D.codes_from_counts([3, -1]), "non-negative"),
    (lambda: D.codes_from_counts([1.5, 2]), "whole"),
    (lambda: D.codes_from_counts([0, 0]), "positive total"),
    (lambda: D.CategoricalModel(0), "n_categories"),
    (lambda: D.ExtinctionTracker(0), "n_categories"),
    (lambda: D.cut_tail(P, 0), "k"),
    (lambda: D.cut_tail(P, 6), "k"),
    (lambda: D.zipf_probs(10, 1.0), "beta"),
    (lambda: D.dohmatob_law(100, 0.5, 2.0), "k"),
    (lambda: D.seddik_collision(1.5, 10, 1), "s0"),
])
def test_bad_parameters_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def run(p=P, n=100, M=10, generations=5, n_chains=50, seeds=0, strategies="replace", **kw):
    """A categorical run through the one loop, starting from a real set of n codes in proportion p."""
    real = D.codes_from_counts(np.round(np.asarray(p) * n))
    return run_generations(lambda: D.CategoricalModel(len(p)), real, sample_size=M, generations=generations,
                           n_chains=n_chains, metrics=D.loop_metrics(), seeds=seeds, strategies=strategies, **kw)


def test_model_fits_counts_and_samples_batched():
    data = np.array([[0, 0, 1, 3], [2, 2, 2, 2]])
    m = D.CategoricalModel(4).fit(data)
    np.testing.assert_allclose(m.probs_, [[0.5, 0.25, 0, 0.25], [0, 0, 1, 0]])
    s = m.summary(sample_size=2)
    np.testing.assert_allclose(s["alive"], [3, 1])
    np.testing.assert_allclose(s["collision"], [0.375, 1.0])
    np.testing.assert_allclose(s["entropy"], [1.5, 0.0])
    np.testing.assert_allclose(s["top category"], [0, 2])
    np.testing.assert_allclose(s["predicted alive"], [1 - 0.25 + 2 * (1 - 0.75**2), 1.0])
    x = m.sample(1000, np.random.default_rng(0))
    assert x.shape == (2, 1000) and (x[1] == 2).all() and abs((x[0] == 0).mean() - 0.5) < 0.06
    shared = D.CategoricalModel(4).fit(np.broadcast_to(data[0], (3, 4)))  # one real set, counted once
    assert shared.shared and shared.probs_.shape == (3, 4)
    np.testing.assert_allclose(shared.summary()["alive"], [3, 3, 3])
    for bad, match in [(np.array([0, 1]), "shape"), (np.array([[0.0, 1.0]]), "integer"),
                       (np.array([[0, 4]]), "codes in")]:
        with pytest.raises(ValueError, match=match):
            D.CategoricalModel(4).fit(bad)
    with pytest.raises(RuntimeError, match="fit"):
        D.CategoricalModel(4).sample(3, np.random.default_rng(0))


def test_replace_is_absorbing_and_ends_in_a_delta():
    h = run(M=20, generations=60, n_chains=50, seeds=3)
    alive = values(h, "alive")
    assert alive.shape == (50, 61) and (alive[:, 0] == 5).all()
    assert (np.diff(alive, axis=1) <= 0).all()  # a lost category never comes back
    assert (alive[:, -1] == 1).mean() > 0.8  # M=20: most chains have ended in a single category


def test_one_generation_survival_matches_closed_form():
    tracker = D.ExtinctionTracker(5)
    h = run(n=1000, M=10, generations=1, n_chains=4000, on_generation=tracker)
    surv = tracker.survival_curve()[1]
    want = D.survival_probability(P, 10)
    se = np.sqrt(want * (1 - want) / 4000) + 1e-9
    assert np.all(np.abs(surv - want) < 5 * se)
    alive1 = values(h, "alive")[:, 1]
    assert abs(alive1.mean() - D.expected_survivors(P, 10)) < 5 * alive1.std() / np.sqrt(4000)
    np.testing.assert_array_equal((tracker.extinct_at() > 1).sum(axis=1), alive1)


def test_collision_follows_seddik_law():
    h = run(n=1000, M=15, generations=30, n_chains=3000, seeds=1)
    coll = values(h, "collision")
    law = D.seddik_collision(D.collision_probability(P), 15, np.arange(31))
    se = coll.std(axis=0) / np.sqrt(coll.shape[0]) + 1e-12
    assert np.all(np.abs(coll.mean(axis=0) - law) < 5 * se + 1e-3)
    assert (np.diff(values(h, "entropy").mean(axis=0)) < 0.05).all()


def test_accumulate_keeps_every_category_and_real_fraction_revives():
    acc = run(M=5, generations=20, n_chains=20, strategies=Strategy("accumulate"))
    assert (values(acc, "alive") == 5).all()  # the real samples stay in every training set
    mix = run(n=1000, M=50, generations=20, n_chains=20, strategies=Strategy("real_fraction", 0.5, True),
              real_sampler=lambda rng, c, n: rng.choice(5, size=(c, n), p=P))
    rep = run(n=1000, M=50, generations=20, n_chains=20)
    assert values(mix, "alive")[:, -1].mean() > values(rep, "alive")[:, -1].mean()


def test_extinction_table_uses_words():
    counts = np.array([50, 30, 10, 5, 1, 1, 1])
    words = ["the", "and", "king", "crown", "zwagger", "zodiac", "zone"]
    tracker = D.ExtinctionTracker(7)
    run_generations(lambda: D.CategoricalModel(7), D.codes_from_counts(counts), sample_size=30, generations=10,
                    n_chains=20, on_generation=tracker)
    tab = D.extinction_table(tracker, words, counts)
    assert list(tab["real count"])[0] == "1"
    assert "zodiac" in tab.iloc[0, -1] or "zone" in tab.iloc[0, -1] or "zwagger" in tab.iloc[0, -1]
    assert tab["median generation lost"].iloc[0] <= tab["median generation lost"].fillna(99).iloc[-1]
    with pytest.raises(ValueError, match="same number"):
        D.extinction_table(tracker, words[:3], counts)
    with pytest.raises(ValueError, match="no generation"):
        D.extinction_table(D.ExtinctionTracker(7), words, counts)


def test_tail_cut_simulation_matches_exact_and_plateaus():
    p = D.zipf_probs(20000, 2.0)
    sizes = [100, 1000, 10000]
    for k in (10, 1000):
        sim = D.simulate_tail_cut(p, k, sizes, n_reps=30, seed=0).groupby("T")["error"].agg(["mean", "std"])
        exact = D.tail_cut_error(p, k, sizes)
        assert np.all(np.abs(sim["mean"].to_numpy() - exact) < 5 * sim["std"].to_numpy() / np.sqrt(30) + 1e-4)
        assert np.all(exact >= D.tail_mass(p, k))
    assert D.tail_cut_error(p, 10, 10**6) == pytest.approx(D.tail_mass(p, 10), rel=1e-6)
    # the asymptotic law with its constants agrees within a factor 1.5 where T is large and there is no cut
    big = D.zipf_probs(2_000_000, 2.0)
    ratio = D.tail_cut_error(big, big.size, [1e3, 1e4]) / D.dohmatob_law([1e3, 1e4], None, 2.0)
    assert np.all((ratio > 0.8) & (ratio < 1.25))


def test_tail_cut_error_sd_is_the_spread_of_one_run():
    p = D.zipf_probs(20000, 2.0)
    for k, sizes in ((10, [30, 300]), (300, [30, 300, 3000])):  # sizes where runs still miss kept words
        sim = D.simulate_tail_cut(p, k, sizes, n_reps=600, seed=1).groupby("T")["error"].std().to_numpy()
        sd = D.tail_cut_error_sd(p, k, sizes)
        # an upper bound (negatively correlated unseen words) that is close: the sample sd of 600 runs is within
        # about 3% of the true one, and the bound is not loose by more than a few percent here
        assert np.all(sim <= 1.15 * sd) and np.all(sim >= 0.75 * sd), (k, sim / sd)
    assert D.tail_cut_error_sd(p, 10, 10**7) == 0.0        # every kept word seen: the error is the tail mass
    assert D.tail_cut_error_sd(p, 10, 0) == 0.0            # no draws: every kept word unseen, surely
    # 5 of these standard errors tell a learner trained on T from one trained on T / 2 (negative control)
    sim = D.simulate_tail_cut(p, 100, [100, 1000], n_reps=30, seed=2).groupby("T")["error"].mean().to_numpy()
    se = D.tail_cut_error_sd(p, 100, [100, 1000]) / np.sqrt(30)
    assert np.all(np.abs(sim - D.tail_cut_error(p, 100, [100, 1000])) <= 5 * se)
    assert np.all(np.abs(sim - D.tail_cut_error(p, 100, [50, 500])) > 5 * se)
    with pytest.raises(ValueError, match="train_size"):
        D.tail_cut_error_sd(p, 10, -1)


def test_lesson02_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, collapse_kit, collapse_kit.text, collapse_kit.discrete, collapse_kit.mixture, "
            "collapse_kit.exercises.lesson02; assert 'torch' not in sys.modules, 'torch was imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
