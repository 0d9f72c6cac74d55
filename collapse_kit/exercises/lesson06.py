"""Checkers for lesson 06 (recursive fine-tuning): mixing real data in, and distinct-n."""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


# --------------------------------------------------------------------------- the mixed training set
def reference_mixed_training_set(real, synthetic, real_fraction, rng):
    """``len(synthetic)`` blocks: ``round(λ·M)`` random real blocks, the rest random synthetic ones."""
    m = len(synthetic)
    k_real = int(round(real_fraction * m))
    real_idx = rng.choice(len(real), size=k_real, replace=False)
    syn_idx = rng.choice(m, size=m - k_real, replace=False)
    return np.concatenate([real[real_idx], synthetic[syn_idx]], axis=0)


def _test_mixed_training_set(fn) -> None:
    m, width = 40, 6
    real = np.arange(m * width).reshape(m, width) * 2          # even numbers: real blocks
    synthetic = np.arange(m * width).reshape(m, width) * 2 + 1  # odd numbers: generated blocks
    for lam in (0.0, 0.1, 0.25, 1.0):
        got = fn(real, synthetic, lam, np.random.default_rng(0))
        if got is None:
            raise CheckFailed("your function returned None; `return` the training set.")
        got = np.asarray(got)
        if got.shape != (m, width):
            raise CheckFailed(f"the training set must keep the size of the data set, {m} blocks of {width} tokens "
                              f"(got shape {got.shape}).")
        n_real = int(np.sum(got[:, 0] % 2 == 0))
        want = int(round(lam * m))
        if n_real != want:
            raise CheckFailed(f"with real_fraction={lam} and {m} blocks, {want} blocks should be real "
                              f"(got {n_real}).")
        rows = {tuple(r) for r in got}
        if len(rows) != m:
            raise CheckFailed("some blocks appear twice: draw without replacement (replace=False).")
    a = fn(real, synthetic, 0.25, np.random.default_rng(1))
    b = fn(real, synthetic, 0.25, np.random.default_rng(2))
    if np.array_equal(np.sort(a[:, 0]), np.sort(b[:, 0])):
        raise CheckFailed("different generators gave the same blocks: pick the real blocks at random with `rng`.")


mixed_training_set = Exercise(
    "the mixed training set",
    _test_mixed_training_set,
    hint="k = round(real_fraction * M); rng.choice(len(real), k, replace=False) picks the real rows.",
    reference=reference_mixed_training_set,
)


# --------------------------------------------------------------------------- distinct-n
def reference_distinct_n(texts, n):
    """Unique word n-grams divided by all word n-grams, over all texts together."""
    from ..finetune import distinct_n

    return distinct_n(texts, n)


def _test_distinct_n(fn) -> None:
    texts = ["the cat sat on the mat", "the cat ran", "a dog sat on the mat"]
    for n in (1, 2, 3):
        got = fn(texts, n)
        if got is None:
            raise CheckFailed("your function returned None; `return` the fraction.")
        want = reference_distinct_n(texts, n)
        per_text = np.mean([reference_distinct_n([t], n) for t in texts])
        if not np.isclose(want, per_text) and np.isclose(got, per_text):
            raise CheckFailed("you averaged distinct-n over texts; count unique n-grams over *all* texts at once.")
        words = " ".join(texts).split()
        if n == 1 and np.isclose(got, len(set(words))):
            raise CheckFailed("divide the number of unique n-grams by the total number of n-grams.")
        expect_close(got, want, rtol=1e-9, what=f"distinct_n(texts, {n})")
    expect_close(fn(["la la la la"], 1), 0.25, what="distinct_n(['la la la la'], 1)")


distinct_n = Exercise(
    "distinct-n",
    _test_distinct_n,
    hint="split each text into words; n-grams are tuple(words[i:i+n]); use a set for the unique ones.",
    reference=reference_distinct_n,
)
