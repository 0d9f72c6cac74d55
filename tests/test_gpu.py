"""GPU checks: the paths that Colab and GPU learners run and CI's CPU machine cannot (skipped without CUDA).

Run them on a machine with an NVIDIA GPU: ``pytest tests/test_gpu.py``. What was measured there (which GPU,
torch version, times) is recorded in benchmarks/RESULTS.md ("GPU"). Where they can, the checks compare a GPU run
with the same run on the CPU, so a wrong device, dtype or loss-scaling path shows up as a gap in the numbers, not
only as a crash:

* mixed-precision training in bf16 (A100, H100, L4) and in fp16 with loss scaling (Colab's T4, capability 7.5,
  forced here with :func:`collapse_kit.gpt.autocast_dtype` patched) learns as well as fp32 on the CPU;
* sampling, beam search and the KV cache run on the GPU and give valid tokens; a model trained on the GPU and
  saved loads on a CPU with the same logits;
* lesson 03's batched VAE trained on the GPU learns every digit (the judge's check of generation 0);
* lesson 06's fine-tuning loop runs on the GPU, beats the base model at generation 0, and its run folder
  loads and resumes on the CPU.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

from collapse_kit import gpt  # noqa: E402
from collapse_kit.tokenizer import CharTokenizer  # noqa: E402

TEXT = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
        "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n") * 40
SMALL = gpt.get_preset("tiny", n_layer=2, n_embd=64, n_head=2, block_size=64)
STEPS = 150


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer.fit(TEXT)


def trained(tok, device, steps=STEPS):
    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device=device)
    log = gpt.train(model, tok.encode(TEXT), steps=steps, batch_size=16, preset=SMALL,
                    valid=tok.encode(TEXT[:2000]), seed=0, eval_every=steps // 3)
    return model, log


@pytest.fixture(scope="module")
def on_cpu(tok):
    return trained(tok, "cpu")


@pytest.fixture(scope="module")
def on_gpu(tok):
    return trained(tok, "cuda")


def final_valid(log):
    return float(log["valid_loss"].dropna().iloc[-1])


def test_bf16_training_learns_as_well_as_the_cpu(on_cpu, on_gpu):
    assert gpt.autocast_dtype("cuda") is (torch.bfloat16 if torch.cuda.get_device_capability() >= (8, 0)
                                          else torch.float16)
    cpu, gpu = final_valid(on_cpu[1]), final_valid(on_gpu[1])
    first = float(on_gpu[1]["valid_loss"].dropna().iloc[0])
    assert np.isfinite(on_gpu[1]["train_loss"]).all()
    assert gpu < first - 0.5, (first, gpu)             # it learned
    assert abs(gpu - cpu) < 0.1 * cpu, (cpu, gpu)        # as well as fp32 on the CPU (same seed and batches)
    assert gpt.model_device(on_gpu[0]).startswith("cuda")


def test_fp16_with_loss_scaling_the_colab_t4_path(tok, on_cpu, monkeypatch):
    monkeypatch.setattr(gpt, "autocast_dtype", lambda device, capability=None: torch.float16)
    model, log = trained(tok, "cuda")
    assert np.isfinite(log["train_loss"]).all()
    cpu, gpu = final_valid(on_cpu[1]), final_valid(log)
    assert abs(gpu - cpu) < 0.1 * cpu, (cpu, gpu)


def test_decoding_on_the_gpu_and_loading_on_a_cpu(tmp_path, tok, on_gpu):
    model, _ = on_gpu
    prompts = gpt.as_blocks(tok.encode(TEXT), 16)[:6]
    for method in ("sample", "greedy", "beam"):
        out = gpt.generate(model, prompts, 24, method=method, seed=1, num_beams=3)
        assert out.shape == (6, 24) and out.min() >= 0 and out.max() < tok.vocab_size, method
    a = gpt.generate(model, prompts, 24, method="sample", seed=3)
    assert np.array_equal(a, gpt.generate(model, prompts, 24, method="sample", seed=3))  # same seed, same text
    gpt.save(tmp_path / "m", model, tok)
    back, tok2, _ = gpt.load(tmp_path / "m", device="cpu")
    assert gpt.model_device(back) == "cpu" and tok2.vocab_size == tok.vocab_size
    x = torch.as_tensor(prompts, dtype=torch.long)
    with torch.no_grad():
        np.testing.assert_allclose(back(x).logits.numpy(), model(x.cuda()).logits.float().cpu().numpy(),
                                   atol=2e-3, rtol=2e-3)


def test_lesson03_vae_on_the_gpu_learns_every_digit():
    from collapse_kit import images as I

    x, _ = I.load_digits(0.1, seed=0)
    judge = I.train_classifier(seed=0)
    vae = I.DigitVAE(device="cuda").fit(np.stack([x] * 4), np.random.default_rng(0))
    samples = vae.sample(2000, np.random.default_rng(1))
    real = I.class_shares(x, judge)
    for chain in samples:
        shares = I.class_shares(chain, judge)
        recognised = shares.sum()
        assert recognised >= judge.holdout_recognised_ - 0.05, recognised
        se = np.sqrt(real * (1 - real) / len(chain))
        assert np.all(shares >= 0.5 * real - 3 * se) and np.all(shares <= 1.5 * real + 3 * se), (shares, real)


def test_lesson06_loop_on_the_gpu_and_its_folder_on_a_cpu(tmp_path, monkeypatch):
    from collapse_kit import finetune as ft

    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path / "cache"))
    setup = ft.lesson_setup(quick=True)
    out = tmp_path / "run"
    results = ft.run(out, generations=1, real_fractions=[0.0], seeds=[0], setup=setup, device="cuda",
                     progress=False)
    h = results.history
    p0 = h[(h["metric"] == "test_ppl") & (h["generation"] == 0)]["value"].mean()
    base, _, _ = gpt.load(out / "base", device="cpu")
    zero_shot = gpt.perplexity(base, np.load(out / "base" / "test.npy")).mean()
    assert p0 < zero_shot, (p0, zero_shot)
    again = ft.run(out, generations=1, real_fractions=[0.0], seeds=[0], setup=setup, device="cpu", progress=False)
    import pandas as pd

    pd.testing.assert_frame_equal(again.history, results.history)   # the GPU's run folder resumes on a CPU
