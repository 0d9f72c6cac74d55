"""Checkers for lesson 01 (Gaussian collapse).

Usage in the notebook::

    from collapse_kit.exercises import lesson01 as check
    check.one_generation(one_generation)
    check.generations_to_halve(generations_to_halve)
    check.median_halving(median_halving_generation)   # the thinking exercise: an experiment
    check.median_halving.more_hint()                   # graded hints, one level at a time
    check.quiz.show(); check.quiz.check(my_answers)    # "Check your understanding"
"""
from __future__ import annotations

import numpy as np

from functools import lru_cache

from ..checks import CheckFailed, Exercise, Question, Quiz, expect_close
from ..gaussian import expected_variance, simulate_gaussian_chains
from ..history import values


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
    hint="two steps: estimate the Gaussian's two parameters from `data`, then sample from the Gaussian they define.",
    more_hints=("the MLE of the variance divides the sum of squared deviations by M (numpy's default for arrays).",
                "draw with the generator you are given (its `normal` method), as many points as `data` has; "
                "that method's scale argument is a standard deviation, not a variance."),
    reference=reference_one_generation,
)


# ----------------------------------------------------------------------------- (retired) transcription exercise
# The notebook no longer asks learners to type E[σ²] = σ²((M-1)/M)^n (it was printed just above the
# exercise; issue 11). The checker stays for instructors' older copies and for tests/test_checks.py.
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
    more_hints=("each fit multiplies the expected variance by the same factor, whatever came before.",),
    reference=reference_expected_mle_variance,
)


# ----------------------------------------------------------------------------- exercise 2 (in the notebook)
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
    hint="you want the smallest whole n for which the factor ((M-1)/M), applied n times, is at most 1/2.",
    more_hints=("take logarithms of both sides; log((M-1)/M) is negative, so the inequality flips when you divide.",
                "a number of fits is a whole number: round the solution of the equation up, not to the nearest.",
                "sanity check: for large M, log((M-1)/M) ≈ -1/M, so the answer is about 0.69·M."),
    reference=reference_generations_to_halve,
)


# ----------------------------------------------------------------------------- exercise 3: the experiment
HALF = 0.5


def reference_median_halving_generation(M, estimator="mle", n_chains=5000, seed=0):
    """First generation g at which the median (over chains) of σ²_g is at most half the true variance,
    measured with the exact engine under ``replace`` (true variance 1)."""
    var = values(simulate_gaussian_chains(n_chains, 4 * M, M, estimator=estimator, seeds=seed), "variance")
    below = np.median(var, axis=0) <= HALF
    return int(np.argmax(below)) if below.any() else None


@lru_cache(maxsize=None)
def _precise_halving(M: int, estimator: str) -> int:
    """The checker's own measurement: many chains, a seed the notebook does not use."""
    return reference_median_halving_generation(M, estimator, n_chains=40000, seed=987654)


def _mean_law_generation(M: int) -> int:
    """First generation at which E[σ²_g] (MLE) is at most 1/2: what a learner who tracks the mean finds."""
    return reference_generations_to_halve(M) - 1


def _as_generation(got, M, estimator):
    if got is None:
        raise CheckFailed(f"for M={M}, estimator={estimator!r} your function returned None. If the median never "
                          "fell to 1/2, run more generations (the lesson suggests 4·M); otherwise `return` the "
                          "generation.")
    try:
        g = float(np.asarray(got, dtype=float))
    except (TypeError, ValueError):
        raise CheckFailed(f"return one whole number (a generation), got {type(got).__name__}.") from None
    if not g.is_integer() or g < 0:
        raise CheckFailed(f"for M={M}, estimator={estimator!r} you returned {got}: a generation is a whole "
                          "number >= 0 (the index of a column of the variance table).")
    return int(g)


