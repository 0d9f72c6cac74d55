"""Conformance: the Gaussian model in the one loop, and the exact engine against the loop.

For every strategy of WORKFLOWS plus fresh real data: GaussianModel runs through run_generations with
the right shapes, the same seed gives the same history, an interrupted run resumed through `store=`
equals an uninterrupted one; and the exact sufficient-statistic engine agrees in distribution with the
loop (two-sample KS tests, with negative controls showing the test rejects a wrong engine).
"""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import assert_resumes

from collapse_kit import gaussian as G
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

ALL = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]
M, GENS = 10, 6


def loop(strategies, n_chains=4, generations=GENS, estimator="mle", temperature=1.0, seeds=0, **kw):
    return run_generations(lambda: G.GaussianModel(estimator, temperature), real_sampler=G.normal_source(),
                           sample_size=M, n_chains=n_chains, generations=generations, strategies=strategies,
                           metrics=G.loop_metrics(), seeds=seeds, **kw)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_gaussian_model_runs_through_the_loop(strategy):
    h = loop(strategy, seeds=[3, 4])
    assert set(h["metric"].astype(str)) == {"mean", "variance", "W2²"}
    assert len(h) == 2 * 4 * (GENS + 1) * 3
    v = values(h, "variance")
    assert v.shape == (8, GENS + 1) and np.all(v > 0)
    assert set(h["chain"]) == set(range(4)) and set(h["seed"]) == {3, 4}
    assert (h["strategy"].astype(str) == strategy.label).all()


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_same_seed_same_history(strategy):
    pd.testing.assert_frame_equal(loop(strategy, seeds=7), loop(strategy, seeds=7))
    assert not loop(strategy, seeds=7)["value"].equals(loop(strategy, seeds=8)["value"])


def test_interrupted_run_resumes_to_the_same_history(tmp_path):
    assert_resumes(lambda **kw: loop(ALL, seeds=[1, 2], **kw), tmp_path / "run", seed=2, generation=3,
                   strategy=ALL[2])


# --------------------------------------------------------------------------- exact engine vs the loop
N_CHAINS = 3000
CASES = [
    (Strategy("replace"), "mle", 1.0),
    (Strategy("replace"), "unbiased", 1.0),
    (Strategy("replace"), "mle", 0.8),
    (Strategy("accumulate"), "mle", 1.0),
    (Strategy("accumulate"), "unbiased", 0.8),
    (Strategy("real_fraction", 0.1), "mle", 1.0),
    (Strategy("real_fraction", 0.5), "unbiased", 1.0),
    (Strategy("real_fraction", 0.5, fresh_real=True), "mle", 1.0),
    (Strategy("real_fraction", 0.3, fresh_real=True), "unbiased", 0.8),
]


def _last(h, metric):
    return values(h, metric)[:, -1]


def _agree(a, b):
    """Two-sample KS on the last generation's variance and mean; the smaller p-value."""
    return min(stats.ks_2samp(_last(a, "variance"), _last(b, "variance")).pvalue,
               stats.ks_2samp(_last(a, "mean"), _last(b, "mean")).pvalue)


@pytest.mark.parametrize("strategy, estimator, temperature", CASES,
                         ids=lambda x: x.key if isinstance(x, Strategy) else str(x))
def test_exact_engine_agrees_with_the_loop(strategy, estimator, temperature):
    """Fixed seeds: deterministic; the threshold 1e-3 over 9 cases x 2 metrics is a 2% false-alarm rate."""
    ref = loop(strategy, N_CHAINS, estimator=estimator, temperature=temperature, seeds=1)
    exact = G.simulate_gaussian_chains(N_CHAINS, GENS, M, strategies=strategy, estimator=estimator,
                                       temperature=temperature, seeds=2)
    assert list(exact.columns) == list(ref.columns)
    assert _agree(exact, ref) > 1e-3


@pytest.mark.parametrize("wrong", [
    dict(strategies=Strategy("replace"), estimator="unbiased"),                       # wrong ddof
    dict(strategies=Strategy("real_fraction", 0.2, fresh_real=True)),                 # wrong k_real (2 not 5)
    dict(strategies=Strategy("real_fraction", 0.5)),                                  # fixed, not fresh
    dict(strategies=Strategy("replace"), temperature=0.9),                            # wrong temperature
])
def test_negative_control_a_wrong_engine_is_rejected(wrong):
    ref = loop(wrong["strategies"] if wrong["strategies"].name == "replace"
               else Strategy("real_fraction", 0.5, fresh_real=True), N_CHAINS, seeds=1)
    bad = G.simulate_gaussian_chains(N_CHAINS, GENS, M, seeds=2, **wrong)
    assert _agree(bad, ref) < 1e-3


def test_accumulate_subsample_is_not_exact():
    with pytest.raises(ValueError, match="run_generations"):
        G.simulate_gaussian_chains(10, 3, 10, strategies=Strategy("accumulate_subsample"))
    with pytest.raises(ValueError, match="run_generations"):
        G.simulate_gaussian_chains(10, 3, 10, strategies=list(WORKFLOWS))


def test_exact_engine_refuses_strategies_it_does_not_know():
    """A web crawl with no crawl size would look like accumulate to the exact engine: refused, not run."""
    import pytest

    from collapse_kit.gaussian import simulate_gaussian_chains
    from collapse_kit.strategies import WebCrawl

    with pytest.raises(ValueError, match="run_generations"):
        simulate_gaussian_chains(10, 3, 20, strategies=WebCrawl(human_start=20))
