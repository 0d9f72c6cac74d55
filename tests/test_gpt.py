import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # the CI machine has 2 shared cores; one thread per test process avoids thrashing

from collapse_kit import gpt
from collapse_kit.tokenizer import CharTokenizer

TEXT = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
        "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n") * 20
SMALL = gpt.get_preset("tiny", n_layer=1, n_embd=32, n_head=2, block_size=64)


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer.fit(TEXT)


@pytest.fixture(scope="module")
def trained(tok):
    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
    log = gpt.train(model, tok.encode(TEXT), steps=60, batch_size=8, preset=SMALL,
                    valid=tok.encode(TEXT[:1000]), seed=0, eval_every=20)
    return model, log


def test_build_model_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = gpt.build_model(20, SMALL, seed=1, device="cpu")
    after = torch.rand(1)
    assert torch.equal(before, after)  # building did not consume the caller's random numbers
    b = gpt.build_model(20, SMALL, seed=1, device="cpu")
    c = gpt.build_model(20, SMALL, seed=2, device="cpu")
    wa, wb, wc = (m.transformer.wte.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert a.config._attn_implementation == "sdpa"
    assert gpt.block_size_of(a) == 64
    # 32-dim, 1 layer: embeddings (20 + 64) * 32 + one block 12 * 32^2 + biases/LayerNorms
    assert 12_000 < gpt.count_parameters(a) < 20_000


def test_presets_and_validation():
    assert set(gpt.PRESETS) >= {"tiny", "cpu", "gpu", "gpu-large"}
    assert gpt.PRESETS["cpu"].n_embd < gpt.PRESETS["gpu"].n_embd < gpt.PRESETS["gpu-large"].n_embd
    with pytest.raises(ValueError, match="preset"):
        gpt.get_preset("huge")
    with pytest.raises(ValueError, match="vocab_size"):
        gpt.build_model(1, SMALL)


def test_autocast_dtype_by_capability():
    assert gpt.autocast_dtype("cpu") is None
    assert gpt.autocast_dtype("mps") is None
    assert gpt.autocast_dtype("cuda", capability=(8, 0)) is torch.bfloat16  # A100
    assert gpt.autocast_dtype("cuda", capability=(9, 0)) is torch.bfloat16  # H100
    assert gpt.autocast_dtype("cuda", capability=(7, 5)) is torch.float16   # T4 (Colab): fp16 + loss scaling
    with pytest.raises(ValueError, match="device"):
        gpt.autocast_dtype("tpu")


def test_lr_schedule():
    kw = dict(lr=1.0, warmup=10, steps=110, min_lr_ratio=0.1)
    assert gpt.lr_at(0, **kw) == pytest.approx(0.1)
    assert gpt.lr_at(9, **kw) == pytest.approx(1.0)
    assert gpt.lr_at(10, **kw) == pytest.approx(1.0)
    assert gpt.lr_at(60, **kw) == pytest.approx(0.55)
    assert gpt.lr_at(110, **kw) == pytest.approx(0.1)
    lrs = [gpt.lr_at(s, **kw) for s in range(10, 111)]
    assert all(x >= y for x, y in zip(lrs, lrs[1:]))


def test_training_learns_and_is_deterministic(tok, trained):
    model, log = trained
    assert list(log.columns) == ["step", "lr", "train_loss", "valid_loss", "best"]
    assert len(log) == 60
    first, last = log["train_loss"].iloc[:5].mean(), log["train_loss"].iloc[-5:].mean()
    assert last < first - 0.5, (first, last)
    assert log["valid_loss"].notna().sum() >= 2
    # the same seed gives the same run, weight for weight; another seed does not
    runs = []
    for seed in (5, 5, 6):
        m = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
        runs.append((gpt.train(m, tok.encode(TEXT), steps=8, batch_size=4, preset=SMALL, seed=seed), m))
    assert np.array_equal(runs[0][0]["train_loss"].to_numpy(), runs[1][0]["train_loss"].to_numpy())
    assert not np.array_equal(runs[0][0]["train_loss"].to_numpy(), runs[2][0]["train_loss"].to_numpy())
    for p, q in zip(runs[0][1].parameters(), runs[1][1].parameters()):
        assert torch.equal(p, q)


def test_train_on_blocks_with_epochs_and_errors(tok):
    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
    blocks = gpt.as_blocks(tok.encode(TEXT), 32)
    log = gpt.train(model, blocks[:20], epochs=1.5, batch_size=8, preset=SMALL)
    assert len(log) == int(np.ceil(1.5 * 20 / 8))
    with pytest.raises(ValueError, match="epochs"):
        gpt.train(model, tok.encode(TEXT), epochs=1)
    with pytest.raises(ValueError, match="steps"):
        gpt.train(model, blocks, steps=0)
    with pytest.raises(TypeError, match="integer token ids"):
        gpt.train(model, blocks.astype(float), steps=1)
    with pytest.raises(ValueError, match="outside"):
        gpt.train(model, blocks + 1000, steps=1)


def test_perplexity_matches_the_loss(tok, trained):
    model, _ = trained
    blocks = gpt.as_blocks(tok.encode(TEXT), 64)[:6]
    nll = gpt.sequence_nll(model, blocks, batch_size=4)
    with torch.no_grad():
        manual = gpt.lm_loss(model, torch.from_numpy(blocks), reduction="none").mean(dim=1).numpy()
    assert np.allclose(nll, manual, atol=1e-5)
    assert np.allclose(gpt.perplexity(model, blocks), np.exp(nll))
    # an untrained model is close to uniform: perplexity about the vocabulary size
    fresh = gpt.build_model(tok.vocab_size, SMALL, seed=3, device="cpu")
    assert 0.6 * tok.vocab_size < gpt.perplexity(fresh, blocks).mean() < 1.6 * tok.vocab_size
    # the trained model finds its training text far likelier than shuffled text
    shuffled = np.random.default_rng(0).permutation(blocks.ravel()).reshape(blocks.shape)
    assert gpt.perplexity(model, blocks).mean() < 0.5 * gpt.perplexity(model, shuffled).mean()
    with pytest.raises(ValueError, match="rows"):
        gpt.sequence_nll(model, gpt.as_blocks(tok.encode(TEXT), 65))


def test_filter_logits():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    assert torch.isinf(gpt.filter_logits(logits, top_k=2)[0, 2:]).all()
    assert torch.isfinite(gpt.filter_logits(logits, top_k=2)[0, :2]).all()
    p = torch.softmax(logits, -1)[0]  # 0.64, 0.24, 0.09, 0.03
    kept = torch.isfinite(gpt.filter_logits(logits, top_p=0.7)[0])
    assert kept.tolist() == [True, True, False, False]
    assert torch.isfinite(gpt.filter_logits(logits, top_p=0.5)[0]).tolist() == [True, False, False, False]
    assert p[0] > 0.5
    cold = torch.softmax(gpt.filter_logits(logits, temperature=0.1), -1)
    assert cold[0, 0] > 0.99
    with pytest.raises(ValueError, match="temperature"):
        gpt.filter_logits(logits, temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        gpt.filter_logits(logits, top_p=1.5)


def test_generation_cache_seed_and_beam(tok, trained):
    model, _ = trained
    prompts = gpt.as_blocks(tok.encode(TEXT), 16)[:5]
    for method in ("greedy", "sample"):
        a = gpt.generate(model, prompts, 20, method=method, seed=1, batch_size=2)
        b = gpt.generate(model, prompts, 20, method=method, seed=1, batch_size=2, use_cache=False)
        assert a.shape == (5, 20) and np.array_equal(a, b), method
    s1 = gpt.generate(model, prompts, 20, seed=1, top_k=5, top_p=0.9)
    s2 = gpt.generate(model, prompts, 20, seed=2, top_k=5, top_p=0.9)
    assert not np.array_equal(s1, s2)
    beam = gpt.generate(model, prompts, 20, method="beam", num_beams=3)
    assert beam.shape == (5, 20)
    # beam search looks for likelier continuations than sampling at temperature 1
    full_b = np.concatenate([prompts, beam], 1)
    full_s = np.concatenate([prompts, s1], 1)
    assert gpt.sequence_nll(model, full_b).mean() < gpt.sequence_nll(model, full_s).mean()
    # sampling past the block size slides the window
    long = gpt.generate(model, prompts[:2], 80, seed=0)
    assert long.shape == (2, 80)
    with pytest.raises(ValueError, match="beam"):
        gpt.generate(model, prompts, 60, method="beam")
    with pytest.raises(ValueError, match="method"):
        gpt.generate(model, prompts, 5, method="nucleus")


def test_save_load_round_trip_without_pickle(tmp_path, tok, trained):
    model, _ = trained
    gpt.save(tmp_path, model, tok, {"valid_loss": 1.5})
    names = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in names
    assert not any(n.endswith((".bin", ".pt", ".pkl", ".pth")) for n in names)
    again, tok2, meta = gpt.load(tmp_path, device="cpu")
    assert tok2 == tok and meta == {"valid_loss": 1.5}
    blocks = gpt.as_blocks(tok.encode(TEXT), 64)[:3]
    assert np.allclose(gpt.sequence_nll(again, blocks), gpt.sequence_nll(model, blocks), atol=1e-6)
    with pytest.raises(FileNotFoundError):
        gpt.load(tmp_path / "missing")


def test_corpus_parts_are_disjoint_pieces():
    text = "".join(chr(65 + i % 26) for i in range(1000))
    parts = gpt.corpus_parts(text)
    assert parts["pretrain"] + parts["held"] == text
    assert sorted(parts["task"] + parts["test"]) == sorted(parts["held"])
    assert len(parts["pretrain"]) == 900
    with pytest.raises(ValueError):
        gpt.corpus_parts("short")


def test_task_and_test_alternate_over_the_same_plays():
    parts = gpt.corpus_parts()
    held_lines = parts["held"].split("\n")
    task, test = set(parts["task"].split("\n")), set(parts["test"].split("\n"))
    assert len(parts["task"]) + len(parts["test"]) == len(parts["held"])
    assert abs(len(parts["task"]) - len(parts["test"])) < 0.05 * len(parts["held"])
    # both halves name the same speakers (the same plays), unlike a cut in the middle of the text
    speakers = lambda t: {line for line in t.split("\n") if line.isupper() and line.endswith(":")}
    shared = speakers(parts["task"]) & speakers(parts["test"])
    assert len(shared) > 0.6 * len(speakers(parts["test"]))
    assert parts["pretrain"].endswith("\n") and held_lines[0] in task


def test_repetition_penalty_matches_transformers(tok, trained):
    from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

    g = torch.Generator().manual_seed(0)
    seq, logits = torch.randint(0, 9, (3, 6), generator=g), torch.randn(3, 9, generator=g)
    want = RepetitionPenaltyLogitsProcessor(3.0)(seq, logits.clone())
    assert torch.allclose(gpt.apply_repetition_penalty(seq, logits, 3.0), want)
    assert torch.equal(gpt.apply_repetition_penalty(seq, logits, 1.0), logits)
    model, _ = trained
    prompts = gpt.as_blocks(tok.encode(TEXT), 16)[:4]
    plain = gpt.generate(model, prompts, 24, method="greedy")
    pen = gpt.generate(model, prompts, 24, method="greedy", repetition_penalty=3.0)
    rep = lambda rows: np.mean([1 - len(set(r)) / len(r) for r in rows])  # repeated tokens per continuation
    assert rep(pen) < rep(plain)
    beam = gpt.generate(model, prompts, 24, method="beam", num_beams=3, repetition_penalty=3.0)
    assert beam.shape == (4, 24)
    with pytest.raises(ValueError, match="repetition_penalty"):
        gpt.generate(model, prompts, 4, repetition_penalty=0.5)


def test_keep_best_ends_on_the_best_checkpoint(tok):
    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
    rows = gpt.as_blocks(tok.encode(TEXT), 32)
    valid = rows[:4]
    log = gpt.train(model, rows[4:12], steps=40, batch_size=4, lr=3e-2, preset=SMALL, valid=valid,
                    eval_every=5, seed=0, keep_best=True)
    evals = log.dropna(subset=["valid_loss"])
    best = evals.loc[evals["valid_loss"].idxmin()]
    assert log["best"].sum() == 1 and int(log.loc[log["best"], "step"].iloc[0]) == int(best["step"])
    assert np.isclose(np.mean(gpt.sequence_nll(model, valid)), best["valid_loss"], atol=1e-5)
    with pytest.raises(ValueError, match="keep_best"):
        gpt.train(model, rows, steps=2, preset=SMALL, keep_best=True)


def test_shipped_base_model_matches_its_record():
    model, tok, meta = gpt.load_base(device="cpu")
    assert type(tok).__name__ == "BPETokenizer" and tok.vocab_size == meta["vocab_size"] == model.config.vocab_size
    assert meta["parameters"] == gpt.count_parameters(model)
    assert (model.config.n_layer, model.config.n_embd) == (gpt.PRESETS["base"].n_layer, gpt.PRESETS["base"].n_embd)
    held = tok.encode(gpt.corpus_parts()["held"])
    # the shipped 16-bit weights give the recorded validation loss on the held-out plays
    assert abs(gpt.evaluate_loss(model, held, max_tokens=gpt.BASE_EVAL_TOKENS) - meta["valid_loss_fp16"]) < 2e-3
    assert meta["valid_loss_fp16"] < np.log(tok.vocab_size) - 3.0  # it learned: far below a uniform guess (7.6)
    assert gpt.base_model("base")[2]["steps"] == meta["steps"]
    with pytest.raises(ValueError, match="shipped"):
        gpt.base_model("base", seed=3)


def test_decoding_explorer(tok, trained):
    model, _ = trained
    from collapse_kit.explorers import decoding_explorer

    ex = decoding_explorer(model, tok, "To be, or not", new_tokens=20)
    n = ex.n_draws
    assert ex.last_result["kept"] == tok.vocab_size
    ex.controls["top_k"].value = 3
    assert ex.n_draws == n + 1 and ex.last_result["kept"] == 3
    cold = ex.last_result["probs"].max()
    ex.controls["temperature"].value = 0.1
    assert ex.last_result["probs"].max() > cold
    ex.controls["temperature"].value = 2.0  # the extremes draw without error
    ex.controls["top_p"].value = 0.05
    assert ex.last_result["kept"] >= 1 and ex.last_error is None


def test_continuation_nll(tok, trained):
    model, _ = trained
    blocks = gpt.as_blocks(tok.encode(TEXT), 40)[:4]
    prompts, cont = blocks[:, :16], blocks[:, 16:]
    got = gpt.continuation_nll(model, prompts, cont)
    with torch.no_grad():
        per_token = gpt.lm_loss(model, torch.from_numpy(blocks), reduction="none").numpy()
    assert np.allclose(got, per_token[:, 15:].mean(axis=1), atol=1e-6)
    with pytest.raises(ValueError, match="same number of rows"):
        gpt.continuation_nll(model, prompts[:2], cont)


def test_kv_cache_logits_match_a_full_recompute(tok, trained):
    """The cached decode step gives the logits of a full recompute (on every transformers line:
    5.15-5.23 name the cache `past_key_values`, newer ones `cache`; a wrong name is silently ignored)."""
    model, _ = trained
    kw = gpt.cache_keyword(model)
    assert kw in ("cache", "past_key_values")
    seq = torch.from_numpy(gpt.as_blocks(tok.encode(TEXT), 24)[:3])
    with torch.no_grad():
        full = model(input_ids=seq, use_cache=False).logits
        out = model(input_ids=seq[:, :8], use_cache=True)
        past = getattr(out, kw)
        assert past is not None
        for t in range(8, seq.shape[1]):
            out = model(input_ids=seq[:, t:t + 1], use_cache=True, **{kw: past})
            past = getattr(out, kw)
            assert torch.allclose(out.logits[:, -1], full[:, t], atol=1e-4), t
        # a negative control: without the cache the one-token step sees no context and differs
        alone = model(input_ids=seq[:, -1:], use_cache=False).logits[:, -1]
        assert not torch.allclose(alone, full[:, -1], atol=1e-2)


def test_cached_and_uncached_decoding_agree_token_for_token(tok, trained):
    model, _ = trained
    prompts = gpt.as_blocks(tok.encode(TEXT), 16)[:4]
    for method in ("greedy", "beam"):
        a = gpt.generate(model, prompts, 24, method=method, num_beams=3, use_cache=True)
        b = gpt.generate(model, prompts, 24, method=method, num_beams=3, use_cache=False)
        assert np.array_equal(a, b), method
    # greedy equals the argmax of a full recompute at every step
    seq = torch.from_numpy(prompts)
    with torch.no_grad():
        for _ in range(24):
            nxt = model(input_ids=seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
    assert np.array_equal(gpt.generate(model, prompts, 24, method="greedy"), seq[:, 16:].numpy())


def test_build_model_is_public_gpt2_and_scoring_keeps_the_mode(tok, trained):
    from transformers import GPT2LMHeadModel

    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
    assert type(model) is GPT2LMHeadModel and model.config._attn_implementation == "sdpa"
    blocks = gpt.as_blocks(tok.encode(TEXT), 32)[:2]
    for mode in (True, False):
        model.train(mode)
        gpt.continuation_nll(model, blocks[:, :8], blocks[:, 8:])
        assert model.training is mode
        gpt.sequence_nll(model, blocks)
        assert model.training is mode


def test_progress_bar_redraws_at_tqdm_pace_not_every_step(tok, capsys):
    # A GPU runs hundreds of steps a second; a redraw per step flooded Jupyter's output channel there (lessons
    # 05 and 06 under nbval on an H200 lost the kernel's messages). tqdm's pace: at most ten redraws a second.
    model = gpt.build_model(tok.vocab_size, SMALL, seed=0, device="cpu")
    start = time.perf_counter()
    gpt.train(model, tok.encode(TEXT), steps=300, batch_size=2, preset=SMALL, seed=0, progress=True)
    elapsed = time.perf_counter() - start
    redraws = capsys.readouterr().err.count("\r")
    assert 1 <= redraws <= 10 * elapsed + 5, (redraws, elapsed)