def _test_median_halving(fn) -> None:
    got = {}
    for M, est in ((20, "mle"), (20, "unbiased"), (10, "unbiased")):
        got[M, est] = _as_generation(fn(M, est), M, est)
    if got[20, "mle"] == got[20, "unbiased"]:
        raise CheckFailed("you get the same generation for the MLE and the unbiased estimator: pass `estimator` "
                          "on to the engine (`estimator=estimator`).")
    for (M, est), g in got.items():
        want = _precise_halving(M, est)
        tol = max(1, int(round(0.08 * want)))  # Monte-Carlo error of a median over a few thousand chains
        if abs(g - want) <= tol:
            continue
        if est == "unbiased" and g == 0:
            raise CheckFailed(f"for M={M} with the unbiased estimator you returned generation 0. Did you follow "
                              "the *mean* over chains? It stays near 1 for the unbiased estimator, so it never "
                              "halves; the question is about the *median* chain.")
        if est == "mle" and abs(g - _mean_law_generation(M)) <= tol:
            raise CheckFailed(f"for M={M} (MLE) you found generation {g}: that is when the *mean* over chains "
                              "halves (the law of exercise 2). Take the median over chains instead.")
        if g == 0:
            raise CheckFailed(f"for M={M}, {est}: generation 0 is the fit to real data, whose median variance is "
                              "close to 1. Look for the *first* generation whose median is at most 1/2 (is your "
                              "comparison the right way round?).")
        raise CheckFailed(f"for M={M} with the {est} estimator your experiment says generation {g}, but a run with "
                          f"many chains finds about {want} (± {tol}). Check the statistic (median over chains, "
                          "per generation) and the threshold (1/2 of the true variance 1).")


median_halving = Exercise(
    "when does the typical chain lose half its variance?",
    _test_median_halving,
    hint="run the exact engine for enough generations, then look at the variance table one generation "
         "(one column) at a time.",
    more_hints=("`values(history, 'variance')` is a chains × generations array: reduce it over the chains "
                "axis (axis 0) with the median, not the mean.",
                "you want the index of the first column whose median is at most 0.5; numpy can find the first "
                "True in a boolean array, and `estimator` must reach the engine.",
                "give the engine about 4·M generations so that the median surely falls below 1/2 in the run."),
    reference=reference_median_halving_generation,
)


