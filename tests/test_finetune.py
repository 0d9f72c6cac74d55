import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_kit import finetune as ft
from collapse_kit.explorers import finetune_explorer
from collapse_kit.history import summarize

torch.set_num_threads(1)  # 2 shared cores: one thread per test process avoids thrashing

SETUP = ft.FinetuneSetup(preset="tiny", base_steps=20, n_blocks=16, n_test=8, prompt_tokens=16, new_tokens=16,
                         epochs=1, batch_size=8, num_beams=2)
ARMS = [0.0, 0.5]


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the base model this file trains out of the user's cache."""
    old = os.environ.get("COLLAPSE_KIT_CACHE")
    os.environ["COLLAPSE_KIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("COLLAPSE_KIT_CACHE", None)
    else:
        os.environ["COLLAPSE_KIT_CACHE"] = old


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    # a path with ".tmp" in it: no logic may depend on the text of the user's path (issue 14)
    out = tmp_path_factory.mktemp("runs.tmp") / "run.tmp123"
    return ft.run(out, generations=2, real_fractions=ARMS, setup=SETUP, device="cpu", progress=False)


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_with_identical_results(tmp_path, full_run, monkeypatch):
    """Acceptance test: a run stopped mid-generation (after training, before saving) resumes and
    ends with exactly the numbers of an uninterrupted run, recomputing only what was lost."""
    calls = {"sample": 0, "fit": 0}
    sample, fit = ft.FineTunedLM.sample, ft.FineTunedLM.fit

    def dying_sample(self, n, rng):  # samples: gen 0, λ=0 gens 1-2, λ=0.5 gens 1-2 -> die in the 5th
        calls["sample"] += 1
        if calls["sample"] == 5:
            raise Interrupt  # as if the kernel died after fine-tuning generation 2 of λ = 0.5
        return sample(self, n, rng)

    monkeypatch.setattr(ft.FineTunedLM, "sample", dying_sample)
    with pytest.raises(Interrupt):
        ft.run(tmp_path, generations=2, real_fractions=ARMS, setup=SETUP, device="cpu", progress=False)
    monkeypatch.setattr(ft.FineTunedLM, "sample", sample)
    partial = ft.load_results(tmp_path)
    assert set(partial.history.query("real_fraction == 0.5")["generation"]) == {0, 1}  # gen 2 never published

    def counting_fit(self, data, rng):
        calls["fit"] += 1
        return fit(self, data, rng)

    monkeypatch.setattr(ft.FineTunedLM, "fit", counting_fit)
    resumed = ft.run(tmp_path, generations=2, real_fractions=ARMS, setup=SETUP, device="cpu", progress=False)
    assert calls["fit"] == 1  # only the lost generation was recomputed
    pd.testing.assert_frame_equal(resumed.history, full_run.history)
    pd.testing.assert_frame_equal(resumed.examples, full_run.examples)
    pd.testing.assert_frame_equal(resumed.ppl, full_run.ppl)
    lam = ft.arms([0.5])[0]
    a = np.load(tmp_path / "seed=0" / lam.key / "gen=02" / "samples.npy")
    b = np.load(full_run.folder / "seed=0" / lam.key / "gen=02" / "samples.npy")
    assert np.array_equal(a, b)


def test_results_tables(full_run):
    h = full_run.history
    assert list(h.columns) == ["generation", "chain", "seed", "metric", "value", "strategy", "strategy_name",
                               "real_fraction", "fresh_real"]
    assert set(h["generation"]) == {0, 1, 2} and set(h["chain"]) == {0} and set(h["seed"]) == {0}
    assert set(h["strategy"]) == {"real fraction 0 (fixed)", "real fraction 0.5 (fixed)"}
    assert {"test_ppl", "train_ppl_gen0_mean", "distinct_2", "repetition_2"} <= set(h["metric"])
    # generation 0 is shared: both arms show the same numbers
    g0 = h[h["generation"] == 0].pivot_table(index="metric", columns="real_fraction", values="value",
                                             observed=True)
    assert np.allclose(g0[0.0], g0[0.5])
    # λ = 0 trains on generated text only; λ = 0.5 keeps half real blocks
    real_in = h[(h["metric"] == "real_in_train") & (h["generation"] > 0)].set_index("real_fraction")["value"]
    assert (real_in.loc[0.0] == 0).all() and (real_in.loc[0.5] == 0.5).all(), real_in
    assert len(full_run.ppl) == 2 * 3 * SETUP.n_blocks
    assert len(full_run.examples) == 6 and full_run.prompt and len(full_run.prompt) == SETUP.prompt_tokens
    assert set(summarize(h, "test_ppl", by=("real_fraction", "generation"))["count"]) == {1}
    paths = ft.save_tables(full_run, full_run.folder / "tables")
    assert pd.read_csv(paths[0]).shape == h.shape


def test_resume_refuses_other_settings(full_run):
    other = ft.FinetuneSetup(**{**SETUP.__dict__, "epochs": 2})
    with pytest.raises(ValueError, match="epochs"):
        ft.run(full_run.folder, generations=2, setup=other, progress=False)


def test_corrupted_generation_is_recomputed(tmp_path, full_run):
    import shutil

    shutil.copytree(full_run.folder, tmp_path / "run")
    lam = ft.arms([0.5])[0]
    metrics = tmp_path / "run" / "seed=0" / lam.key / "gen=02" / "metrics.json"
    metrics.write_text(metrics.read_text()[:10])  # truncated
    with pytest.warns(UserWarning, match="metrics.json"):
        partial = ft.load_results(tmp_path / "run")
    assert set(partial.history.query("real_fraction == 0.5")["generation"]) == {0, 1}
    again = ft.run(tmp_path / "run", generations=2, real_fractions=ARMS, setup=SETUP, device="cpu", progress=False)
    pd.testing.assert_frame_equal(again.history, full_run.history)


def test_validation_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="n_blocks"):
        ft.FinetuneSetup(preset="tiny", n_blocks=2)
    with pytest.raises(ValueError, match="block size"):
        ft.FinetuneSetup(preset="tiny", prompt_tokens=100, new_tokens=100)
    with pytest.raises(ValueError, match="new_tokens"):
        ft.FinetuneSetup(preset="tiny", prompt_tokens=16, new_tokens=8)
    with pytest.raises(ValueError, match="decoding"):
        ft.FinetuneSetup(preset="tiny", decoding="nucleus")
    out = tmp_path / "never"
    for kw, word in [(dict(real_fractions=[1.5]), "real_fraction"), (dict(generations=0), "generations"),
                     (dict(seeds=[-1]), "seeds"), (dict(real_fractions=[]), "real_fractions")]:
        with pytest.raises(ValueError, match=word):
            ft.run(out, setup=SETUP, **kw)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            ft.run(out, setup=SETUP, device="cuda")
    assert not out.exists()


