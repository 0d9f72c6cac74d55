"""Categorical chains, survival closed forms, Seddik's law and the tail-cut learner."""
import numpy as np
import pytest

from collapse_kit import discrete as D
from collapse_kit.loop import run_generations


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
    (lambda: D.normalize_counts([3, -1]), "non-negative"),
    (lambda: D.normalize_counts([1.5, 2]), "whole"),
    (lambda: D.normalize_counts([0, 0]), "positive total"),
    (lambda: D.cut_tail(P, 0), "k"),
    (lambda: D.cut_tail(P, 6), "k"),
    (lambda: D.zipf_probs(10, 1.0), "beta"),
    (lambda: D.dohmatob_law(100, 0.5, 2.0), "k"),
    (lambda: D.seddik_collision(1.5, 10, 1), "s0"),
    (lambda: D.simulate_categorical(P, sample_size=10, generations=2, strategy="mix"), "strategy"),
    (lambda: D.simulate_categorical(P, sample_size=10, generations=2, real_fraction=0.2), "real_fraction"),
    (lambda: D.simulate_categorical([0.5, 0.4], sample_size=10, generations=2), "sum to 1"),
])
def test_bad_parameters_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_simulation_reproducible_and_absorbing():
    a = D.simulate_categorical(P, sample_size=20, generations=60, n_chains=50, seed=3)
    b = D.simulate_categorical(P, sample_size=20, generations=60, n_chains=50, seed=3)
    assert a.history.equals(b.history)
    assert set(a.history.columns) >= {"generation", "seed", "metric", "value", "strategy"}
    alive = a.values("alive")
    assert alive.shape == (50, 61) and (alive[:, 0] == 5).all()
    assert (np.diff(alive, axis=1) <= 0).all()  # a lost category never comes back
    # extinct_at agrees with the final state and with alive counts
    assert ((a.final_probs > 0) == (a.extinct_at > a.generations)).all()
    np.testing.assert_array_equal((a.extinct_at > 10).sum(axis=1), alive[:, 10])
    assert (alive[:, -1] == 1).mean() > 0.8  # M=20: most chains have ended in a single category


def test_one_generation_survival_matches_closed_form():
    run = D.simulate_categorical(P, sample_size=10, generations=1, n_chains=4000, seed=0)
    surv = run.survival_curve()[1]
    want = D.survival_probability(P, 10)
    se = np.sqrt(want * (1 - want) / 4000) + 1e-9
    assert np.all(np.abs(surv - want) < 5 * se)
    alive1 = run.values("alive")[:, 1]
    assert abs(alive1.mean() - D.expected_survivors(P, 10)) < 5 * alive1.std() / np.sqrt(4000)


def test_collision_follows_seddik_law():
    run = D.simulate_categorical(P, sample_size=15, generations=30, n_chains=3000, seed=1)
    coll = run.values("collision")
    law = D.seddik_collision(D.collision_probability(P), 15, np.arange(31))
    se = coll.std(axis=0) / np.sqrt(coll.shape[0]) + 1e-12
    assert np.all(np.abs(coll.mean(axis=0) - law) < 5 * se + 1e-3)
    assert (np.diff(run.values("entropy").mean(axis=0)) < 0.05).all()


def test_accumulate_keeps_every_category_and_real_fraction_revives():
    acc = D.simulate_categorical(P, sample_size=5, generations=20, n_chains=20, strategy="accumulate", seed=0)
    assert (acc.values("alive") == 5).all()
    mix = D.simulate_categorical(P, sample_size=50, generations=20, n_chains=20, strategy="real_fraction",
                                 real_fraction=0.5, seed=0)
    rep = D.simulate_categorical(P, sample_size=50, generations=20, n_chains=20, seed=0)
    assert mix.values("alive")[:, -1].mean() > rep.values("alive")[:, -1].mean()
    assert mix.strategy == "real fraction 0.5 (fresh)"


def test_loop_model_agrees_with_vectorised_chains():
    codes = np.repeat(np.arange(5), (P * 100).astype(int))
    hist = run_generations(lambda: D.CategoricalModel(5), codes, generations=5, sample_size=100,
                           metrics=D.categorical_metrics(), seeds=range(200))
    loop_alive = hist[(hist.metric == "alive") & (hist.generation == 1)]["value"].mean()
    assert abs(loop_alive - D.expected_survivors(P, 100)) < 0.05
    with pytest.raises(ValueError, match="codes"):
        D.CategoricalModel(3).fit(np.array([0, 1, 5]))


def test_extinction_table_uses_words():
    counts = np.array([50, 30, 10, 5, 1, 1, 1])
    words = ["the", "and", "king", "crown", "zwagger", "zodiac", "zone"]
    run = D.simulate_categorical(counts / counts.sum(), sample_size=30, generations=10, n_chains=20, seed=0)
    tab = D.extinction_table(run, words, counts)
    assert list(tab["real count"])[0] == "1"
    assert "zodiac" in tab.iloc[0, -1] or "zone" in tab.iloc[0, -1]
    assert tab["median generation lost"].iloc[0] <= tab["median generation lost"].fillna(99).iloc[-1]
    with pytest.raises(ValueError, match="same number"):
        D.extinction_table(run, words[:3], counts)


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


def test_lesson02_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, collapse_kit, collapse_kit.text, collapse_kit.discrete, collapse_kit.mixture, "
            "collapse_kit.exercises.lesson02; assert 'torch' not in sys.modules, 'torch was imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
