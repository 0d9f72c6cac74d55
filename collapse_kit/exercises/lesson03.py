"""Checkers for lesson 03 (images collapse).

Usage in the notebook::

    from collapse_kit.exercises import lesson03 as check
    check.kept_counts(kept_counts)
    check.spread(spread)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


# ----------------------------------------------------------------------------- exercise 1
def reference_kept_counts(counts, imbalance):
    """Images kept per digit: round(counts[c] * imbalance ** (c / 9)), at least 1."""
    counts = np.asarray(counts, dtype=float)
    c = np.arange(counts.size)
    return np.maximum(1, np.round(counts * imbalance ** (c / (counts.size - 1)))).astype(int)


def _test_kept_counts(fn) -> None:
    counts = np.array([178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    for r in (0.5, 0.1, 0.02, 1.0):
        got = fn(counts.copy(), r)
        if got is None:
            raise CheckFailed("your function returned None: `return` the array of counts.")
        got = np.asarray(got)
        want = reference_kept_counts(counts, r)
        if got.shape != want.shape:
            raise CheckFailed(f"return one count per digit (shape {want.shape}), got shape {got.shape}.")
        if r < 1 and np.allclose(got, np.round(counts * r)):
            raise CheckFailed("you scaled every digit by the same `imbalance`; digit c keeps a fraction "
                              "imbalance ** (c / 9), so digit 0 keeps everything and digit 9 the least.")
        if r < 1 and np.allclose(got[::-1], want):
            raise CheckFailed("your order is reversed: digit 0 should keep all its images, digit 9 the fewest.")
        if not np.all(got >= 1):
            raise CheckFailed("keep at least one image of every digit (np.maximum(1, ...)).")
        expect_close(got, want, rtol=0, atol=0.5, what=f"the kept counts for imbalance = {r}")


kept_counts = Exercise(
    "images kept per digit",
    _test_kept_counts,
    hint="fraction kept for digit c: imbalance ** (c / 9); multiply, round, and keep at least 1.",
    reference=reference_kept_counts,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_spread(mu):
    """Latent spread of encoded images mu (n, d): the per-dimension standard deviation across
    images, averaged over dimensions."""
    mu = np.asarray(mu, dtype=float)
    return float(mu.std(axis=0).mean())


def _test_spread(fn) -> None:
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(500, 4)) * np.array([1.0, 2.0, 0.5, 0.1]) + 3.0
    got = fn(mu.copy())
    if got is None:
        raise CheckFailed("your function returned None: `return` one number.")
    got = np.asarray(got, dtype=float)
    if got.size != 1:
        raise CheckFailed("return one number: average the per-dimension spreads over the dimensions.")
    want = reference_spread(mu)
    if np.isclose(got, mu.std(axis=1).mean()):
        raise CheckFailed("you took the standard deviation *within* each image's code (axis=1); take it "
                          "*across* images, for each latent dimension (axis=0).")
    if np.isclose(got, mu.var(axis=0).mean()):
        raise CheckFailed("that is the average *variance*; the spread uses the standard deviation.")
    if np.isclose(got, mu.std()):
        raise CheckFailed("that is the standard deviation of all numbers pooled together; compute it per "
                          "latent dimension (axis=0), then average.")
    expect_close(got, want, rtol=1e-6, what="the spread")
    expect_close(fn(np.ones((10, 3))), 0.0, atol=1e-12, what="the spread of identical codes")


spread = Exercise(
    "latent spread",
    _test_spread,
    hint="`mu.std(axis=0)` gives one standard deviation per latent dimension; average them.",
    reference=reference_spread,
)