# ----------------------------------------------------------------------------- check your understanding
quiz = Quiz(
    "Lesson 01 · Check your understanding",
    {
        "q1": Question(
            "With the *unbiased* estimator, E[σ²_g] = σ² for every generation g. What happens to a typical "
            "(the median) chain's variance after many generations of `replace`?",
            options={"a": "it stays near σ², because the estimator is unbiased",
                     "b": "it collapses towards 0; the mean over chains stays at σ² only because a few rare "
                          "chains blow up",
                     "c": "it grows without bound, like the marginal variance",
                     "d": "it settles at σ²(M−1)/M"},
            answer="b",
            explanation="log σ²_g is a sum of independent terms with a negative mean, so σ²_g → 0 almost surely "
                        "(Shumailov et al., Theorem 3.1 and SI §3.1), while E[σ²_g] stays σ² (a martingale). "
                        "Unbiased per step is not safe over many steps.",
            why_not={"a": "unbiased says the *average* over chains is right, not that a typical chain is: look at "
                          "the median line in §3.",
                     "c": "the marginal variance grows because the *mean* random-walks; each chain's own σ² "
                          "still shrinks.",
                     "d": "(M−1)/M is the MLE's bias of one fit; the unbiased estimator removes it, and the "
                          "median still decays geometrically."},
        ),
        "q2": Question(
            "MLE refits with M = 100 samples per generation, `replace`. How many *fits* until the expected "
            "variance E[σ²] first drops to half the true variance or below? (a whole number)",
            answer=float(reference_generations_to_halve(100)),
            tolerance=0.02,
            explanation=f"((M−1)/M)^n ≤ 1/2 gives n ≥ log(1/2)/log(0.99) ≈ 68.97, so n = "
                        f"{reference_generations_to_halve(100)} fits (about 0.69·M): generation "
                        f"{reference_generations_to_halve(100) - 1} in the course's indexing.",
            hint="exercise 2's function answers this; for large M the answer is close to 0.69·M.",
        ),
        "q3": Question(
            "Exercise 3 measured when the *median* chain's variance halves. With the MLE and large M, compared "
            "with the *mean* over chains, the median halves after about ...",
            options={"a": "the same number of generations",
                     "b": "half as many generations",
                     "c": "twice as many generations",
                     "d": "never"},
            answer="b",
            explanation="per MLE fit, log E[σ²] falls by −log((M−1)/M) ≈ 1/M, but the typical chain's log σ² falls "
                        "by about 2/M: 1/M from the MLE's bias and another 1/M from E[log(χ²_{M−1}/(M−1))] ≈ "
                        "−1/(M−1) (Jensen's inequality). Your table in §3 shows the factor of about two.",
            why_not={"a": "the mean and the median of a skewed distribution differ; compare the two columns of "
                          "your table.",
                     "c": "the median falls *faster* than the mean here: a few large chains hold the mean up.",
                     "d": "that is the *mean* with the unbiased estimator, not the median."},
        ),
        "q4": Question(
            "Under `replace`, the fitted mean μ_g wanders and then freezes. Why does it freeze?",
            options={"a": "the MLE of the mean is biased towards 0",
                     "b": "each step of the walk has variance σ²_g/M, and σ²_g collapses, so the steps shrink",
                     "c": "the real data pull it back to the true mean",
                     "d": "it does not freeze; it keeps moving at the same speed"},
            answer="b",
            explanation="the sample mean of M draws from N(μ_g, σ²_g) is N(μ_g, σ²_g/M): a random walk whose step "
                        "size shrinks with the variance, so each chain freezes at its own random place, not at the "
                        "truth.",
            why_not={"a": "the sample mean is unbiased; the walk has no drift.",
                     "c": "under `replace` no real data come back after generation 0.",
                     "d": "look at the fan chart of the mean in §2: the band stops widening."},
        ),
        "q5": Question(
            "To first order E[W2²] between model g and the truth is (3/2)σ² Σᵢ 1/Mᵢ (Shumailov et al., SI "
            "§3.1.1). Which schedule of sample sizes keeps it bounded as g → ∞?",
            options={"a": "a constant M, as long as it is large",
                     "b": "Mᵢ growing linearly, Mᵢ ∝ i",
                     "c": "Mᵢ growing superlinearly, e.g. Mᵢ ∝ i^1.5",
                     "d": "no schedule can"},
            answer="c",
            explanation="the sum Σ 1/Mᵢ converges only if Mᵢ grows faster than linearly (Σ 1/i^1.5 converges, "
                        "Σ 1/i does not): more data per generation slows the drift, a superlinearly growing "
                        "amount stops it.",
            why_not={"a": "with constant M the sum grows like n/M: the drift is linear in the number of fits.",
                     "b": "Σ 1/i is the harmonic series: it diverges (slowly, like log n).",
                     "d": "a superlinear schedule makes the sum converge."},
        ),
        "q6": Question(
            "You read λ = 0.1 in Alemohammad et al. (2024, the MAD paper). What does it measure there?",
            options={"a": "the fraction of real data in each training set, as in this course",
                     "b": "the amount of generated data in the training objective",
                     "c": "a sampling bias: how strongly the sampler favours typical, high-quality outputs",
                     "d": "the temperature of the Gaussian"},
            answer="c",
            explanation="the course's λ is the real fraction; Alemohammad et al.'s λ is a sampling bias, and "
                        "Bertrand et al.'s λ is the weight of generated data. Always check a paper's notation "
                        "before comparing numbers.",
            why_not={"a": "that is the course's λ (real fraction), not MAD's.",
                     "b": "that is closer to Bertrand et al.'s λ.",
                     "d": "the Gaussian temperature is called τ here and scales the standard deviation."},
        ),
    },
)

QUIZ_SOLUTION = {"q1": "b", "q2": float(reference_generations_to_halve(100)), "q3": "b", "q4": "b", "q5": "c",
                 "q6": "c"}
