import numpy as np
import pandas as pd
import pytest

from collapse_kit.gaussian import GaussianModel, loop_metrics
from collapse_kit.loop import Strategy, make_strategy, run_generations, summarize

REAL = np.random.default_rng(0).normal(size=50)


def run(**kw):
    kw.setdefault("generations", 3)
    return run_generations(lambda: GaussianModel(), REAL, metrics=loop_metrics(), **kw)


def test_history_is_tidy_and_complete():
    h = run(seeds=[0, 1], generations=4)
    assert list(h.columns[:5]) == ["generation", "seed", "metric", "value", "strategy"]
    assert len(h) == 2 * 5 * 3
    assert set(h.generation) == set(range(5)) and set(h.metric) == {"mean", "variance", "W2²"}
    s = summarize(h, "variance")
    assert len(s) == 5 and {"mean", "sem", "q0.5"} <= set(s.columns)


def test_same_seed_same_numbers_and_different_seeds_differ():
    a, b, c = run(seeds=7), run(seeds=7), run(seeds=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.value, c.value)


def test_generation_zero_fits_the_real_data():
    h = run()
    v0 = h[(h.generation == 0) & (h.metric == "variance")].value.item()
    assert v0 == pytest.approx(REAL.var())


def test_strategies_build_the_training_sets_they_promise():
    rng = np.random.default_rng(0)
    real = np.arange(10.0)
    syn = [np.full(10, 100.0), np.full(10, 200.0)]
    assert np.all(Strategy("replace").training_set(real, syn, 10, rng) == 200)
    acc = Strategy("accumulate").training_set(real, syn, 10, rng)
    assert len(acc) == 30 and set(acc) == set(real) | {100.0, 200.0}
    sub = Strategy("accumulate_subsample").training_set(real, syn, 10, rng)
    assert len(sub) == 10 and set(sub) <= set(acc)
    mix = Strategy("real_fraction", 0.3).training_set(real, syn, 10, rng)
    assert len(mix) == 10 and np.sum(mix < 10) == 3 and np.sum(mix == 200) == 7
    fresh = Strategy("real_fraction", 0.5, fresh_real=True).training_set(
        real, syn, 10, rng, real_sampler=lambda n, r: np.full(n, -1.0))
    assert np.sum(fresh == -1) == 5


def test_lists_work_as_data():
    rng = np.random.default_rng(0)
    out = Strategy("real_fraction", 0.5).training_set(["a", "b"], [["x", "y"]], 2, rng)
    assert sorted(out) in (["a", "x"], ["a", "y"], ["b", "x"], ["b", "y"])


def test_accumulate_keeps_variance_where_replace_loses_it():
    kw = dict(generations=30, seeds=range(20))
    rep = run(strategy="replace", **kw)
    acc = run(strategy="accumulate", **kw)
    last = lambda h: h[(h.generation == 30) & (h.metric == "variance")].value.median()
    assert last(acc) > 0.8 * REAL.var() > last(rep)


def test_real_fraction_one_trains_on_real_data_every_generation():
    h = run(strategy="real_fraction", real_fraction=1.0, generations=3)
    v = h[h.metric == "variance"].value.to_numpy()
    assert np.allclose(v, REAL.var(), rtol=0.3)


def test_on_generation_callback_and_labels():
    seen = []
    h = run(on_generation=lambda **kw: seen.append(kw["generation"]), labels={"M": 50})
    assert seen == [0, 1, 2, 3] and (h.M == 50).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(generations=0), "generations"),
    (dict(sample_size=1), "sample_size"),
    (dict(strategy="real_fraction", real_fraction=1.5), r"real_fraction.*\[0.0, 1.0\]"),
    (dict(strategy="real_fraction", real_fraction=-0.1), "real_fraction"),
    (dict(strategy="mix"), "strategy"),
    (dict(strategy="real_fraction", real_fraction=0.2, fresh_real=True), "real_sampler"),
    (dict(strategy="accumulate", real_fraction=0.2), "real_fraction"),
    (dict(seeds=[-1]), "seeds"),
    (dict(seeds=[]), "seeds"),
])
def test_bad_parameters_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_bad_data_is_rejected_clearly():
    with pytest.raises(ValueError, match="NaN"):
        run_generations(lambda: GaussianModel(), np.array([1.0, np.nan, 2.0]), generations=1)
    with pytest.raises(ValueError, match="at least 2"):
        run_generations(lambda: GaussianModel(), np.array([1.0]), generations=1)
    with pytest.raises(TypeError, match="numpy array or a list"):
        run_generations(lambda: GaussianModel(), "abc", generations=1)
    with pytest.raises(TypeError, match="generations"):
        run_generations(lambda: GaussianModel(), REAL, generations=2.5)
    with pytest.raises(TypeError, match="make_model"):
        run_generations(GaussianModel(), REAL, generations=1)
    with pytest.raises(ValueError, match="data"):
        GaussianModel().fit(np.ones((3, 2)))


def test_make_strategy_shortcuts():
    assert make_strategy(real_fraction=0.1) == Strategy("real_fraction", 0.1)
    assert make_strategy("accumulate").label == "accumulate"
    assert "fresh" in make_strategy("real_fraction", 0.2, fresh_real=True).label
    with pytest.raises(ValueError, match="fresh_real"):
        Strategy("replace", fresh_real=True)
