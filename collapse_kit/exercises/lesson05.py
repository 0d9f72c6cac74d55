"""Checkers for lesson 05 (a tiny GPT): a loss in other units, one sampling step, a temperature
experiment, and the end-of-lesson quiz."""
from __future__ import annotations

import math

import numpy as np

from ..checks import CheckFailed, Exercise, Question, Quiz, expect_close


# --------------------------------------------------------------------------- 1. a loss in other units
def reference_loss_in_units(loss):
    """``(perplexity, bits_per_character)`` of a mean next-token cross-entropy ``loss`` in nats."""
    loss = float(loss)
    return float(np.exp(loss)), loss / math.log(2)


def _test_loss_in_units(fn) -> None:
    for loss in (0.0, 1.0, 1.4697, math.log(80)):
        got = fn(loss)
        if got is None:
            raise CheckFailed("your function returned None; `return perplexity, bits_per_character`.")
        try:
            ppl, bpc = (float(v) for v in got)
        except (TypeError, ValueError):
            raise CheckFailed("return two numbers: `return perplexity, bits_per_character`.") from None
        want_ppl, want_bpc = reference_loss_in_units(loss)
        if loss > 0:
            if np.isclose(ppl, 2 ** loss):
                raise CheckFailed("your perplexity is 2**loss, but the loss is in nats (natural log): "
                                  "the inverse of a natural log is not a power of 2.")
            if np.isclose(ppl, 10 ** loss):
                raise CheckFailed("your perplexity is 10**loss; the loss is in nats, not in decimal digits.")
            if np.isclose(ppl, loss) or np.isclose(ppl, 1 / loss):
                raise CheckFailed("perplexity is not the loss itself (nor its inverse): a loss of 0 "
                                  "(a certain model) must give perplexity 1.")
            if np.isclose(bpc, loss * math.log(2)):
                raise CheckFailed("your bits per character are too small: one bit is *less* information than "
                                  "one nat (ln 2 ≈ 0.69 nats), so the same loss is *more* bits than nats.")
            if np.isclose(bpc, loss):
                raise CheckFailed("your bits per character equal the loss in nats; convert the unit.")
            if np.isclose(bpc, math.log2(max(ppl, 1e-300))) and not np.isclose(ppl, want_ppl):
                raise CheckFailed("your two numbers agree with each other, but the perplexity is off.")
        expect_close(ppl, want_ppl, rtol=1e-6, what=f"the perplexity for loss {loss:.4g}")
        expect_close(bpc, want_bpc, rtol=1e-6, what=f"the bits per character for loss {loss:.4g}")


loss_in_units = Exercise(
    "a loss in other units",
    _test_loss_in_units,
    hint="check your function on two cases you can do in your head: a certain model (loss 0) and a uniform "
         "guess over V characters (loss log V): what perplexity and how many bits should each give?",
    more_hints=(
        "perplexity undoes the logarithm that the loss took; the loss used the natural logarithm.",
        "a nat and a bit are units of the same quantity, like metres and feet: 1 bit = ln 2 nats, so divide "
        "by the size of the unit you convert to.",
    ),
    reference=reference_loss_in_units,
)


# --------------------------------------------------------------------------- 2. one sampling step
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
    hint="do the steps in the order the text lists them: scale, then filter, then turn scores into "
         "probabilities that sum to 1.",
    more_hints=(
        "a token you remove must end with probability exactly 0: which score gives exp(score) = 0?",
        "for numerical safety, subtract the largest remaining score before exponentiating; it does not change "
        "the normalised result. Ties at the k-th score may keep more than k tokens; the test has no ties.",
    ),
    reference=reference_next_token_probs,
)


# --------------------------------------------------------------------------- 3. the temperature experiment
def temperature_gaps(own_perplexity, real_perplexity, temperatures) -> dict:
    """``|log(own perplexity at T) - log(real perplexity)|`` for every T: how far the model's own text at
    temperature T is from human text, in surprise per character."""
    return {float(t): abs(math.log(float(own_perplexity(t))) - math.log(float(real_perplexity)))
            for t in temperatures}


def reference_matching_temperature(own_perplexity, real_perplexity, temperatures):
    """The temperature whose continuations the model finds as surprising as human continuations."""
    gaps = temperature_gaps(own_perplexity, real_perplexity, temperatures)
    return min(gaps, key=gaps.get)


