"""Strategy comparisons for any model (collapse_kit.compare), lesson-04 figures and explorer, and
seed sweeps of every lesson-04 notebook assert at the notebook's sizes for the current mode (quick in the suite)."""
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from conftest import assert_holds_for_many_seeds

from collapse_kit import compare as C
from collapse_kit import plots as P
from collapse_kit import regression as R
from collapse_kit.explorers import mix_explorer
from collapse_kit.gaussian import GaussianModel, median_variance, normal_source
from collapse_kit.history import final, summarize, values
from collapse_kit.loop import run_generations
from collapse_kit.mixture import minority_share
from collapse_kit.runtime import pick
from collapse_kit.strategies import WORKFLOWS, Strategy
from collapse_kit.widgets import figure_data

STRATEGIES = [*WORKFLOWS, Strategy("real_fraction", 0.1, fresh_real=True)]


def _gauss(seed, n_chains=1000, generations=20, m=50):
    lm = C.lesson_model("gaussian")
    return C.compare_strategies(lm.make_model, real_sampler=lm.real_sampler, real_size=m, sample_size=m,
                                strategies=STRATEGIES, generations=generations, n_chains=n_chains,
                                metrics=lm.metrics(), seed=seed)


def test_compare_strategies_is_run_generations():
    lm = C.lesson_model("gaussian")
    a = _gauss(3, n_chains=20, generations=4, m=10)
    b = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=10, sample_size=10,
                        strategies=STRATEGIES, generations=4, n_chains=20, metrics=lm.metrics(), seeds=3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["strategy"].cat.categories) == [s.label for s in STRATEGIES]
    v = values(a, "spread kept", "replace")
    assert v.shape == (20, 5)
    np.testing.assert_array_equal(v[:, 0], values(a, "spread kept", "accumulate")[:, 0])  # shared generation 0


def test_lesson_models_and_metrics():
    mix = C.lesson_model("mixture", 0.9)
    assert mix.population is not None and mix.real_variance == pytest.approx(0.8 * 1 + 0.2 * 9.25 - 0.6**2)
    h = C.compare_strategies(mix.make_model, real_sampler=mix.real_sampler, real_size=20, sample_size=20,
                             strategies=STRATEGIES, generations=2, n_chains=8,
                             metrics=mix.metrics("minority share", "quality", "diversity"), seed=0)
    assert set(h["metric"].astype(str)) == {"spread kept", "minority share", "quality", "diversity"}
    assert h["value"].notna().all()
    with pytest.raises(ValueError, match="extra"):
        C.lesson_model("gaussian").metrics("minority share")
    with pytest.raises(ValueError, match="name"):
        C.lesson_model("vae")
    with pytest.raises(ValueError, match="temperature"):
        C.lesson_model("gaussian", 0.0)


def test_temperature_tradeoff_equals_direct_runs_and_both_sides():
    t = C.temperature_tradeoff((0.8, 1.0), n_chains=200, generations=5, sample_size=100, seed=1)
    lm = C.lesson_model("gaussian", 0.8)
    direct = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=100, sample_size=100,
                             strategies=WORKFLOWS[0], generations=5, n_chains=200,
                             metrics=lm.metrics("quality", "diversity"), seeds=1)
    mine = t[t.temperature == 0.8].drop(columns="temperature").reset_index(drop=True)
    np.testing.assert_array_equal(mine["value"].to_numpy(), direct["value"].to_numpy())
    q = summarize(t, "quality", by=("temperature", "generation")).set_index(["temperature", "generation"])
    assert q.loc[(0.8, 0), "mean"] - q.loc[(1.0, 0), "mean"] > 4 * np.hypot(q.loc[(0.8, 0), "sem"],
                                                                             q.loc[(1.0, 0), "sem"])
    with pytest.raises(ValueError, match="temperatures"):
        C.temperature_tradeoff((0.0,))


