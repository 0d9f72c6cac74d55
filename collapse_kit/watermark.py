"""Lesson 07: the green-list watermark of Kirchenbauer et al. (ICML 2023) on the course GPT.

At every step of sampling, the previous token seeds (with a secret ``key``) a pseudo-random
split of the vocabulary: a "green" fraction γ and a "red" rest. The watermarked sampler adds
δ to the green tokens' logits (the paper's *soft* watermark, its Algorithm 2), so green tokens
become more likely without forbidding any token. Anyone who knows the key can count the green
tokens of a text: without a watermark each token is green with probability γ, so the count
``|s|_G`` of ``T`` scored tokens is Binomial(T, γ) and the one-proportion z-test

.. math:: z = \\frac{|s|_G - γT}{\\sqrt{T γ (1-γ)}}

is about standard normal. The paper flags a text when ``z ≥ 4`` (false-positive rate about
3·10⁻⁵ by the normal tail).

The sampler is a *logits processor*, a function ``(input_ids, logits) -> logits``, passed to
:func:`collapse_kit.gpt.generate`. The green lists are computed by hashing (no table), so any
vocabulary and any context width ``h`` (how many previous tokens seed the list) work.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ._validate import check_float, check_fraction, check_int, check_seed

#: the paper's detection threshold (Kirchenbauer et al. 2023, §3: z = 4)
Z_PAPER = 4.0
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fast, well-mixed 64-bit hash (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class GreenList:
    """The green lists of a vocabulary, seeded by a secret key and the ``h`` previous tokens.

    Token ``v`` is green after the context ``(t₋ₕ, …, t₋₁)`` when a hash of (key, context, v),
    read as a number in [0, 1), is below γ: each (context, token) pair is green with probability
    γ, independently of the text, so unwatermarked text has green tokens at rate γ on average over
    keys.

    Parameters
    ----------
    vocab_size : int >= 2
    gamma : float in (0, 1)
        γ, the green fraction.
    key : int >= 0
        The secret key.
    context_width : int >= 1
        ``h``, how many previous tokens seed the list (the paper's main setting: 1, for a
        50,000-token vocabulary; a character vocabulary needs more, see lesson 07).
    """

    def __init__(self, vocab_size: int, gamma: float = 0.25, key: int = 15485863, context_width: int = 4):
        self.vocab_size = check_int("vocab_size", vocab_size, low=2)
        self.gamma = check_float("gamma", gamma, low=0, high=1, low_open=True, high_open=True)
        self.key = check_seed("key", key)
        self.context_width = check_int("context_width", context_width, low=1)

    def __repr__(self) -> str:
        return (f"GreenList(vocab_size={self.vocab_size}, gamma={self.gamma:g}, key={self.key}, "
                f"context_width={self.context_width})")

    def _hash(self, context: np.ndarray, token: np.ndarray) -> np.ndarray:
        """uint64 hash of (key, context (..., h), token (...)), broadcast."""
        context = np.asarray(context, dtype=np.int64).astype(np.uint64)
        with np.errstate(over="ignore"):
            x = np.full(context.shape[:-1], np.uint64(self.key) ^ _GOLDEN, dtype=np.uint64)
            for j in range(context.shape[-1]):
                x = _mix(x ^ (context[..., j] + _GOLDEN))
            return _mix(x ^ (np.asarray(token, dtype=np.int64).astype(np.uint64) * _GOLDEN))

    def _is_green(self, hashed: np.ndarray) -> np.ndarray:
        return (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53 < self.gamma

    def green_mask(self, context) -> np.ndarray:
        """The green list after each context: bool array ``(..., V)`` for ``context`` of shape (..., h)."""
        context = np.asarray(context)
        if context.shape[-1] != self.context_width:
            raise ValueError(f"`context` must end with the {self.context_width} previous tokens "
                             f"(got shape {context.shape}).")
        return self._is_green(self._hash(context[..., None, :], np.arange(self.vocab_size)))

    # ------------------------------------------------------------------ sampling
    def processor(self, delta: float = 2.0):
        """The watermarking logits processor: ``(input_ids, logits) -> logits + δ·green``.

        ``input_ids`` is a torch tensor (batch, t) with t >= h, ``logits`` (batch, V); δ = 0
        changes nothing.
        """
        import torch

        delta = check_float("delta", delta, low=0)
        h = self.context_width

        def process(input_ids, logits):
            if logits.shape[-1] != self.vocab_size:
                raise ValueError(f"the logits have {logits.shape[-1]} entries, the green lists {self.vocab_size}.")
            if input_ids.shape[1] < h:
                raise ValueError(f"the watermark needs at least {h} tokens of context (got {input_ids.shape[1]}).")
            green = self.green_mask(input_ids[:, -h:].cpu().numpy())
            return logits + delta * torch.from_numpy(green).to(device=logits.device, dtype=logits.dtype)

        return process

    # ------------------------------------------------------------------ detection
    def green_counts(self, tokens, context=None, ignore_repeats: bool = True):
        """Green tokens and scored tokens per row of ``tokens`` (n × T).

        Each token is scored with the list of the ``h`` tokens before it; ``context`` (n × h, e.g. the
        prompts' last tokens) precedes each row, otherwise the first ``h`` tokens are context only.
        With ``ignore_repeats`` a (context, token) pair that occurs again in the same row is scored
        once (Kirchenbauer et al. 2023b, "On the reliability of watermarks"): repeats carry no new
        evidence and would break the z-test's independence.
        """
        t = np.asarray(tokens)
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2 or t.dtype.kind not in "iu":
            raise ValueError(f"`tokens` must be an integer array (n × T) (got dtype {t.dtype}, shape {t.shape}).")
        if t.size and (t.min() < 0 or t.max() >= self.vocab_size):
            raise ValueError(f"token ids must be in [0, {self.vocab_size - 1}].")
        h = self.context_width
        if context is not None:
            c = np.asarray(context).reshape(len(t), -1)
            if c.shape[1] < h:
                raise ValueError(f"`context` must hold the {h} tokens before each row (got {c.shape[1]}).")
            t = np.concatenate([c[:, -h:], t], axis=1)
        if t.shape[1] <= h:
            raise ValueError(f"need more than h = {h} tokens per row to score any.")
        win = np.lib.stride_tricks.sliding_window_view(t, h + 1, axis=1)  # (n, T - h, h + 1)
        hashed = self._hash(win[..., :h], win[..., h])
        if not ignore_repeats:
            return self._is_green(hashed).sum(axis=1), np.full(len(t), hashed.shape[1])
        hashed = np.sort(hashed, axis=1)
        first = np.ones(hashed.shape, dtype=bool)
        first[:, 1:] = hashed[:, 1:] != hashed[:, :-1]
        return (self._is_green(hashed) & first).sum(axis=1), first.sum(axis=1)

    def z_scores(self, tokens, context=None, ignore_repeats: bool = True) -> np.ndarray:
        """The z-score of every row: ``(|s|_G − γT) / sqrt(Tγ(1−γ))`` over its scored tokens."""
        g, n = self.green_counts(tokens, context, ignore_repeats)
        return z_score(g, n, self.gamma)

    def detect(self, tokens, z: float = Z_PAPER, context=None) -> np.ndarray:
        """Flag the rows whose z-score reaches ``z`` (bool array)."""
        return self.z_scores(tokens, context) >= check_float("z", z)


def z_score(green_count, n_tokens, gamma: float):
    """The one-proportion z-test statistic ``(|s|_G − γT) / sqrt(Tγ(1−γ))`` (elementwise)."""
    gamma = check_float("gamma", gamma, low=0, high=1, low_open=True, high_open=True)
    g, n = np.asarray(green_count, float), np.asarray(n_tokens, float)
    if np.any(n < 1):
        raise ValueError("`n_tokens` must be >= 1.")
    return (g - gamma * n) / np.sqrt(n * gamma * (1 - gamma))


def normal_fpr(z: float = Z_PAPER) -> float:
    """The false-positive rate the normal approximation gives at threshold ``z``: ``1 − Φ(z)``."""
    return float(stats.norm.sf(check_float("z", z)))


def substitute(tokens, fraction: float, vocab_size: int, rng: np.random.Generator) -> np.ndarray:
    """The attack: replace a share ``fraction`` of positions of every row by uniformly random tokens."""
    t = np.array(tokens, copy=True)
    fraction = check_fraction("fraction", fraction)
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    hit = rng.random(t.shape) < fraction
    t[hit] = rng.integers(0, vocab_size, size=int(hit.sum()))
    return t


def text_detector(green: GreenList, z: float = Z_PAPER):
    """A detector for :class:`collapse_kit.defences.Filtered` on token blocks ``(n_chains, n, T)``:
    flags the blocks whose z-score reaches ``z``."""
    if not isinstance(green, GreenList):
        raise TypeError("`green` must be a GreenList.")
    z = check_float("z", z)

    def detect(items, rng=None):
        items = np.asarray(items)
        if items.ndim != 3:
            raise ValueError(f"items must be token blocks (n_chains, n, T) (got shape {items.shape}).")
        return green.z_scores(items.reshape(-1, items.shape[-1])).reshape(items.shape[:2]) >= z

    return detect


def watermarked_generate(model, prompts, max_new_tokens: int, green: GreenList, *, delta: float = 2.0,
                         share: float = 1.0, seed: int = 0, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Sample continuations where a share ``share`` of the rows (chosen at random, seeded) is watermarked.

    Returns ``(tokens (n × max_new_tokens), watermarked (n,) bool)``. ``kwargs`` go to
    :func:`collapse_kit.gpt.generate` (sampling only: the watermark acts on sampling logits).
    """
    from . import gpt

    prompts = np.asarray(prompts)
    share = check_fraction("share", share)
    seed = check_seed("seed", seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x3A7]))
    marked = rng.random(len(prompts)) < share
    out = np.zeros((len(prompts), check_int("max_new_tokens", max_new_tokens, low=1)), dtype=np.int64)
    for rows, proc in ((marked, green.processor(delta)), (~marked, None)):
        if rows.any():
            out[rows] = gpt.generate(model, prompts[rows], max_new_tokens, method="sample", seed=seed,
                                     logits_processor=proc, **kwargs)
    return out, marked


