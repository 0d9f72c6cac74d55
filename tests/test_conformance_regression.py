"""Conformance: RegressionModel through run_generations for every strategy; the closed forms of
Gerstgrasser et al. (2024) within Monte-Carlo error; determinism; store resume."""
import numpy as np
import pandas as pd
import pytest

from collapse_kit import regression as R
from collapse_kit.history import values
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

ALL = [*WORKFLOWS, Strategy("real_fraction", 0.5, fresh_real=True)]


def _run(p, strategies, metrics=None, **kw):
    return run_generations(p.make_model, real_sampler=p.real_sampler, real_size=p.n_samples, n_chains=p.n_chains,
                           strategies=strategies, metrics=metrics or p.metrics(), **kw)


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.key)
def test_every_strategy_runs_and_is_deterministic(strategy):
    p = R.linear_problem(6, n_samples=12, n_features=3, seed=2)
    seen = []
    h = _run(p, strategy, generations=3, seeds=5, on_generation=lambda c: seen.append((c.generation, c.samples.shape,
                                                                                         c.train.shape)))
    v = values(h, "test error")
    assert v.shape == (6, 4) and np.all(np.isfinite(v)) and np.all(v >= 0)
    assert all(s == (6, 12, 4) for _, s, _ in seen)
    sizes = [t[1] for g, _, t in seen]
    assert sizes == [strategy.training_size(g, 12, 12) for g in range(4)]
    pd.testing.assert_frame_equal(h, _run(p, strategy, generations=3, seeds=5))
    assert not h.equals(_run(p, strategy, generations=3, seeds=6))


@pytest.mark.parametrize("law_strategy", [WORKFLOWS[0], WORKFLOWS[1]], ids=lambda s: s.key)
def test_closed_forms_within_four_standard_errors(law_strategy):
    h = R.compare_regression([law_strategy], n_chains=3000, generations=6, n_samples=30, n_features=5, noise=0.5,
                             seed=3)
    t = R.law_table(h)
    assert t["law"].notna().all() and len(t) == 7
    assert np.all(np.abs(t["z"]) < 4), t


def test_a_wrong_law_is_caught():
    """Negative control: the same test rejects a law off by one generation (n = g instead of g + 1 fits)."""
    h = R.compare_regression([WORKFLOWS[0]], n_chains=3000, generations=6, n_samples=30, n_features=5, seed=3)
    t = R.law_table(h)
    g = t["generation"].to_numpy()
    wrong = (t["law"] * g / (g + 1))[g >= 1]
    assert np.any(np.abs((t["mean"][g >= 1] - wrong) / t["sem"][g >= 1]) > 4)


def test_store_resume_gives_identical_results(tmp_path):
    p = R.linear_problem(5, n_samples=10, n_features=2, seed=0)
    strategies = [WORKFLOWS[1], WORKFLOWS[2], Strategy("real_fraction", 0.5, fresh_real=True)]
    want = _run(p, strategies, generations=4, seeds=1)
    metric = p.metrics()["test error"]

    def flaky(ctx):
        if ctx.generation == 3 and ctx.strategy == strategies[1]:
            raise KeyboardInterrupt
        return metric(ctx)

    with pytest.raises(KeyboardInterrupt):
        _run(p, strategies, metrics={"test error": flaky}, generations=4, seeds=1, store=tmp_path / "run")
    assert any((tmp_path / "run").rglob("gen=*"))
    got = _run(p, strategies, generations=4, seeds=1, store=tmp_path / "run")
    pd.testing.assert_frame_equal(got, want)