def test_phase_diagram_equals_direct_runs():
    t = C.phase_diagram((0.0, 0.25, 1.0), (2, 20), generations=10, n_chains=50, seed=4)
    assert len(t) == 6 and {"spread", "spread_se", "stable", "effective_real_fraction"} <= set(t.columns)
    lm = C.lesson_model("gaussian")
    h = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=20, sample_size=20,
                        strategies=[Strategy("real_fraction", x) for x in (0.0, 0.25, 1.0)], generations=10,
                        n_chains=50, metrics=lm.metrics(), seeds=4)
    v = values(h, "spread kept", "real fraction 0.25 (fixed)")
    row = t[(t.sample_size == 20) & (t.real_fraction == 0.25)].iloc[0]
    assert row.spread == pytest.approx(np.median(v[:, -1] / v[:, 0]))
    assert t[(t.sample_size == 2) & (t.real_fraction == 0.25)].iloc[0].effective_real_fraction == 0.0
    assert np.allclose(t[t.real_fraction == 1.0].spread, 1.0)
    with pytest.raises(ValueError, match="real_fractions"):
        C.phase_diagram((1.5,), (10,))


def test_median_se_matches_bootstrap():
    x = np.random.default_rng(0).exponential(size=2000)
    med, se = C.median_se(x)
    boot = [np.median(np.random.default_rng(i).choice(x, x.size)) for i in range(300)]
    assert med == np.median(x) and se == pytest.approx(np.std(boot), rel=0.3)


def test_fresh_real_law_matches_the_loop():
    law = C.fresh_real_expected_variance(np.arange(11), 10, 0.2)
    h = run_generations(lambda: GaussianModel("mle"), real_sampler=normal_source(), real_size=10, sample_size=10,
                        strategies=Strategy("real_fraction", 0.2, fresh_real=True), generations=10, n_chains=20000,
                        metrics={"v": lambda c: c.model.sigma2_}, seeds=4)
    s = summarize(h, "v")
    assert np.all(np.abs((s["mean"] - law) / s["sem"]) < 4.5)
    wrong = C.fresh_real_expected_variance(np.arange(11), 10, 0.3)  # negative control: another λ is rejected
    assert np.any(np.abs((s["mean"] - wrong) / s["sem"]) > 4.5)
    np.testing.assert_allclose(C.fresh_real_expected_variance([0, 3], 10, 0.0), 0.9 ** np.array([1, 4]))
    with pytest.raises(ValueError, match="generation"):
        C.fresh_real_expected_variance(-1, 10, 0.2)


def test_figures_draw_one_line_per_strategy():
    import matplotlib.pyplot as plt

    h = _gauss(0, n_chains=20, generations=4, m=10)
    ax = P.plot_strategies(h, "spread kept")
    assert [l.get_label() for l in ax.get_lines()] == [s.label for s in STRATEGIES]
    for line, s in zip(ax.get_lines(), STRATEGIES):
        np.testing.assert_allclose(line.get_ydata(), np.maximum(np.median(values(h, "spread kept", s.label), 0), 1e-4))
    with pytest.raises(ValueError, match="metric"):
        P.plot_strategies(h, "nope")
    t = R.law_table(R.compare_regression(WORKFLOWS[:3], n_chains=50, generations=3))
    ax = P.plot_regression(t, bound=R.accumulate_bound(10, 50))
    labels = [l.get_label() for l in ax.get_lines()]
    assert "replace: exact law" in labels and "accumulate: exact law" in labels
    assert not any("subsample: exact" in x for x in labels)
    tr = C.temperature_tradeoff((0.8, 1.0), n_chains=20, generations=3, sample_size=20)
    axes = P.plot_tradeoff(tr, model="Gaussian")
    assert len(axes[0].get_legend().get_texts()) == 2
    a, b = (ax.get_window_extent() for ax in (axes[0].title, axes[1].title))
    assert a.x1 < b.x0, "titles overlap"
    ph = C.phase_diagram((0.0, 0.25, 1.0), (2, 20), generations=5, n_chains=20)
    ax = P.plot_phase_diagram(ph)
    assert any(tx.get_text().endswith("*") for tx in ax.texts)
    plt.close("all")


