"""Conformance: the fine-tuned language model (lesson 06) in the generational loop.

For every strategy of ``WORKFLOWS`` and a fresh-real ``real_fraction``: FineTunedLM runs through
``run_generations`` with the right shapes, the same seed gives the same history, and a run stopped
and resumed through ``store=`` equals an uninterrupted one. Lesson 06's own entry point,
``finetune.run``, is ``run_generations`` plus the store: its history equals the loop's exactly.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_kit import finetune as ft
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy

torch.set_num_threads(1)

SETUP = ft.FinetuneSetup(preset="tiny", base_steps=20, n_blocks=12, n_test=6, prompt_tokens=12, new_tokens=12,
                         epochs=1, batch_size=6, num_beams=2)
STRATEGIES = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    old = os.environ.get("COLLAPSE_KIT_CACHE")
    os.environ["COLLAPSE_KIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    out = ft.prepare(tmp_path_factory.mktemp("run"), SETUP, device="cpu", progress=False)
    yield out
    if old is None:
        os.environ.pop("COLLAPSE_KIT_CACHE", None)
    else:
        os.environ["COLLAPSE_KIT_CACHE"] = old


def _loop(folder, strategies, seeds=0, store=None, generations=2):
    base = folder / "base"
    real, test = np.load(base / "real.npy"), np.load(base / "test.npy")
    pool = np.concatenate([real, test[:, :SETUP.prompt_tokens]])  # fresh real blocks come from here

    def real_sampler(rng, n_chains, n):
        return pool[rng.choice(len(pool), size=(n_chains, n), replace=False)]

    shapes = []
    hist = run_generations(lambda: ft.FineTunedLM(base, real, SETUP, "cpu"), real, generations=generations,
                           strategies=strategies, real_sampler=real_sampler, seeds=seeds, store=store,
                           metrics={"": ft.lm_metrics(test, ft.tokenizer_of(base), SETUP.prompt_tokens)},
                           on_generation=lambda ctx: shapes.append((ctx.strategy, ctx.generation, ctx.samples.shape,
                                                                    None if ctx.train is None else ctx.train.shape)))
    return hist, shapes


def _norm(h):
    h = h.astype({k: str for k in ("metric", "strategy", "strategy_name")})
    return h.sort_values(["strategy", "seed", "generation", "metric", "chain"], ignore_index=True)


def test_every_strategy_runs_with_the_right_shapes_and_is_reproducible(folder):
    hist, shapes = _loop(folder, STRATEGIES)
    m, t = SETUP.n_blocks, SETUP.prompt_tokens
    for strat, g, samples, train in shapes:
        assert samples == (1, m, t)
        assert train == (1, strat.training_size(g, m, m), t), (strat.label, g, train)
    assert set(hist["strategy"]) == {s.label for s in STRATEGIES}
    real_in = hist[(hist["metric"] == "real_in_train") & (hist["generation"] == 2)].set_index("strategy")["value"]
    assert real_in["replace"] == 0 and real_in["accumulate"] == pytest.approx(1 / 3)
    assert real_in["real fraction 0.1 (fixed)"] == pytest.approx(1 / m)  # round(0.1 * 12) = 1 real block
    assert real_in["real fraction 0.5 (fresh)"] < 0.5  # fresh blocks are mostly not in the fixed real set
    again, _ = _loop(folder, STRATEGIES)
    pd.testing.assert_frame_equal(again, hist)
    other, _ = _loop(folder, STRATEGIES[:1], seeds=1)
    assert not np.allclose(other.query("generation == 2")["value"], hist.query(
        "generation == 2 and strategy == 'replace'")["value"])


def test_interrupted_store_run_resumes_identically(folder, tmp_path, monkeypatch):
    strategies = [STRATEGIES[1], STRATEGIES[-1]]  # the growing pool and fresh real data
    whole, _ = _loop(folder, strategies)
    fit, calls = ft.FineTunedLM.fit, []

    def dying_fit(self, data, rng):
        calls.append(1)
        if len(calls) == 4:  # gen 0, accumulate 1-2, then die in fresh-real generation 1
            raise KeyboardInterrupt
        return fit(self, data, rng)

    monkeypatch.setattr(ft.FineTunedLM, "fit", dying_fit)
    with pytest.raises(KeyboardInterrupt):
        _loop(folder, strategies, store=tmp_path / "store")
    monkeypatch.setattr(ft.FineTunedLM, "fit", fit)
    resumed, _ = _loop(folder, strategies, store=tmp_path / "store")
    pd.testing.assert_frame_equal(_norm(resumed), _norm(whole))


def test_finetune_run_is_the_loop(folder, tmp_path):
    """Lesson 06's entry point gives exactly the loop's history (and reads it back from the store)."""
    import shutil

    shutil.copytree(folder, tmp_path / "run")
    results = ft.run(tmp_path / "run", generations=2, real_fractions=[0.0, 0.5], setup=SETUP, device="cpu",
                     progress=False)
    direct, _ = _loop(folder, ft.arms([0.0, 0.5]))
    pd.testing.assert_frame_equal(_norm(results.history), _norm(direct))
