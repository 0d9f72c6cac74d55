import numpy as np
import pytest

from collapse_kit import mixing as X
from collapse_kit.widgets import figure_data


@pytest.mark.parametrize("model", X.MODELS)
@pytest.mark.parametrize("strategy, lam, fresh", [("replace", 0, False), ("accumulate", 0, False),
                                                  ("accumulate_subsample", 0, False), ("real_fraction", 0.2, False),
                                                  ("real_fraction", 0.2, True)])
def test_all_workflows_run(model, strategy, lam, fresh):
    r = X.simulate_mixing(model, strategy, n_chains=8, generations=4, sample_size=10, real_fraction=lam,
                          fresh_real=fresh, seed=1)
    assert r.spread.shape == (8, 5) and np.all(np.isfinite(r.spread)) and np.all(r.spread >= 0)
    assert (r.minority is not None) == (model == "mixture")
    h = r.to_history()
    assert {"generation", "seed", "metric", "value", "strategy"} <= set(h.columns)
    again = X.simulate_mixing(model, strategy, n_chains=8, generations=4, sample_size=10, real_fraction=lam,
                              fresh_real=fresh, seed=1)
    np.testing.assert_array_equal(r.spread, again.spread)


def test_replace_collapses_accumulate_does_not():
    kw = dict(n_chains=300, generations=40, sample_size=10, seed=0)
    rep = np.median(X.simulate_mixing("gaussian", "replace", **kw).spread[:, -1])
    acc = np.median(X.simulate_mixing("gaussian", "accumulate", **kw).spread[:, -1])
    sub = np.median(X.simulate_mixing("gaussian", "accumulate_subsample", **kw).spread[:, -1])
    assert rep < 0.05 and acc > 0.5 and rep < sub


def test_explicit_matches_exact_gaussian():
    """The explicit-sample engine and the exact simulator agree in distribution."""
    for strategy, lam in [("replace", 0.0), ("accumulate", 0.0), ("real_fraction", 0.3)]:
        a = X.simulate_mixing("gaussian", strategy, n_chains=3000, generations=8, sample_size=10, real_fraction=lam,
                              method="exact", seed=1).spread[:, -1]
        b = X.simulate_mixing("gaussian", strategy, n_chains=3000, generations=8, sample_size=10, real_fraction=lam,
                              method="explicit", seed=2).spread[:, -1]
        assert np.median(a) == pytest.approx(np.median(b), rel=0.12), strategy


def test_accumulate_subsample_matches_generic_loop():
    """Same strategy semantics as collapse_kit.loop's accumulate_subsample with a real GaussianModel."""
    from collapse_kit.gaussian import GaussianModel
    from collapse_kit.loop import run_generations

    rng = np.random.default_rng(0)
    finals = []
    for seed in range(150):
        real = rng.standard_normal(8)
        h = run_generations(lambda: GaussianModel("mle"), real, generations=6, strategy="accumulate_subsample",
                            metrics={"v": lambda m, s: m.sigma2_}, seeds=seed)
        finals.append(h["value"].iloc[-1])
    ours = X.simulate_mixing("gaussian", "accumulate_subsample", n_chains=3000, generations=6, sample_size=8,
                             seed=3).spread[:, -1]
    assert np.mean(finals) == pytest.approx(ours.mean(), abs=4 * np.std(finals) / np.sqrt(150))


def test_subsample_indices_distinct_and_uniform():
    rng = np.random.default_rng(0)
    for pool, k in [(10, 3), (1000, 20)]:
        idx = X.subsample_indices(rng, 4000, pool, k)
        assert idx.shape == (4000, k)
        s = np.sort(idx, axis=1)
        assert np.all(s[:, 1:] != s[:, :-1]) and idx.min() >= 0 and idx.max() < pool
        expected = 4000 * k / pool
        chi2 = ((np.bincount(idx.ravel(), minlength=pool) - expected) ** 2 / expected).sum()
        assert chi2 < pool + 5 * np.sqrt(2 * pool), chi2
    with pytest.raises(ValueError, match="k"):
        X.subsample_indices(rng, 2, 3, 4)


def test_fresh_real_law():
    law = X.fresh_real_expected_variance(np.arange(11), 10, 0.2)
    r = X.simulate_mixing("gaussian", "real_fraction", n_chains=20000, generations=10, sample_size=10,
                          real_fraction=0.2, fresh_real=True, seed=4)
    z = (r.spread.mean(0) - law) / (r.spread.std(0) / np.sqrt(r.n_chains))
    assert np.all(np.abs(z) < 4.5), z
    # λ = 0 is the replace (MLE) law, λ = 1 stays at (M-1)/M
    np.testing.assert_allclose(X.fresh_real_expected_variance([0, 3], 10, 0.0), 0.9 ** np.array([1, 4]))
    np.testing.assert_allclose(X.fresh_real_expected_variance([0, 5], 10, 1.0), [0.9, 0.9])
    with pytest.raises(ValueError, match="generation"):
        X.fresh_real_expected_variance(-1, 10, 0.2)


def test_temperature_tradeoff_both_sides():
    t = X.temperature_tradeoff((0.8, 1.0), n_chains=200, generations=5, sample_size=100)
    g0 = t[t.generation == 0].set_index("temperature")
    assert g0.loc[0.8, "quality"] > g0.loc[1.0, "quality"]      # colder: more typical samples
    assert g0.loc[0.8, "diversity"] < g0.loc[1.0, "diversity"]  # ... and less diverse
    last = t[t.generation == 5].set_index("temperature")
    assert last.loc[0.8, "diversity"] < 0.5 * last.loc[1.0, "diversity"]  # and collapse comes faster
    import matplotlib.pyplot as plt

    X.plot_tradeoff(t)
    plt.close("all")


