"""Checkers for lesson 01 (Gaussian collapse).

Usage in the notebook::

    from collapse_kit.exercises import lesson01 as check
    check.one_generation(one_generation)
    check.mle_variance(expected_mle_variance)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close
from ..gaussian import expected_variance


# ----------------------------------------------------------------------------- exercise 1
def reference_one_generation(data, rng):
    """Fit N(mean, MLE variance) to ``data`` and draw ``len(data)`` new points with ``rng``."""
    data = np.asarray(data, dtype=float)
    mu, sigma2 = data.mean(), data.var()  # MLE: divide by M
    return rng.normal(mu, np.sqrt(sigma2), size=len(data))


def _test_one_generation(fn) -> None:
    data = 2 * np.array([-1.5, -0.5, 0.0, 0.5, 1.5])  # mean 0, MLE variance 4, M = 5
    out = fn(data.copy(), np.random.default_rng(0))
    if out is None:
        raise CheckFailed("your function returned None: `return` the new samples.")
    out = np.asarray(out, dtype=float)
    if out.shape != data.shape:
        raise CheckFailed(f"return M = {len(data)} new samples as a 1-D array (got shape {out.shape}).")
    again = np.asarray(fn(data.copy(), np.random.default_rng(0)), dtype=float)
    if not np.array_equal(out, again):
        raise CheckFailed("two calls with the same seed gave different samples: draw them with the `rng` "
                          "argument (e.g. `rng.normal(...)`), not `np.random`.")
    if np.allclose(np.sort(out), np.sort(data)):
        raise CheckFailed("you returned the data itself: *sample* new points from the fitted Gaussian.")
    reps = 4000
    rng = np.random.default_rng(1)
    draws = np.array([np.asarray(fn(data.copy(), rng), dtype=float) for _ in range(reps)])
    mean_of_means = draws.mean()
    # each draw has M=5 points from N(0, 4): its MLE variance has mean 4(M-1)/M = 3.2 (sd ~2.3 per draw)
    mle_var = draws.var(axis=1).mean() / 4.0  # in units of the data's variance: expect 0.8
    if abs(mean_of_means) > 0.1:
        raise CheckFailed(f"your samples are centred at {mean_of_means:.3f}, but the data's mean is 0: "
                          "centre the new Gaussian at the sample mean.")
    if abs(mle_var - 1.25 * 0.8) < 0.06:
        raise CheckFailed("your samples are too spread out for the MLE: it looks like you used the unbiased "
                          "variance (ddof=1). The MLE divides by M: `data.var()`.")
    if abs(mle_var - 4 * 0.8) < 0.3:
        raise CheckFailed("your samples have the variance (not the standard deviation) as their scale: "
                          "`rng.normal(mu, sigma, size)` takes sigma = sqrt(variance).")
    if abs(mle_var - 0.8) > 0.05:
        raise CheckFailed(f"the spread of your samples is off (average sample variance {4 * mle_var:.3f}, "
                          "expected 3.2 for data with MLE variance 4 and M = 5).")


one_generation = Exercise(
    "one generation of the loop",
    _test_one_generation,
    hint="fit the MLE (mean and `data.var()`), then draw len(data) points with `rng.normal(loc, scale, size)`; "
         "scale is a standard deviation.",
    reference=reference_one_generation,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_expected_mle_variance(n, M, sigma2=1.0):
    """E[σ²] after ``n`` MLE fits of ``M`` samples each: σ²((M-1)/M)^n."""
    return sigma2 * ((M - 1) / M) ** n


def _test_mle_variance(fn) -> None:
    cases = [(1, 10, 1.0), (5, 10, 1.0), (20, 100, 2.0), (0, 3, 1.0), (50, 2, 1.0)]
    for n, m, s2 in cases:
        got = fn(n, m, s2)
        if got is None:
            raise CheckFailed("your function returned None: `return` the expected variance.")
        want = expected_variance(n - 1, m, "mle", s2) if n >= 1 else s2
        if n == 5 and m == 10 and np.isclose(float(got), (m - 1) / m):
            raise CheckFailed("that is the factor for one fit; after n fits the factor compounds (a power).")
        if n == 5 and m == 10 and np.isclose(float(got), ((m + 1) / m) ** n):
            raise CheckFailed("the MLE *underestimates* the variance: the factor is below 1.")
        if n == 5 and m == 10 and np.isclose(float(got), (1 - n / m)):
            raise CheckFailed("close for small n, but each fit multiplies the expected variance by the same "
                              "factor: it is a power, not a subtraction.")
        expect_close(got, want, rtol=1e-9, what=f"expected_mle_variance(n={n}, M={m}, sigma2={s2})")


mle_variance = Exercise(
    "expected variance after n MLE fits",
    _test_mle_variance,
    hint="one MLE fit of M points has E[σ̂²] = σ²(M-1)/M; fits compound.",
    reference=reference_expected_mle_variance,
)


# ----------------------------------------------------------------------------- exercise 3
def reference_generations_to_halve(M):
    """Smallest number of MLE fits n with ((M-1)/M)^n <= 1/2."""
    return int(np.ceil(np.log(0.5) / np.log((M - 1) / M)))


def _test_halve(fn) -> None:
    for m in (2, 5, 10, 100, 1000):
        got = fn(m)
        want = reference_generations_to_halve(m)
        if got is None:
            raise CheckFailed("your function returned None: `return` a whole number of fits.")
        if not float(got).is_integer():
            raise CheckFailed(f"for M={m} you returned {got}: a number of fits is a whole number (round up).")
        if int(got) == want - 1:
            raise CheckFailed(f"for M={m} you returned {got}: after that many fits the variance is still above "
                              "half. Round *up* (np.ceil).")
        if int(got) != want:
            raise CheckFailed(f"for M={m} you returned {got}, expected {want}. Solve ((M-1)/M)^n = 1/2 for n.")
    if abs(reference_generations_to_halve(1000) - 1000 * np.log(2)) > 1:
        raise AssertionError("internal check failed")


generations_to_halve = Exercise(
    "fits until the expected variance halves",
    _test_halve,
    hint="take logs: n = log(1/2) / log((M-1)/M), then round up; for large M it is about 0.69·M.",
    reference=reference_generations_to_halve,
)
