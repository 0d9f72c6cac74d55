"""The batched generational loop: history, streams, context, strategies' training sets, validation."""
import numpy as np
import pandas as pd
import pytest

from collapse_kit import history as H
from collapse_kit.gaussian import GaussianModel, loop_metrics, normal_source
from collapse_kit.loop import Context, generation_rng, next_generation, run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

REAL = np.random.default_rng(0).normal(size=50)


def run(**kw):
    kw.setdefault("generations", 3)
    kw.setdefault("metrics", loop_metrics())
    return run_generations(GaussianModel, REAL, **kw)


def test_history_is_tidy_and_complete():
    h = run(seeds=[0, 1], n_chains=4, generations=4)
    assert list(h.columns) == H.COLUMNS
    assert len(h) == 2 * 4 * 5 * 3
    assert set(h.generation) == set(range(5)) and set(h.chain) == set(range(4)) and set(h.seed) == {0, 1}
    assert set(h.metric) == {"mean", "variance", "W2²"}
    # one row per (seed, chain, generation, metric)
    assert not h.duplicated(["seed", "chain", "generation", "metric"]).any()
    s = H.summarize(h, "variance")
    assert len(s) == 5 and {"mean", "sem", "q0.5"} <= set(s.columns)
    assert H.values(h, "variance").shape == (8, 5)


def test_paired_difference_is_the_per_chain_difference():
    h = run(n_chains=6, generations=3, strategies=[Strategy(), Strategy("real_fraction", 0.5)])
    a, b = Strategy("real_fraction", 0.5).label, Strategy().label
    va, vb = H.values(h, "variance", a), H.values(h, "variance", b)
    d = va[:, -1] - vb[:, -1]
    mean, se = H.paired_difference(h, "variance", a, b)
    assert mean == pytest.approx(d.mean()) and se == pytest.approx(d.std(ddof=1) / np.sqrt(6))
    assert H.paired_difference(h, "variance", a, b, generation=0) == (0.0, 0.0)  # generation 0 is shared
    assert H.paired_difference(h, "variance", b, a)[0] == pytest.approx(-mean)
    with pytest.raises(ValueError, match="`generation` must be in \\[-4, 3\\]"):
        H.paired_difference(h, "variance", a, b, generation=4)
    with pytest.raises(ValueError, match="`strategy` must be one of"):
        H.paired_difference(h, "variance", "no such arm", b)


def test_generation_zero_fits_the_real_data_exactly():
    h = run(n_chains=3)
    v0 = h[(h.generation == 0) & (h.metric == "variance")].value.to_numpy()
    np.testing.assert_allclose(v0, REAL.var(), rtol=1e-12)  # every chain shares the one real set


def test_same_seed_same_numbers_and_different_seeds_differ():
    a, b, c = run(seeds=7), run(seeds=7), run(seeds=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.value, c.value)


def test_streams_do_not_depend_on_the_other_strategies_or_seeds():
    """Generation g of strategy s in seed k draws from its own stream: adding strategies or seeds
    to a run changes none of the numbers already there."""
    alone = run(strategies="accumulate", seeds=3, n_chains=2)
    together = run(strategies=list(WORKFLOWS), seeds=[1, 3], n_chains=2)
    mine = together[(together.strategy == "accumulate") & (together.seed == 3)].reset_index(drop=True)
    np.testing.assert_array_equal(mine.value.to_numpy(), alone.value.to_numpy())


def test_generation_zero_is_shared_by_all_strategies():
    h = run(strategies=list(WORKFLOWS), n_chains=5)
    g0 = h[h.generation == 0].pivot_table(index=["chain", "metric"], columns="strategy", values="value",
                                          observed=True)
    assert g0.shape[1] == len(WORKFLOWS)
    assert np.allclose(g0.to_numpy(), g0.to_numpy()[:, :1])


def test_chains_are_independent_and_each_chain_draws_its_own_real_set():
    h = run_generations(GaussianModel, real_sampler=normal_source(), sample_size=30, n_chains=6, generations=2,
                        metrics=loop_metrics())
    v = H.values(h, "variance")
    assert len(np.unique(v[:, 0])) == 6 and len(np.unique(v[:, 2])) == 6


def test_context_carries_what_metrics_need():
    seen = []

    def metric(ctx: Context):
        seen.append((ctx.generation, ctx.strategy.label, ctx.train.shape, ctx.samples.shape, ctx.real.shape,
                     ctx.model0 is not None))
        assert ctx.model0.mu_.shape == (2,)
        return ctx.rng().random(ctx.n_chains)

    run_generations(GaussianModel, REAL, generations=2, sample_size=10, n_chains=2, strategies="accumulate",
                    metrics={"r": metric})
    assert seen[0] == (0, "accumulate", (2, 50), (2, 10), (2, 50), True)
    assert seen[2][2] == (2, 50 + 2 * 10)  # accumulate: real + two batches of samples


