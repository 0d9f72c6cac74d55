import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_kit import finetune as ft

torch.set_num_threads(1)  # 2 shared cores: one thread per test process avoids thrashing

SETUP = ft.FinetuneSetup(preset="tiny", base_steps=20, n_blocks=16, n_test=8, prompt_tokens=16, new_tokens=16,
                         epochs=1, batch_size=8, num_beams=2)


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
    out = tmp_path_factory.mktemp("full")
    return ft.run(out, generations=2, real_fractions=[0.0, 0.5], setup=SETUP, device="cpu", progress=False)


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_with_identical_results(tmp_path, full_run):
    calls = []

    def stop_mid_generation(stage, seed, real_fraction, generation):
        calls.append((stage, real_fraction, generation))
        if real_fraction == 0.5 and generation == 2 and stage == "generated":
            raise Interrupt  # as if the kernel died after training and generating, before saving

    with pytest.raises(Interrupt):
        ft.run(tmp_path, generations=2, real_fractions=[0.0, 0.5], setup=SETUP, device="cpu", progress=False,
               callback=stop_mid_generation)
    partial = ft.load_results(tmp_path)
    assert set(partial.history.query("real_fraction == 0.5")["generation"]) == {0, 1}  # gen 2 not published
    resumed_calls = []
    resumed = ft.run(tmp_path, generations=2, real_fractions=[0.0, 0.5], setup=SETUP, device="cpu",
                     progress=False, callback=lambda **kw: resumed_calls.append(kw))
    # only the interrupted generation was recomputed
    assert [(c["real_fraction"], c["generation"]) for c in resumed_calls] == [(0.5, 2), (0.5, 2)]
    pd.testing.assert_frame_equal(resumed.history, full_run.history)
    pd.testing.assert_frame_equal(resumed.examples, full_run.examples)
    pd.testing.assert_frame_equal(resumed.ppl, full_run.ppl)
    for name in ("train.npy", "samples.npy"):
        a = np.load(tmp_path / "seed=0" / "real_fraction=0.5" / "gen=02" / name)
        b = np.load(full_run.out / "seed=0" / "real_fraction=0.5" / "gen=02" / name)
        assert np.array_equal(a, b), name


def test_results_tables(full_run):
    h = full_run.history
    assert list(h.columns) == ["generation", "seed", "metric", "value", "strategy", "real_fraction"]
    assert set(h["generation"]) == {0, 1, 2}
    assert set(h["strategy"]) == {"replace", "real fraction 0.5 (fixed)"}
    assert {"test_ppl", "train_ppl_gen0_mean", "distinct_2", "repetition_2"} <= set(h["metric"])
    # generation 0 is shared: both arms show the same numbers
    g0 = h[h["generation"] == 0].pivot_table(index="metric", columns="real_fraction", values="value")
    assert np.allclose(g0[0.0], g0[0.5])
    # λ = 0 trains on generated text only; λ = 0.5 keeps half real blocks
    real_in = h[(h["metric"] == "real_in_train") & (h["generation"] > 0)].set_index("real_fraction")["value"]
    assert (real_in.loc[0.0] == 0).all() and (real_in.loc[0.5] == 0.5).all(), real_in
    assert len(full_run.ppl) == 2 * 3 * SETUP.n_blocks
    assert len(full_run.examples) == 6 and full_run.prompt and len(full_run.prompt) == SETUP.prompt_tokens
    summary = full_run.metric("test_ppl")
    assert list(summary.columns) == ["real_fraction", "generation", "mean", "std", "n"]
    with pytest.raises(ValueError, match="name"):
        full_run.metric("nope")
    paths = ft.save_tables(full_run, full_run.out / "tables")
    assert pd.read_csv(paths[0]).shape == h.shape


def test_resume_refuses_other_settings(full_run):
    other = ft.FinetuneSetup(**{**SETUP.__dict__, "epochs": 2})
    with pytest.raises(ValueError, match="epochs"):
        ft.run(full_run.out, generations=2, setup=other, progress=False)


def test_setup_validation():
    with pytest.raises(ValueError, match="n_blocks"):
        ft.FinetuneSetup(preset="tiny", n_blocks=2)
    with pytest.raises(ValueError, match="block size"):
        ft.FinetuneSetup(preset="tiny", prompt_tokens=100, new_tokens=100)
    with pytest.raises(ValueError, match="decoding"):
        ft.FinetuneSetup(preset="tiny", decoding="nucleus")
    with pytest.raises(ValueError, match="real_fraction"):
        ft.run("/tmp/never-created-ck", real_fractions=[1.5], setup=SETUP)
    with pytest.raises(ValueError, match="generations"):
        ft.run("/tmp/never-created-ck", generations=0, setup=SETUP)


def test_strategy_and_text_metrics():
    assert ft.strategy_for(0).name == "replace"
    assert ft.strategy_for(0.1).name == "real_fraction" and ft.strategy_for(0.1).real_fraction == 0.1
    assert ft.distinct_n(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert ft.distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert ft.distinct_n([""], 2) == 0.0
    assert ft.repetition(["the the the the"], 1) == pytest.approx(0.75)
    assert ft.repetition(["to be or not"], 2) == 0.0


def test_loop_protocol_model(full_run):
    """FineTunedLM plugs into the generic loop's fit/sample protocol."""
    out = full_run.out
    real = np.load(out / "data" / "real.npy")
    model = ft.FineTunedLM(out / "base", real, SETUP, device="cpu")
    with pytest.raises(RuntimeError):
        model.sample(2, np.random.default_rng(0))
    model.fit(real, np.random.default_rng(0))
    new = model.sample(20, np.random.default_rng(0))
    assert new.shape == (20, SETUP.new_tokens) and new.dtype == np.int64


def test_explorer(full_run):
    ex = ft.explorer(full_run)
    assert ex.last_result["generation"] == 2
    n = ex.n_draws
    ex.controls["generation"].value = 0
    assert ex.n_draws == n + 1 and ex.last_result["generation"] == 0
    ex.controls["real_fraction"].value = 0.5
    assert ex.n_draws == n + 2 and ex.last_error is None