# --------------------------------------------------------------------------- recursive fine-tuning with providers
def watermarked_lm(base_dir, prompts, setup, green: GreenList, *, delta: float = 2.0, share: float = 1.0,
                   device: str | None = None, progress: bool = False):
    """lesson 06's :class:`~collapse_kit.finetune.FineTunedLM` whose continuations come from
    "providers": a share ``share`` of them watermark (δ = ``delta``), the rest do not. Plugs into
    :func:`collapse_kit.loop.run_generations` like the plain model; ``setup.decoding`` must be
    ``"sample"`` (the watermark acts on sampling logits). As for the plain model, the run
    folder's ``valid.npy`` (written by :func:`~collapse_kit.finetune.prepare`) chooses each generation's
    best epoch."""
    from .finetune import FineTunedLM

    if setup.decoding != "sample":
        raise ValueError(f"`setup.decoding` must be 'sample' for a watermark (got {setup.decoding!r}).")
    if not isinstance(green, GreenList):
        raise TypeError("`green` must be a GreenList.")
    delta, share = check_float("delta", delta, low=0), check_fraction("share", share)

    class WatermarkedLM(FineTunedLM):
        def continue_(self, prompts, seed: int = 0, progress: bool = False) -> np.ndarray:
            if self.model is None:
                raise RuntimeError("call fit() (or load()) before sampling.")
            s = self.setup
            return watermarked_generate(self.model, prompts, s.new_tokens, green, delta=delta, share=share,
                                        seed=seed, temperature=s.temperature, top_k=s.top_k, top_p=s.top_p,
                                        progress=progress)[0]

    return WatermarkedLM(base_dir, prompts, setup, device, progress)