def test_metric_values_are_checked_and_dicts_expand():
    h = run(metrics={"both": lambda c: {"a": c.model.mu_, "b": 1.0}}, n_chains=2)
    assert set(h.metric) == {"both.a", "both.b"} and (h[h.metric == "both.b"].value == 1).all()
    with pytest.raises(ValueError, match="one value per chain"):
        run(metrics={"bad": lambda c: np.ones(5)}, n_chains=2)


def test_on_generation_hook_sees_every_generation_of_every_strategy():
    seen = []
    h = run(strategies=["replace", "accumulate"], on_generation=lambda c: seen.append((c.strategy.key, c.generation)),
            labels={"M": 50})
    assert sorted(seen) == sorted([(k, g) for k in ("replace", "accumulate") for g in range(4)])
    assert (h.M == 50).all()


def test_next_generation_is_one_turn_of_the_loop():
    rng = np.random.default_rng(0)
    real = np.zeros((2, 4))
    train, model, samples = next_generation(GaussianModel, Strategy("accumulate"), real, [np.ones((2, 4))], 4, rng)
    assert train.shape == (2, 8) and samples.shape == (2, 4)
    np.testing.assert_allclose(model.mu_, 0.5)


def test_generation_rng_streams_are_distinct():
    a = generation_rng(0, 1, Strategy("replace")).random()
    b = generation_rng(0, 1, Strategy("accumulate")).random()
    c = generation_rng(0, 2, Strategy("replace")).random()
    d = generation_rng(1, 1, Strategy("replace")).random()
    assert len({a, b, c, d}) == 4
    assert generation_rng(0, 0, Strategy("replace")).random() == generation_rng(0, 0, Strategy("accumulate")).random()


def test_accumulate_keeps_variance_where_replace_loses_it():
    h = run_generations(GaussianModel, real_sampler=normal_source(), sample_size=20, n_chains=400, generations=30,
                        strategies=["replace", "accumulate"], metrics=loop_metrics())
    last = H.final(h, "variance").set_index("strategy")["mean"]
    # replace: E[σ²] = ((M-1)/M)^31 = 0.204 for M = 20; accumulate stays near 1 (Gerstgrasser et al.)
    assert last["replace"] == pytest.approx(((19 / 20) ** 31), rel=0.2)
    assert last["accumulate"] > 0.8


def test_real_fraction_one_trains_on_the_fixed_real_set_only():
    h = run(strategies="real_fraction", real_fraction=1.0, sample_size=50, n_chains=3)
    v = h[h.metric == "variance"].value.to_numpy()
    np.testing.assert_allclose(v, REAL.var(), rtol=1e-12)  # k_real = M = N: the whole real set every time


def test_model_with_wrong_sample_shape_gets_a_clear_error():
    class Flat(GaussianModel):
        def sample(self, n, rng):
            return super().sample(n, rng).ravel()

    with pytest.raises(TypeError, match=r"shape \(n_chains, 50"):
        run_generations(Flat, REAL, generations=1, n_chains=2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(generations=0), "generations"),
    (dict(sample_size=0), "sample_size"),
    (dict(n_chains=0), "n_chains"),
    (dict(strategies="real_fraction", real_fraction=1.5), r"real_fraction.*\[0.0, 1.0\]"),
    (dict(strategies="real_fraction", real_fraction=-0.1), "real_fraction"),
    (dict(strategies="mix"), "strategy"),
    (dict(strategies="real_fraction", real_fraction=0.2, fresh_real=True), "real_sampler"),
    (dict(strategies="accumulate", real_fraction=0.2), "real_fraction"),
    (dict(strategies=["replace", "replace"]), "twice"),
    (dict(seeds=[-1]), "seeds"),
    (dict(seeds=[]), "seeds"),
    (dict(seeds=[1, 1]), "twice"),
])
def test_bad_parameters_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_bad_input_is_rejected_before_any_work():
    with pytest.raises(ValueError, match="NaN"):
        run_generations(GaussianModel, np.array([1.0, np.nan, 2.0]), generations=1)
    with pytest.raises(ValueError, match="real"):
        run_generations(GaussianModel, generations=1)
    with pytest.raises(TypeError, match="generations"):
        run_generations(GaussianModel, REAL, generations=2.5)
    with pytest.raises(TypeError, match="make_model"):
        run_generations(GaussianModel(), REAL, generations=1)
    with pytest.raises(TypeError, match="fresh_real"):
        Strategy("real_fraction", 0.5, fresh_real="no")
    with pytest.raises(ValueError, match="data"):
        GaussianModel().fit(np.ones((3, 1)))


def test_memory_guard_refuses_runs_that_cannot_fit(monkeypatch):
    calls = []
    with pytest.raises(ValueError, match=r"GiB.*n_chains <= \d+"):
        run_generations(lambda: calls.append(1) or GaussianModel(), REAL, generations=10**6, n_chains=1000,
                        sample_size=100, strategies="accumulate")
    assert calls == []  # refused before fitting anything
    monkeypatch.setenv("COLLAPSE_KIT_MEMORY_GB", "lots")
    with pytest.raises(ValueError, match="COLLAPSE_KIT_MEMORY_GB"):
        run(n_chains=2)
