"""Checkers for lesson 02 (tails vanish first).

Usage in the notebook::

    from collapse_kit.exercises import lesson02 as check
    check.survival(survival_probability)
    check.expected_survivors(expected_survivors)
    check.collision_law(collision_law)
    check.minority_absent(minority_absent)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


def _num(x, what):
    if x is None:
        raise CheckFailed(f"your function returned None: `return` {what}.")
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number, got {type(x).__name__}.") from None


# ----------------------------------------------------------------------------- exercise 1
def reference_survival(q, M):
    """P(a category of probability q appears at least once in M draws) = 1 - (1 - q)^M."""
    return 1 - (1 - q) ** M


def _test_survival(fn) -> None:
    cases = [(0.5, 1), (0.5, 2), (0.01, 100), (1e-4, 10_000), (0.0, 50), (1.0, 3), (0.2, 10)]
    for q, m in cases:
        got = _num(fn(q, m), "the survival probability")
        want = reference_survival(q, m)
        if np.isclose(got, (1 - q) ** m, rtol=1e-6, atol=1e-12) and not np.isclose(want, (1 - q) ** m):
            raise CheckFailed(f"for q={q}, M={m} you returned (1-q)^M = {got:.4g}: that is the chance the "
                              "category is *never* drawn, i.e. that it dies. Survival is the complement.")
        if np.isclose(got, min(1.0, q * m), rtol=1e-6) and not np.isclose(want, min(1.0, q * m), rtol=1e-6):
            raise CheckFailed(f"for q={q}, M={m} you returned q·M = {q * m:.4g}: that is the *expected number* "
                              "of draws, not the probability of at least one.")
        expect_close(got, want, rtol=1e-6, atol=1e-12, what=f"the survival probability for q={q}, M={m}")
    arr = _num(fn(np.array([0.1, 0.2]), 5), "the survival probabilities")
    if arr.shape != (2,):
        raise CheckFailed("your function should also work element-wise on a numpy array of q's.")


survival = Exercise(
    "survival probability of a category",
    _test_survival,
    hint="the category dies if each of the M independent draws misses it (probability 1 - q each).",
    reference=reference_survival,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_expected_survivors(p, M):
    """Expected number of categories alive after one generation: sum_i 1 - (1 - p_i)^M."""
    p = np.asarray(p, dtype=float)
    return float(np.sum(1 - (1 - p) ** M))


def _test_expected_survivors(fn) -> None:
    cases = [(np.array([0.5, 0.5]), 1, 1.0), (np.array([0.5, 0.5]), 2, 1.5),
             (np.full(10, 0.1), 10, None), (np.array([0.7, 0.2, 0.1, 0.0]), 20, None)]
    for p, m, exact in cases:
        got = _num(fn(p.copy(), m), "the expected number of survivors")
        want = reference_expected_survivors(p, m)
        if got.size != 1:
            raise CheckFailed("return one number (a sum over the categories), not one value per category.")
        if np.isclose(got, np.sum((1 - p) ** m)) and not np.isclose(want, np.sum((1 - p) ** m)):
            raise CheckFailed(f"for p={p.tolist()}, M={m} you counted the expected number of categories that "
                              "*die*; count the survivors.")
        if np.isclose(got, np.count_nonzero(p) * (1 - (1 - p.mean()) ** m)) and not np.isclose(got, want):
            raise CheckFailed("you used the average probability for every category; each category has its "
                              "own survival probability 1 - (1 - p_i)^M. Sum them (linearity of expectation).")
        expect_close(got, want, rtol=1e-6, what=f"the expected survivors for p={np.round(p, 3).tolist()}, M={m}")
        if exact is not None:
            expect_close(got, exact, rtol=1e-9, what="your answer")


expected_survivors = Exercise(
    "expected number of surviving categories",
    _test_expected_survivors,
    hint="the number alive is a sum of indicators, one per category; its expectation is the sum of "
         "their survival probabilities.",
    reference=reference_expected_survivors,
)


# ----------------------------------------------------------------------------- exercise 3
def reference_collision_law(s0, n, m):
    """Seddik et al. 2024: expected collision probability after m generations of n samples,
    S_m = 1 - (1 - 1/n)^m (1 - S_0)."""
    return 1 - (1 - 1 / n) ** m * (1 - s0)


def _test_collision_law(fn) -> None:
    cases = [(0.1, 10, 0), (0.1, 10, 1), (0.0, 2, 1), (0.3, 100, 50), (0.01, 1000, 5000)]
    for s0, n, m in cases:
        got = _num(fn(s0, n, m), "the collision probability")
        if np.isclose(got, 1 - (1 - 1 / n) ** m * s0) and not np.isclose(got, reference_collision_law(s0, n, m)):
            raise CheckFailed("it is the *non*-collision probability 1 - S that shrinks by (1 - 1/n) per "
                              "generation, not S itself.")
        if m == 0 and not np.isclose(got, s0):
            raise CheckFailed(f"after m = 0 generations the collision probability is still S_0 = {s0}.")
        expect_close(got, reference_collision_law(s0, n, m), rtol=1e-6,
                     what=f"S_m for S_0={s0}, n={n}, m={m}")


collision_law = Exercise(
    "Seddik's collision law",
    _test_collision_law,
    hint="one generation: E[S'] = S + (1 - S)/n, so 1 - S' = (1 - 1/n)(1 - S). Repeat m times.",
    reference=reference_collision_law,
)


# ----------------------------------------------------------------------------- exercise 4
def reference_minority_absent(w, M):
    """Probability that M draws from a mixture contain no point of a component of weight w."""
    return (1 - w) ** M


def _test_minority_absent(fn) -> None:
    for w, m in [(0.1, 1), (0.1, 10), (0.1, 100), (0.5, 3), (0.02, 50), (0.0, 5)]:
        got = _num(fn(w, m), "the probability")
        if np.isclose(got, 1 - (1 - w) ** m) and not np.isclose(got, (1 - w) ** m):
            raise CheckFailed("you computed the probability that the minority appears *at least once*; the "
                              "question is the probability that it is completely absent.")
        if np.isclose(got, w ** m) and not np.isclose(got, (1 - w) ** m):
            raise CheckFailed("w^M is the chance that *every* draw is a minority point.")
        expect_close(got, reference_minority_absent(w, m), rtol=1e-6, atol=1e-15, what=f"P(absent) for w={w}, M={m}")


minority_absent = Exercise(
    "chance the minority is absent from a sample",
    _test_minority_absent,
    hint="each of the M draws independently misses the minority with probability 1 - w.",
    reference=reference_minority_absent,
)