def temperature_experiment(own_perplexity, real_perplexity, temperatures, *, tolerance: float = 0.02):
    """Exercise 3 of lesson 05, bound to this notebook's measurements.

    ``own_perplexity(T)`` is the model's perplexity of its own continuations sampled at temperature ``T``
    (cache it: the checker calls it again), ``real_perplexity`` the model's perplexity of the human
    continuations of the same prompts. The learner's function takes ``(own_perplexity, real_perplexity,
    temperatures)`` and returns the temperature it chose; the checker recomputes the sweep and accepts
    the best temperature or any within ``tolerance`` (in |log perplexity|) of it (a near tie).
    """
    temperatures = tuple(float(t) for t in temperatures)
    if len(temperatures) < 3:
        raise ValueError("give at least three temperatures to sweep.")

    def test(fn):
        got = fn(own_perplexity, real_perplexity, temperatures)
        if got is None:
            raise CheckFailed("your function returned None; `return` the temperature you chose.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"return one temperature (a number), not a {type(got).__name__}.") from None
        gaps = temperature_gaps(own_perplexity, real_perplexity, temperatures)
        if not any(np.isclose(got, t) for t in temperatures):
            raise CheckFailed(f"{got:.4g} is not one of the temperatures you were asked to try {temperatures}; "
                              "return the temperature itself, not a perplexity or a gap.")
        t = min(temperatures, key=lambda s: abs(s - got))
        best = min(gaps, key=gaps.get)
        if gaps[t] <= gaps[best] + tolerance:
            return
        own = float(own_perplexity(t))
        if t == min(temperatures):
            why = ("that is the temperature whose text the model finds *likeliest*; the question asks for the "
                   "one whose text is as surprising to the model as human text.")
        elif t == max(temperatures):
            why = "that is the most surprising text of the sweep, not the closest to human text."
        else:
            why = "another temperature of the sweep comes closer."
        raise CheckFailed(f"at T = {t:g} the model's own text has perplexity {own:.2f}, human text "
                          f"{float(real_perplexity):.2f}: {why}")

    return Exercise(
        "the temperature experiment",
        test,
        hint="compare the two perplexities at each temperature; you are looking for a match, not a minimum.",
        more_hints=(
            "perplexities are ratios of surprise: 4 vs 8 is as far apart as 2 vs 4. Compare them on a log scale "
            "(or as a ratio) rather than by their difference.",
            "build a small table (a dict or a DataFrame) temperature -> distance, then return the temperature "
            "with the smallest distance.",
        ),
        reference=reference_matching_temperature,
    )


# --------------------------------------------------------------------------- check your understanding
quiz = Quiz(
    "Lesson 05 · Check your understanding",
    {
        "q1": Question(
            "nanoGPT's GPU run of shakespeare_char reaches a validation loss of 1.4697 nats per character. "
            "What is its perplexity (a number)?",
            answer=math.exp(1.4697),
            tolerance=0.02,
            explanation="exp(1.4697) ≈ 4.35: at each character the model hesitates as if between about four "
                        "equally likely characters (out of 65).",
            hint="perplexity undoes the natural logarithm of the loss.",
        ),
        "q2": Question(
            "Before training, our GPT scored held-out text with a perplexity close to which number?",
            options={"a": "1", "b": "the vocabulary size (about 80)", "c": "log(80) ≈ 4.4",
                     "d": "exp(80)"},
            answer="b",
            explanation="random weights spread the probability about evenly over the V characters, so the "
                        "loss is about log V and the perplexity about V.",
            why_not={"c": "log(80) is the *loss* of a uniform guess; perplexity is its exponential.",
                     "a": "perplexity 1 means a model that is always sure and right: the opposite of untrained."},
        ),
        "q3": Question(
            "In the decoding table, which rule wrote the text that the model itself finds likeliest "
            "(lowest perplexity of its own continuations)?",
            options={"a": "sampling at temperature 1.3", "b": "sampling at temperature 1.0",
                     "c": "top-p = 0.9 sampling", "d": "5-way beam search"},
            answer="d",
            explanation="beam search looks for the most probable whole continuation, so its text is close to "
                        "the model's single most probable output (the mode, not a typical sample); greedy "
                        "decoding is usually close to it. Shumailov et al. generated their training data "
                        "this way; lesson 06 runs it beside sampling.",
            why_not={"b": "at T = 1 the model writes text about as surprising (to itself) as human text: "
                          "see exercise 3.",
                     "c": "top-p only removes the unlikely tail at each step; it still samples."},
        ),
        "q4": Question(
            "In this lesson, what does temperature T = 0.5 do?",
            options={"a": "divides the logits by 0.5 before the softmax: a sharper next-character distribution",
                     "b": "multiplies the standard deviation of the samples by 0.5",
                     "c": "keeps the likeliest half of the vocabulary",
                     "d": "flattens the distribution towards uniform"},
            answer="a",
            explanation="the language-model temperature divides the logits; T < 1 sharpens, T > 1 flattens.",
            why_not={"b": "that is the *Gaussian* lessons' temperature (same name, different formula: see the "
                          "notation box).",
                     "d": "that is what T > 1 does.",
                     "c": "that would be a top-k filter with k = V/2."},
        ),
        "q5": Question(
            "Compared with the mean per-block perplexity, the perplexity of the mean loss (exp of the average "
            "NLL) is ...",
            options={"a": "always at most as large", "b": "always at least as large", "c": "always equal",
                     "d": "either, depending on the text"},
            answer="a",
            explanation="exp is convex, so the mean of exp(NLL) is at least exp(mean NLL) (Jensen's "
                        "inequality); the notebook asserts it. Papers differ in which one they report: say which.",
            why_not={"c": "they are equal only if every block has the same loss.",
                     "d": "Jensen's inequality holds for every text."},
        ),
        "q6": Question(
            "What does a KV cache change in the generated text?",
            options={"a": "nothing: same tokens, fewer computations per new token",
                     "b": "it makes greedy decoding sample",
                     "c": "it lowers the model's perplexity",
                     "d": "it lets the model see beyond its context window"},
            answer="a",
            explanation="it keeps the keys and values of earlier tokens instead of recomputing them; the "
                        "notebook asserts that the tokens are identical with and without it.",
            why_not={"d": "the context window is fixed by the model (its position embeddings); the cache "
                          "only avoids recomputation inside it."},
        ),
    },
)

quiz_solution = {"q1": 4.35, "q2": "b", "q3": "d", "q4": "a", "q5": "a", "q6": "a"}
