"""Unit tests of collapse_kit.watermark: green lists, the watermarking processor, the z-test."""
import numpy as np
import pytest
import torch

from collapse_kit import defences as D
from collapse_kit import watermark as W


@pytest.fixture(scope="module")
def real_blocks():
    """Disjoint 64-character blocks of held-out Shakespeare (real, unwatermarked text)."""
    from collapse_kit import gpt
    from collapse_kit.tokenizer import CharTokenizer

    parts = gpt.corpus_parts()
    tok = CharTokenizer.fit(parts["pretrain"] + parts["task"] + parts["test"])
    return gpt.as_blocks(tok.encode(parts["test"]), 64), tok.vocab_size


def test_green_lists_are_seeded_by_key_and_context():
    g = W.GreenList(80, 0.25, key=1, context_width=2)
    ctx = np.array([[3, 4], [3, 5]])
    m = g.green_mask(ctx)
    assert m.shape == (2, 80) and m.dtype == bool
    assert np.array_equal(m, W.GreenList(80, 0.25, key=1, context_width=2).green_mask(ctx))
    assert not np.array_equal(m[0], m[1])  # another context, another list
    assert not np.array_equal(m, W.GreenList(80, 0.25, key=2, context_width=2).green_mask(ctx))
    big = W.GreenList(80, 0.25, key=1, context_width=1).green_mask(np.arange(80)[:, None])
    assert abs(big.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / big.size)
    with pytest.raises(ValueError, match="gamma"):
        W.GreenList(80, 1.0)
    with pytest.raises(ValueError, match="context_width"):
        W.GreenList(80, 0.25, context_width=0)
    with pytest.raises(ValueError, match="context"):
        g.green_mask(np.array([[1, 2, 3]]))


def test_the_processor_adds_delta_to_green_logits_only():
    g = W.GreenList(16, 0.5, key=3, context_width=2)
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    logits = torch.randn(2, 16)
    out = g.processor(1.5)(ids, logits)
    green = torch.from_numpy(g.green_mask(ids[:, -2:].numpy()))
    assert torch.allclose(out - logits, 1.5 * green.float())
    assert torch.equal(g.processor(0.0)(ids, logits), logits)
    with pytest.raises(ValueError, match="context"):
        g.processor(1.0)(ids[:, :1], logits)


def test_z_score_counts_green_tokens():
    assert W.z_score(25, 100, 0.25) == pytest.approx(0.0)
    assert W.z_score(40, 100, 0.25) == pytest.approx(15 / np.sqrt(100 * 0.25 * 0.75))
    g = W.GreenList(10, 0.3, key=0, context_width=1)
    toks = np.array([[1, 2, 3, 4, 5, 6]])
    green, n = g.green_counts(toks, ignore_repeats=False)
    want = sum(g.green_mask(np.array([[a]]))[0, b] for a, b in zip(toks[0, :-1], toks[0, 1:]))
    assert n[0] == 5 and green[0] == want
    _, n_rep = g.green_counts(np.array([[1, 2, 1, 2, 1, 2]]))
    assert n_rep[0] == 2  # (1,2) and (2,1), each once
    _, n_ctx = g.green_counts(toks, context=np.array([[9]]), ignore_repeats=False)
    assert n_ctx[0] == 6
    with pytest.raises(ValueError, match="token ids"):
        g.green_counts(np.array([[1, 10]]))


def test_false_positive_rate_on_real_text_matches_theory(real_blocks):
    """Without a watermark, P(z >= 2) over texts (each scored with a random key) is the binomial tail."""
    blocks, vocab = real_blocks
    z = np.empty(len(blocks))
    want = np.empty(len(blocks))
    for i, row in enumerate(blocks):
        g = W.GreenList(vocab, 0.25, key=10_000 + i)
        _, n = g.green_counts(row[None])
        z[i] = g.z_scores(row[None])[0]
        want[i] = D.detection_rate(n[0], 0.25, 0.25, 2.0)
    p = want.mean()
    se = np.sqrt(p * (1 - p) / len(blocks))
    assert abs((z >= 2).mean() - p) < 3 * se
    assert (z >= W.Z_PAPER).mean() <= 2 / len(blocks)


def test_the_z_test_would_catch_repeated_ngrams(real_blocks):
    """Negative control: scoring repeats too inflates the false-positive rate above the theory."""
    blocks, vocab = real_blocks
    z = np.array([W.GreenList(vocab, 0.25, key=10_000 + i, context_width=1).z_scores(r[None], ignore_repeats=False)[0]
                  for i, r in enumerate(blocks)])
    p = D.detection_rate(63, 0.25, 0.25, 2.0)
    assert (z >= 2).mean() - p > 3 * np.sqrt(p * (1 - p) / len(blocks))