# ----------------------------------------------------------------------------- explorer
def test_explorer_every_control_redraws():
    ex = mix_explorer(n_chains=30, sample_size=20, generations=10)
    assert ex.n_draws == 1 and ex.figure is not None
    for name, value in [("real_fraction", 0.5), ("sample_size", 40), ("generations", 15), ("temperature", 0.8),
                        ("fresh_real", True), ("strategy", "accumulate"), ("model", "mixture")]:
        before, n = figure_data(ex.figure), ex.n_draws
        ex.controls[name].value = value
        assert ex.n_draws == n + 1 and ex.last_error is None, (name, ex.last_error)
        after = figure_data(ex.figure)
        assert len(before) != len(after) or any(a.shape != b.shape or not np.allclose(a, b, equal_nan=True)
                                                for a, b in zip(before, after)), name


def test_explorer_runs_the_loop_and_says_what_is_degenerate():
    ex = mix_explorer(n_chains=30, sample_size=20, generations=20)
    lm = C.lesson_model("gaussian")
    direct = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=20, sample_size=20,
                             strategies=Strategy("real_fraction", 0.1), generations=20, n_chains=30,
                             metrics=lm.metrics(), seeds=0)
    pd.testing.assert_frame_equal(ex.last_result["history"], direct)
    ex.controls["real_fraction"].value = 0.0
    assert "replace" in " ".join(ex.last_result["notes"])
    ex.controls["real_fraction"].value = 1.0
    assert "real data only" in " ".join(ex.last_result["notes"])
    ex.controls["real_fraction"].value = 0.25
    ex.controls["sample_size"].value = 2
    assert ex.last_result["effective_real_fraction"] == 0.0 and any("not whole" in n for n in ex.last_result["notes"])
    assert ex.last_result["collapsed"]
    ex.controls["strategy"].value = "replace"
    assert any("not used" in n for n in ex.last_result["notes"])


def test_explorer_too_slow_is_a_message_and_bad_arguments():
    ex = mix_explorer(model="mixture", strategy="accumulate", sample_size=10, generations=10)
    ex.controls["sample_size"].value = 500
    ex.controls["generations"].value = 200
    assert ex.last_error is not None and "too slow" in ex.last_error and ex.figure is None
    ex.controls["strategy"].value = "replace"
    ex.controls["model"].value = "gaussian"
    assert ex.last_error is None and ex.figure is not None
    for kw, match in [(dict(sample_size=1000), "sample_size"), (dict(model="gpt"), "model"),
                      (dict(temperature=3.0), "temperature"), (dict(strategy="mixup"), "strategy")]:
        with pytest.raises(ValueError, match=match):
            mix_explorer(**kw)


# ----------------------------------------------------------------------------- seed sweeps of the notebook's asserts
# Each nb04_* function recomputes one of lesson 04's notebook asserts at the notebook's sizes for the current mode
# (`pick`: quick sizes under COLLAPSE_KIT_QUICK=1, as in the suite; full sizes under COLLAPSE_KIT_QUICK=0) for
# another seed; assert_holds_for_many_seeds runs 20 seeds (100, 101, ...); COLLAPSE_KIT_SWEEP_SEEDS=100 measures
# the pass rate over more (recorded in benchmarks/RESULTS.md).
def nb04_gaussian_strategies(seed):
    """Section 1 (Gaussian): replace follows its law, every other strategy keeps more spread; at the
    notebook's sizes for the current mode."""
    generations = pick(full=100, quick=20)
    h = _gauss(seed, n_chains=1000, generations=generations, m=50)
    last = final(h, "spread kept").set_index("strategy")
    rep, others = last.loc["replace"], last.drop("replace")
    log_rep = np.log(values(h, "spread kept", "replace")[:, -1])
    log_law = np.log(median_variance(generations, 50, "mle"))
    return bool(abs(log_rep.mean() - log_law) < 4 * log_rep.std(ddof=1) / np.sqrt(len(log_rep))
                and np.all(others["mean"] - rep["mean"] > 3 * np.hypot(others["sem"], rep["sem"]))
                and last.loc["accumulate", "mean"] - 4 * last.loc["accumulate", "sem"] > 0.85)


