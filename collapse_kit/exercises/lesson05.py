"""Checkers for lesson 05 (a tiny GPT): perplexity from the loss, and one sampling step."""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


# --------------------------------------------------------------------------- perplexity from the loss
def reference_perplexity_from_loss(loss):
    """Perplexity of a mean next-token cross-entropy ``loss`` measured in nats: ``exp(loss)``."""
    return float(np.exp(loss))


def _test_perplexity_from_loss(fn) -> None:
    for loss in (0.0, 1.0, 1.5, 2.3):
        got = fn(loss)
        if got is None:
            raise CheckFailed("your function returned None; `return` the perplexity.")
        got = float(got)
        if np.isclose(got, 2 ** loss) and loss > 0:
            raise CheckFailed("that is 2**loss. PyTorch's cross-entropy uses the natural log (nats), "
                              "so undo it with exp, not with a power of 2.")
        if np.isclose(got, 10 ** loss) and loss > 0:
            raise CheckFailed("that is 10**loss; the loss is in nats (natural log): use np.exp.")
        if loss > 0 and np.isclose(got, 1 / loss):
            raise CheckFailed("perplexity is not 1/loss: it is the exponential of the mean negative log-likelihood.")
        expect_close(got, np.exp(loss), rtol=1e-6, what=f"perplexity_from_loss({loss})")


perplexity_from_loss = Exercise(
    "perplexity from the loss",
    _test_perplexity_from_loss,
    hint="a loss of 0 means perplexity 1 (the model is sure); a uniform guess over V tokens has loss log(V).",
    reference=reference_perplexity_from_loss,
)


# --------------------------------------------------------------------------- one sampling step
def reference_next_token_probs(logits, temperature=1.0, top_k=None):
    """Sampling distribution of the next token: softmax(logits / T) restricted to the top-k logits."""
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None and top_k < len(z):
        kth = np.sort(z)[-top_k]
        z = np.where(z >= kth, z, -np.inf)
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()


def _test_next_token_probs(fn) -> None:
    logits = np.array([2.0, 1.0, 0.5, -1.0, -3.0])
    cases = [(1.0, None), (0.5, None), (2.0, None), (1.0, 2), (0.7, 3)]
    for temperature, top_k in cases:
        got = fn(logits.copy(), temperature=temperature, top_k=top_k)
        if got is None:
            raise CheckFailed("your function returned None; `return` the probability vector.")
        got = np.asarray(got, dtype=float)
        if got.shape != logits.shape:
            raise CheckFailed(f"return one probability per token: shape {logits.shape} (got {got.shape}).")
        if not np.isclose(got.sum(), 1.0):
            raise CheckFailed(f"with temperature={temperature}, top_k={top_k} your probabilities sum to "
                              f"{got.sum():.4f}, not 1. Normalise after removing tokens.")
        if top_k is not None and np.count_nonzero(got > 0) != top_k:
            raise CheckFailed(f"with top_k={top_k} exactly {top_k} tokens should keep a non-zero probability "
                              f"(got {np.count_nonzero(got > 0)}).")
        want = reference_next_token_probs(logits, temperature, top_k)
        if temperature != 1.0 and np.allclose(got, reference_next_token_probs(logits, 1.0, top_k)):
            raise CheckFailed(f"temperature={temperature} changed nothing: divide the logits by the temperature "
                              "before the softmax.")
        if temperature != 1.0 and np.allclose(got, reference_next_token_probs(logits * temperature, 1.0, top_k)):
            raise CheckFailed("you multiplied by the temperature; divide instead (low temperature = sharper).")
        expect_close(got, want, rtol=1e-6, atol=1e-9,
                     what=f"next_token_probs(logits, temperature={temperature}, top_k={top_k})")


next_token_probs = Exercise(
    "one sampling step",
    _test_next_token_probs,
    hint="z = logits / temperature; set all but the top_k largest z to -inf; softmax(z) = exp(z - max) / sum.",
    reference=reference_next_token_probs,
)