def test_phase_diagram_and_plot():
    import matplotlib.pyplot as plt

    t = X.phase_diagram((0.0, 0.25, 1.0), (2, 20), generations=10, n_chains=50)
    assert len(t) == 6 and set(t.columns) >= {"spread", "stable", "effective_real_fraction"}
    row = t[(t.sample_size == 2) & (t.real_fraction == 0.25)].iloc[0]
    assert row.effective_real_fraction == 0.0  # round(0.5) = 0: flagged with * in the plot
    assert not t[(t.real_fraction == 0.0) & (t.sample_size == 2)].stable.iloc[0]
    assert np.allclose(t[(t.real_fraction == 1.0)].spread, 1.0)  # λ = 1: nothing is lost after generation 0
    ax = X.plot_phase_diagram(t)
    texts = [tx.get_text() for tx in ax.texts]
    assert any(tx.endswith("*") for tx in texts)
    plt.close("all")
    with pytest.raises(ValueError, match="real_fractions"):
        X.phase_diagram((1.5,), (10,))
    with pytest.raises(ValueError, match="phase_diagram"):
        X.plot_phase_diagram(t.drop(columns="spread"))


def test_compare_and_plot_workflows():
    import matplotlib.pyplot as plt

    res = X.compare_workflows("gaussian", n_chains=20, generations=5, sample_size=10)
    assert len(res) == 5
    h = X.history_from(res, ["spread kept"])
    assert h["strategy"].nunique() == 5
    ax = X.plot_workflows(res)
    assert len(ax.get_lines()) >= 5
    with pytest.raises(ValueError, match="metric"):
        X.plot_workflows(res, "nope")
    plt.close("all")


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="vae"), "model"), (dict(strategy="mixup"), "strategy"),
    (dict(real_fraction=0.1), "real_fraction"), (dict(strategy="real_fraction", real_fraction=1.5), "real_fraction"),
    (dict(sample_size=1), "sample_size"), (dict(generations=0), "generations"),
    (dict(temperature=0.0), "temperature"), (dict(fresh_real=True), "fresh_real"),
    (dict(seed=-2), "seed"), (dict(model="mixture", method="exact"), "exact"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        X.simulate_mixing(**{"n_chains": 4, "generations": 2, **kwargs})


# ----------------------------------------------------------------------------- explorer callbacks
def _changed(before, after):
    if len(before) != len(after):
        return True
    return any(a.shape != b.shape or not np.allclose(a, b, equal_nan=True) for a, b in zip(before, after))


def test_explorer_every_control_redraws():
    ex = X.mix_explorer(n_chains=30, sample_size=20, generations=10)
    assert ex.n_draws == 1 and ex.figure is not None
    changes = [("real_fraction", 0.5), ("sample_size", 40), ("generations", 15), ("temperature", 0.8),
               ("fresh_real", True), ("strategy", "accumulate"), ("model", "mixture")]
    for name, value in changes:
        before, n = figure_data(ex.figure), ex.n_draws
        ex.controls[name].value = value
        assert ex.n_draws == n + 1, name
        assert ex.last_error is None, ex.last_error
        assert ex.last_values[name] == value
        assert _changed(before, figure_data(ex.figure)), name


def test_explorer_extremes_do_not_crash_or_mislead():
    ex = X.mix_explorer(n_chains=30, sample_size=20, generations=20)
    ex.controls["real_fraction"].value = 0.0
    assert "replace" in " ".join(ex.last_result["notes"])
    assert ex.last_result["collapsed"] or ex.last_result["final_median"] < 0.9
    ex.controls["real_fraction"].value = 1.0
    assert "real data only" in " ".join(ex.last_result["notes"])
    assert ex.last_result["final_median"] > 0.5
    ex.controls["real_fraction"].value = 0.25
    ex.controls["sample_size"].value = 2  # λM = 0.5 rounds to 0 real items: said out loud
    assert ex.last_error is None
    assert ex.last_result["effective_real_fraction"] == 0.0
    assert any("not whole" in n for n in ex.last_result["notes"])
    assert ex.last_result["collapsed"]
    assert np.all(np.isfinite(ex.last_result["median"]))
    ex.controls["strategy"].value = "replace"
    assert any("not used" in n for n in ex.last_result["notes"])
    ex.controls["model"].value = "mixture"
    assert ex.last_error is None and ex.figure is not None


def test_explorer_too_slow_setting_is_a_message_not_a_crash():
    ex = X.mix_explorer(model="mixture", strategy="accumulate", sample_size=20, generations=10)
    n = ex.n_draws
    ex.controls["sample_size"].value = 500
    ex.controls["generations"].value = 200
    assert ex.last_error is not None and "too slow" in ex.last_error
    assert ex.figure is None  # nothing stale left on screen
    ex.controls["model"].value = "gaussian"
    assert ex.last_error is None and ex.n_draws > n


def test_explorer_chain_budget():
    assert X.explorer_chains("gaussian", "accumulate", 200, 500, 200) == 200
    assert X.explorer_chains("mixture", "replace", 64, 50, 50) == 64
    assert X.explorer_chains("mixture", "accumulate", 64, 200, 60) < 64


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="sample_size"):
        X.mix_explorer(sample_size=1000)
    with pytest.raises(ValueError, match="model"):
        X.mix_explorer(model="gpt")
    with pytest.raises(ValueError, match="temperature"):
        X.mix_explorer(temperature=3.0)