def test_watermarked_sampling_from_a_flat_model_is_detected_at_the_theoretical_rate():
    """A model whose next-token distribution is uniform: green probability is γe^δ/(γe^δ+1−γ) exactly."""
    v, t, n, delta = 200, 40, 3000, 2.0
    g = W.GreenList(v, 0.25, key=5, context_width=1)
    rng = np.random.default_rng(0)
    proc = g.processor(delta)
    seq = torch.from_numpy(rng.integers(0, v, size=(n, 1)))
    gen = torch.Generator().manual_seed(0)
    for _ in range(t):
        probs = torch.softmax(proc(seq, torch.zeros(n, v)), -1)
        seq = torch.cat([seq, torch.multinomial(probs, 1, generator=gen)], 1)
    tokens = seq.numpy()
    green, scored = g.green_counts(tokens, ignore_repeats=False)
    p_green = D.green_probability(0.25, delta)
    assert abs(green.sum() / scored.sum() - p_green) < 4 * np.sqrt(p_green * (1 - p_green) / scored.sum())
    rate = (g.z_scores(tokens, ignore_repeats=False) >= W.Z_PAPER).mean()
    want = D.detection_rate(t, 0.25, p_green, W.Z_PAPER)
    assert abs(rate - want) < 4 * np.sqrt(want * (1 - want) / n) + 1e-3
    fpr = (g.z_scores(rng.integers(0, v, size=(n, t + 1)), ignore_repeats=False) >= W.Z_PAPER).mean()
    assert rate > 0.5 > 0.01 > fpr
    attacked = W.substitute(tokens, 0.3, v, np.random.default_rng(1))
    assert (g.z_scores(attacked, ignore_repeats=False) >= W.Z_PAPER).mean() < rate


def test_substitute_and_text_detector():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 50, size=(4, 30))
    assert np.array_equal(W.substitute(t, 0.0, 50, rng), t)
    assert (W.substitute(t, 1.0, 50, rng) != t).mean() > 0.9
    g = W.GreenList(50, 0.25, key=1, context_width=1)
    det = W.text_detector(g, z=-100.0)
    assert det(t.reshape(2, 2, 30)).shape == (2, 2) and det(t.reshape(2, 2, 30)).all()
    with pytest.raises(ValueError, match="fraction"):
        W.substitute(t, 2.0, 50, rng)
    with pytest.raises(TypeError, match="GreenList"):
        W.text_detector(None)


# --------------------------------------------------------------------------- gpt.generate's logits_processor
@pytest.fixture(scope="module")
def tiny_gpt():
    from collapse_kit import gpt

    return gpt.build_model(30, "tiny", seed=0)


def test_generate_applies_a_logits_processor_and_is_unchanged_without_one(tiny_gpt):
    from collapse_kit import gpt

    prompts = np.random.default_rng(0).integers(0, 30, size=(5, 6))
    plain = gpt.generate(tiny_gpt, prompts, 12, seed=3)
    np.testing.assert_array_equal(plain, gpt.generate(tiny_gpt, prompts, 12, seed=3, logits_processor=None))

    def only_seven(input_ids, logits):
        out = torch.full_like(logits, float("-inf"))
        out[:, 7] = 0.0
        return out

    for method in ("sample", "greedy"):
        assert np.all(gpt.generate(tiny_gpt, prompts, 12, method=method, seed=3, logits_processor=only_seven) == 7)
    seen = []
    gpt.generate(tiny_gpt, prompts, 4, seed=3, logits_processor=lambda ids, lg: seen.append(ids.shape) or lg)
    assert seen == [(5, 6), (5, 7), (5, 8), (5, 9)]  # the sequence so far, prompt included
    with pytest.raises(ValueError, match="logits_processor"):
        gpt.generate(tiny_gpt, prompts, 4, method="beam", logits_processor=only_seven)


def test_watermarked_generate_marks_a_share_of_rows(tiny_gpt):
    prompts = np.random.default_rng(1).integers(0, 30, size=(40, 6))
    g = W.GreenList(30, 0.25, key=9, context_width=2)
    tokens, marked = W.watermarked_generate(tiny_gpt, prompts, 60, g, delta=4.0, share=0.5, seed=2)
    assert tokens.shape == (40, 60) and 5 < marked.sum() < 35
    z = g.z_scores(tokens, context=prompts)
    assert z[marked].min() > z[~marked].max()
    again = W.watermarked_generate(tiny_gpt, prompts, 60, g, delta=4.0, share=0.5, seed=2)
    np.testing.assert_array_equal(again[0], tokens)