@lru_cache(maxsize=1)
def _mixture_truth():
    lm = C.lesson_model("mixture")
    return float(minority_share(lm.population.sample(200_000, np.random.default_rng(0))[None], lm.population)[0])


def nb04_mixture_strategies(seed):
    """Section 1 (mixture): replace loses the minority more often, accumulate keeps its share; at the
    notebook's sizes for the current mode."""
    lm = C.lesson_model("mixture")
    n_mix = pick(full=200, quick=100)
    h = C.compare_strategies(lm.make_model, real_sampler=lm.real_sampler, real_size=20, sample_size=20,
                             strategies=STRATEGIES, generations=pick(full=50, quick=15), n_chains=n_mix,
                             metrics=lm.metrics("minority share"), seed=seed)
    share = final(h, "minority share").set_index("strategy")
    lost = {s.label: float(np.mean(values(h, "minority share", s.label)[:, -1] == 0)) for s in STRATEGIES}
    se = np.hypot(*(np.sqrt(max(p * (1 - p), 0.25 / n_mix) / n_mix) for p in (lost["replace"], lost["accumulate"])))
    return bool(lost["replace"] - lost["accumulate"] > 3 * se
                and abs(share.loc["accumulate", "mean"] - _mixture_truth()) < 4 * share.loc["accumulate", "sem"])


def nb04_regression_laws(seed):
    """Section 4: the replace and accumulate regression laws agree with the simulation; at the notebook's
    sizes for the current mode."""
    t = R.law_table(R.compare_regression(WORKFLOWS[:3], n_chains=pick(full=4000, quick=1000),
                                         generations=pick(full=20, quick=8), seed=seed))
    return bool(np.all(np.abs(t.loc[t.strategy.isin(["replace", "accumulate"]), "z"]) < 4.5))


def nb04_temperature_tradeoff(seed):
    """Section 5: colder sampling trades diversity for quality, and collapses faster; at the notebook's
    sizes for the current mode."""
    g_t = pick(full=30, quick=10)
    tr = C.temperature_tradeoff((0.8, 0.9, 1.0), n_chains=1000, generations=g_t, sample_size=100, seed=seed)
    q = summarize(tr, "quality", by=("temperature", "generation")).set_index(["temperature", "generation"])
    d = summarize(tr, "diversity", by=("temperature", "generation")).set_index(["temperature", "generation"])
    return bool(q.loc[(0.8, 0), "mean"] - q.loc[(1.0, 0), "mean"] > 4 * np.hypot(q.loc[(0.8, 0), "sem"], q.loc[(1.0, 0), "sem"])
                and d.loc[(1.0, 0), "mean"] - d.loc[(0.8, 0), "mean"] > 4 * np.hypot(d.loc[(0.8, 0), "sem"], d.loc[(1.0, 0), "sem"])
                and d.loc[(0.8, g_t), "mean"] / d.loc[(0.8, 0), "mean"]
                < 0.5 * d.loc[(1.0, g_t), "mean"] / d.loc[(1.0, 0), "mean"])


def nb04_phase_diagram(seed):
    """Section 6: the phase diagram's cells on the right side of 0.5 and 0.75; at the notebook's sizes for
    the current mode."""
    ph = C.phase_diagram((0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0), (2, 5, 10, 20, 50, 200),
                         generations=pick(full=100, quick=20), n_chains=pick(full=500, quick=200), seed=seed)
    cell = ph.set_index(["sample_size", "real_fraction"])
    big = ph[(ph.real_fraction >= 0.5) & (ph.sample_size >= 20)]
    return bool((cell.loc[[(m, 0.0) for m in (2, 5, 10)], "spread"] < 0.5).all()
                and np.allclose(ph.loc[ph.real_fraction == 1.0, "spread"], 1.0)
                and (big["spread"] > 0.75).all() and cell.loc[(200, 0.1), "spread"] > cell.loc[(5, 0.1), "spread"] + 0.5)


