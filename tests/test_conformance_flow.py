"""Conformance: the neural flow in the one loop.

For every strategy of WORKFLOWS plus fresh real data: FlowModel runs through run_generations with the
right shapes and training-set sizes, the same seed gives the same history, an interrupted run resumed
through `store=` equals an uninterrupted one (the flow is refitted from its own random stream), and the
three loops of Alemohammad et al. order themselves as lesson 08 says: with a sampling bias, fresh real data
keep more variance than the fixed real set, which keeps more than the fully synthetic loop.
"""
import numpy as np
import pandas as pd
import pytest

from conftest import assert_resumes

from collapse_kit import flow as FL
from collapse_kit import mixture as X
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

POP = X.population("two_modes")
ALL = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]


def loop(strategies, seeds=0, n_chains=3, generations=2, temperature=1.0, sample_size=40, **kw):
    return run_generations(lambda: FL.FlowModel(steps=60, temperature=temperature), real_sampler=POP.sampler(),
                           real_size=50, sample_size=sample_size, generations=generations, strategies=strategies,
                           n_chains=n_chains, metrics=FL.loop_metrics(POP, n_eval=200), seeds=seeds, **kw)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_flow_runs_through_the_loop(strategy):
    seen = []
    h = loop(strategy, on_generation=lambda ctx: seen.append((ctx.samples.shape, ctx.train.shape)))
    assert set(h["metric"].astype(str)) == {"variance / real variance", "KL(real ‖ model)"}
    assert values(h, "variance / real variance").shape == (3, 3)
    assert [s for s, _ in seen] == [(3, 40)] * 3
    assert [t[1] for _, t in seen] == [50] + [strategy.training_size(g, 50, 40) for g in (1, 2)]


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_same_seed_same_history(strategy):
    pd.testing.assert_frame_equal(loop(strategy, seeds=3), loop(strategy, seeds=3))
    assert not np.array_equal(values(loop(strategy, seeds=3), "KL(real ‖ model)"),
                              values(loop(strategy, seeds=4), "KL(real ‖ model)"))


def test_interrupted_run_resumes_to_the_same_history(tmp_path):
    assert_resumes(lambda **kw: loop(ALL, **kw), tmp_path / "run", seed=0, generation=2, strategy=ALL[3])


def test_mad_ordering_with_a_sampling_bias():
    loops = [WORKFLOWS[0], WORKFLOWS[1], ALL[-1]]
    h = run_generations(lambda: FL.FlowModel(steps=150, temperature=0.8), real_sampler=POP.sampler(),
                        sample_size=200, generations=5, strategies=loops, n_chains=16, seeds=1,
                        metrics=FL.loop_metrics(POP, n_eval=500))
    v = [values(h, "variance / real variance", s.label)[:, -1] for s in loops]
    for lower, higher in ((v[0], v[1]), (v[1], v[2])):
        d = higher - lower
        assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(len(d))