def test_text_metrics():
    assert ft.distinct_n(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert ft.distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert ft.distinct_n([""], 2) == 0.0
    assert ft.repetition(["the the the the"], 1) == pytest.approx(0.75)
    assert ft.repetition(["to be or not"], 2) == 0.0
    assert [s.real_fraction for s in ft.arms([0, 0.1])] == [0.0, 0.1]


def test_model_protocol(full_run):
    real = np.load(full_run.folder / "base" / "real.npy")
    model = ft.FineTunedLM(full_run.folder / "base", real, SETUP, device="cpu")
    with pytest.raises(RuntimeError):
        model.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        model.fit(real, np.random.default_rng(0))  # no chain axis
    model.fit(real[None], np.random.default_rng(0))
    new = model.sample(20, np.random.default_rng(0))
    assert new.shape == (1, 20, SETUP.new_tokens) and new.dtype == np.int64


def test_explorer(full_run):
    ex = finetune_explorer(full_run)
    assert ex.last_result["generation"] == 2
    n = ex.n_draws
    ex.controls["generation"].value = 0
    assert ex.n_draws == n + 1 and ex.last_result["generation"] == 0
    ex.controls["real_fraction"].value = 0.5
    assert ex.n_draws == n + 2 and ex.last_error is None


def test_grid_plan_and_prepare_grid_reuse_the_run_folder(full_run, monkeypatch):
    """Issue 11: the explorer's grid of real fractions is one resumable run in the same folder."""
    quick, full = ft.grid_plan(quick=True), ft.grid_plan(quick=False)
    assert set(full["real_fractions"]) >= {0.0, 0.1, 0.25, 0.5} and full["generations"] >= 5
    assert len(quick["real_fractions"]) <= 3 and quick["generations"] <= 2
    calls = {"fit": 0}
    fit = ft.FineTunedLM.fit

    def counting_fit(self, data, rng):
        calls["fit"] += 1
        return fit(self, data, rng)

    monkeypatch.setattr(ft.FineTunedLM, "fit", counting_fit)
    again = ft.prepare_grid(SETUP, real_fractions=ARMS, generations=2, out=full_run.folder, device="cpu",
                            progress=False)
    assert calls["fit"] == 0  # everything was computed: nothing retrains
    pd.testing.assert_frame_equal(again.history, full_run.history)


def test_final_rise(full_run):
    table = ft.final_rise(full_run)
    assert list(table["real_fraction"]) == ARMS
    p = summarize(full_run.history, "test_ppl", by=("real_fraction", "generation")).set_index(
        ["real_fraction", "generation"])["mean"]
    for _, row in table.iterrows():
        assert row["rise"] == pytest.approx(p[(row["real_fraction"], 2)] / p[(row["real_fraction"], 0)])
    assert table["rise_se"].isna().all()  # one seed: no standard error


def test_explorer_says_which_grid_values_exist(full_run):
    ex = finetune_explorer(full_run)
    assert ex.available == ARMS
    assert ex.missing == [0.1, 0.25]
    assert "prepare_grid" in ex.ui.children[0].value and "0.25" in ex.ui.children[0].value
    full = finetune_explorer(full_run, grid=ARMS)
    assert full.missing == [] and "not computed" not in full.ui.children[0].value