def nb04_accumulate_subsample_exercise(seed):
    """Exercise 1's check: the notebook's hand-written accumulate-subsample loop (with the reference answer) and
    ``run_generations`` keep the same mean variance after 10 generations, within 4 standard errors of the gap
    (the notebook's chains for the current mode; its seeds 0 .. N − 1 and 1 become ``seed``'s own)."""
    from collapse_kit.exercises.lesson04 import reference_accumulate_subsample

    def my_chain(s, generations, m=10):   # the notebook's loop, line for line
        rng = np.random.default_rng(s)
        real = rng.standard_normal(m)
        model, synthetic = GaussianModel("mle").fit(real[None]), []
        for _ in range(generations):
            synthetic.append(model.sample(m, rng)[0])
            model = GaussianModel("mle").fit(reference_accumulate_subsample(real, synthetic, m, rng)[None])
        return model.sigma2_[0]

    n = pick(full=400, quick=200)
    mine = np.array([my_chain([seed, s], 10) for s in range(n)])
    course = run_generations(lambda: GaussianModel("mle"), real_sampler=normal_source(), real_size=10, sample_size=10,
                             strategies=WORKFLOWS[2], generations=10, n_chains=4000,
                             metrics={"variance": lambda c: c.model.sigma2_}, seeds=seed)
    loop = values(course, "variance")[:, -1]
    se = np.hypot(mine.std() / np.sqrt(n), loop.std() / np.sqrt(len(loop)))
    return bool(abs(mine.mean() - loop.mean()) < 4 * se)


def nb04_fresh_real_law(seed):
    """Section 2: fresh real data (λ = 0.2, M = 10): the simulated mean variance follows the exact recursion at
    every generation, |z| < 4.5 (at the notebook's sizes for the current mode)."""
    gens = pick(full=60, quick=20)
    fresh = run_generations(lambda: GaussianModel("mle"), real_sampler=normal_source(), real_size=10, sample_size=10,
                            strategies=Strategy("real_fraction", 0.2, fresh_real=True), generations=gens,
                            n_chains=pick(full=20000, quick=4000), metrics={"variance": lambda c: c.model.sigma2_},
                            seeds=seed)
    s = summarize(fresh, "variance")
    z = (s["mean"].to_numpy() - C.fresh_real_expected_variance(np.arange(gens + 1), 10, 0.2)) / s["sem"].to_numpy()
    return bool(np.all(np.abs(z) < 4.5))


def nb04_error_budget(seed):
    """Exercise 3 (the reference answer): without real data the error is over twice the budget, with half real
    data within it, and some λ of the grid meets it (the notebook's chains for the current mode)."""
    from collapse_kit.exercises import lesson04 as L04

    errors, choice = L04.reference_error_budget_experiment(L04.GRID, n_chains=pick(full=2000, quick=500),
                                                           generations=10, seed=seed)
    return bool(errors[0.0] > 2 * L04.ERROR_BUDGET and errors[0.5] < L04.ERROR_BUDGET and choice is not None)


def nb04_mix_explorer_probe(seed):
    """Section 7's probe of the mix-ratio explorer: setting λ from 0.1 to 0 lowers the median spread kept at
    generation 50 by more than 0.2 (M = 50; the explorer's ``seed``)."""
    import matplotlib.pyplot as plt

    probe = mix_explorer(real_fraction=0.1, sample_size=50, generations=50, seed=seed)
    before = probe.last_result["final_median"]
    probe.controls["real_fraction"].value = 0.0
    after = probe.last_result["final_median"]
    plt.close("all")
    return bool(after < before - 0.2 and probe.n_draws == 2)


SWEEP04 = [nb04_gaussian_strategies, nb04_mixture_strategies, nb04_regression_laws, nb04_temperature_tradeoff,
           nb04_phase_diagram, nb04_accumulate_subsample_exercise, nb04_fresh_real_law, nb04_error_budget,
           nb04_mix_explorer_probe]


@pytest.mark.parametrize("check_fn", SWEEP04, ids=lambda f: f.__name__)
def test_lesson04_asserts_hold_for_many_seeds(check_fn):
    assert_holds_for_many_seeds(check_fn)
