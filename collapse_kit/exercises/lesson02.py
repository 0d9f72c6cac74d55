"""Checkers for lesson 02 (tails vanish first).

Usage in the notebook::

    from collapse_kit.exercises import lesson02 as check
    check.survival(survival_probability)
    check.expected_survivors(expected_survivors)
    check.collision_law(collision_law)
    check.mitigation(minority_experiment)   # the thinking exercise: pick the smallest real fraction
    check.survival.more_hint()              # the next, more specific hint (never the answer)
    check.quiz.show(); check.quiz.check({"q1": ..., ...})
"""
from __future__ import annotations

import numpy as np

from functools import lru_cache

from ..checks import CheckFailed, Exercise, Question, Quiz, expect_close


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
    hint="it is easier to compute the chance of the opposite event first: the category is never drawn.",
    more_hints=("one draw misses the category with probability 1 - q; the M draws are independent, so "
                "their chances of missing multiply.",
                "survival = 1 - P(all M draws miss). Use numpy operations (`**`, `-`) so an array of q's works too."),
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
    hint="write the number of categories alive as a sum of 0/1 indicators, one per category.",
    more_hints=("the expectation of a sum is the sum of the expectations, even though the indicators are "
                "dependent; the expectation of an indicator is a probability you computed in exercise 1.",
                "apply your survival probability to the whole vector p at once, then add up the entries "
                "(one number comes back)."),
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
    hint="the recursion is simpler for the complement: follow D_m = 1 - S_m instead of S_m.",
    more_hints=("rewrite E[S_{m+1}] = E[S_m] + (1 - E[S_m])/n in terms of D = 1 - S: one generation multiplies "
                "E[D] by a fixed factor. Which one?",
                "a quantity multiplied by the same factor every generation is a geometric sequence: after m "
                "generations, E[D_m] = (factor)^m · D_0. Then turn D back into S."),
    reference=reference_collision_law,
)


# ----------------------------------------------------------------------------- exercise 4 (thinking)
#: the lesson's mitigation experiment: a 90/10 mixture, M = 100, a fixed real set, `real_fraction=λ`
MIX_GRID = (0.0, 0.02, 0.05, 0.1, 0.2)
MIX_BUDGET = 0.10      # at most 10% of chains may lose the minority by the last generation
MIX_SIZE = 100
MIX_SEED = 7


def mix_settings() -> dict:
    """The sizes the checker runs the learner's experiment with (smaller in quick mode)."""
    from ..runtime import pick

    return {"real_fractions": list(MIX_GRID), "n_chains": pick(full=100, quick=40),
            "generations": pick(full=40, quick=25), "seed": MIX_SEED}


def reference_minority_experiment(real_fractions, n_chains, generations, seed):
    """Run the 90/10 mixture loop (M = 100, a fixed real set of 100 points, `real_fraction=λ`) for each λ.

    Returns ``(lost, choice)``: ``lost[λ]`` is the fraction of chains whose minority share is below 1%
    at the last generation, and ``choice`` the smallest λ with ``lost[λ] <= MIX_BUDGET``
    (``None`` if no λ of the grid meets the budget).
    """
    from .. import mixture as X
    from ..history import values
    from ..loop import run_generations
    from ..plots import minority_lost
    from ..strategies import real_fraction_grid

    pop = X.population("rare_mode")
    grid = real_fraction_grid(real_fractions)
    hist = run_generations(X.GaussianMixtureModel, real_sampler=pop.sampler(), real_size=MIX_SIZE,
                           sample_size=MIX_SIZE, generations=generations, n_chains=n_chains, strategies=grid,
                           metrics=X.loop_metrics(pop), seeds=seed)
    lost = {float(s.real_fraction): float(minority_lost(values(hist, "minority share", s.label))[-1])
            for s in grid}
    safe = [lam for lam, f in lost.items() if f <= MIX_BUDGET]
    return lost, (min(safe) if safe else None)


@lru_cache(maxsize=4)
def _independent_run(grid: tuple, n_chains: int, generations: int, seed: int) -> dict:
    return reference_minority_experiment(list(grid), n_chains, generations, seed)[0]


def _test_mitigation(fn) -> None:
    cfg = mix_settings()
    grid, n = tuple(cfg["real_fractions"]), cfg["n_chains"]
    out = fn(list(grid), n, cfg["generations"], cfg["seed"])
    if out is None:
        raise CheckFailed("your function returned None: `return lost, choice`.")
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CheckFailed("return two things, `lost, choice`: a dict λ -> fraction of chains that lost the "
                          "minority, and the λ you pick.")
    lost, choice = out
    if not isinstance(lost, dict):
        raise CheckFailed(f"`lost` should be a dict mapping each λ to a fraction (got {type(lost).__name__}).")
    try:
        mine = {float(k): float(v) for k, v in lost.items()}
    except (TypeError, ValueError):
        raise CheckFailed("`lost` should map numbers (λ) to numbers (fractions of chains).") from None
    if sorted(mine) != sorted(float(g) for g in grid):
        raise CheckFailed(f"`lost` should have one entry per λ of the grid {list(grid)}; it has {sorted(mine)}.")
    if any(not 0 <= v <= 1 for v in mine.values()):
        raise CheckFailed("a fraction of chains lies between 0 and 1.")
    # an independent run by the package (other seed, 3x the chains): the learner's numbers must agree
    n_ref = 3 * n
    ref = _independent_run(grid, n_ref, cfg["generations"], cfg["seed"] + 1000)
    if ref[0.0] > 0.2 and all(v < 0.02 for v in mine.values()):
        raise CheckFailed("no chain lost the minority for any λ, not even λ = 0: did you read the *last* "
                          "generation (column -1), or generation 0?")
    if np.mean([abs((1 - mine[g]) - ref[g]) for g in mine]) < np.mean([abs(mine[g] - ref[g]) for g in mine]) - 0.2:
        raise CheckFailed("your fractions look like the chains that *kept* the minority; count the chains whose "
                          "minority share fell below 1% (`minority_lost` does it).")
    for g in sorted(mine):
        p = ref[g]
        tol = 4 * np.sqrt(max(p * (1 - p), 0.02) * (1 / n + 1 / n_ref)) + 0.03
        if abs(mine[g] - p) > tol:
            raise CheckFailed(f"for λ = {g:g} you measured {mine[g]:.2f}, but an independent run of the same "
                              f"experiment gives {p:.2f} (± {tol:.2f}). Did you use the `real_fraction` strategy "
                              "with a fixed real set, M = 100 and the last generation?")
    # the conclusion: the smallest λ that meets the budget in the learner's own run
    safe = sorted(g for g, v in mine.items() if v <= MIX_BUDGET)
    if choice is None:
        if safe:
            raise CheckFailed(f"λ = {safe[0]:g} meets the budget in your own run: pick it.")
        return
    try:
        choice = float(choice)
    except (TypeError, ValueError):
        raise CheckFailed("`choice` should be one λ of the grid (a number).") from None
    if not any(np.isclose(choice, g) for g in grid):
        raise CheckFailed(f"`choice` should be one of the λ you ran: {list(grid)}.")
    if mine[min(mine, key=lambda g: abs(g - choice))] > MIX_BUDGET:
        raise CheckFailed(f"with λ = {choice:g} your own run lost the minority in "
                          f"{mine[min(mine, key=lambda g: abs(g - choice))]:.0%} of chains: over the 10% budget.")
    if safe and choice > safe[0] + 1e-12:
        raise CheckFailed(f"λ = {choice:g} meets the budget, but so does the smaller λ = {safe[0]:g} in your own "
                          "run, and real data is the expensive part: pick the smallest.")


mitigation = Exercise(
    "the smallest real fraction that keeps the minority",
    _test_mitigation,
    hint="run the same loop as the demo above, once for the whole grid: the strategies "
         "`real_fraction_grid(real_fractions)` can all go into one `run_generations` call.",
    more_hints=("for each strategy, `values(hist, 'minority share', strategy.label)` is an array (chains, "
                "generations + 1); `minority_lost(...)` turns it into the fraction of chains that lost the "
                "minority per generation: keep its last entry.",
                "then `choice` is the smallest λ whose lost fraction is at most `MIX_BUDGET` (0.10): filter the "
                "dict, take the minimum."),
    reference=reference_minority_experiment,
)


# ----------------------------------------------------------------------------- check your understanding
quiz = Quiz("Check your understanding · lesson 02", {
    "q1": Question(
        "A word has probability q = 1/100,000 in the current model. The next generation draws M = 10,000 "
        "words (replace). What is the probability that the word is still in the vocabulary afterwards? "
        "(a number between 0 and 1)",
        answer=float(1 - (1 - 1e-5) ** 10_000),
        tolerance=0.03,
        explanation="1 − (1 − q)^M = 1 − (1 − 10⁻⁵)^10,000 ≈ 1 − e^(−0.1) ≈ 0.095: when qM is small, survival "
                    "≈ qM. Nine times in ten the word is gone after a single generation.",
        hint="compute the chance that all M draws miss the word first."),
    "q2": Question(
        "Under `replace`, a word's count in a generation's sample is 0. What happens to it later?",
        options={"a": "it comes back with probability q in each later generation",
                 "b": "it never comes back: probability 0 is an absorbing state",
                 "c": "it comes back once M is large enough",
                 "d": "it comes back under `accumulate` but not under `replace`, within the same chain"},
        answer="b",
        explanation="the refitted model gives the word probability 0, so no later generation can sample it, "
                    "whatever M: the vocabulary can only shrink (the notebook asserts it for every chain).",
        why_not={"a": "q was its probability in the *old* model; the new model, fitted by counting, gives it 0.",
                 "c": "a larger M makes losing it less likely, but a model that assigns probability 0 never "
                      "samples it, for any M.",
                 "d": "within a `replace` chain nothing else enters the training set; `accumulate` keeps the "
                      "real data, so there the word was never lost in the first place."}),
    "q3": Question(
        "Run the word chain (replace, no real data) until one word is left. Which word is it?",
        options={"a": "always the most common word",
                 "b": "a random word; each word wins with probability equal to its real probability",
                 "c": "a random word, each word equally likely",
                 "d": "the rarest word that survived the first generation"},
        answer="b",
        explanation="a word's probability is a martingale (its expected value next generation equals its value "
                    "now), so the chance it ends alone equals its starting probability; section 4 checks this "
                    "for the ten most common words.",
        why_not={"a": "common words win more often, but not always: count the distinct winners printed in section 4.",
                 "c": "rare words almost never win: they usually die in the first generations.",
                 "d": "rare words are the first to go, not the last."}),
    "q4": Question(
        "Seddik et al.'s law E[S_m] = 1 − (1 − 1/n)^m (1 − S₀) for the collision probability. Which statement "
        "is exact?",
        options={"a": "every chain's S_m equals the formula",
                 "b": "the average of S_m over many chains equals the formula when each generation is the counting "
                      "(maximum-likelihood) fit to n fresh draws of the previous model, with no real data",
                 "c": "the formula holds exactly for any trained language model",
                 "d": "the formula holds whatever fraction of real data is kept"},
        answer="b",
        explanation="the one-step identity E[S_{m+1} | p] = S_m + (1 − S_m)/n holds for the counting fit; taking "
                    "expectations and iterating gives the law for the *mean*. A single chain is random and ends at "
                    "S = 1.",
        why_not={"a": "look at the spread of the chains in section 4: the law is about their mean.",
                 "c": "a trained network smooths its estimate instead of copying the counts; the law is an "
                      "idealisation for it.",
                 "d": "real data kept each generation changes the recursion (and slows the collapse)."}),
    "q5": Question(
        "A memorising learner is trained on T samples from a Zipf law whose tail was cut at rank k = 100. What "
        "happens to its test error as T grows from 10³ to 10⁶?",
        options={"a": "it keeps falling like T^−(1−1/β), towards 0",
                 "b": "it falls at first, then flattens at the tail mass beyond rank k",
                 "c": "it grows, because more synthetic data means more collapse",
                 "d": "it does not depend on T at all"},
        answer="b",
        explanation="items beyond rank k never appear in training, so their probability mass (≈ k^−(β−1) up to a "
                    "constant) is an error floor; Dohmatob et al. call this a change of the scaling law.",
        why_not={"a": "that is the curve without a cut; with a cut, the unseen tail stays unseen.",
                 "c": "here the data come from one fixed cut law, not a chain of generations; more data still helps "
                      "until the floor.",
                 "d": "for small T the learner has not yet seen the head either: the error falls first."}),
    "q6": Question(
        "In section 6, which change protects the 10% minority mode best against being lost?",
        options={"a": "a larger minority weight in the real data (the learner cannot change this)",
                 "b": "keeping real data in every generation's training set (accumulate, or a real fraction λ > 0)",
                 "c": "more EM iterations per fit",
                 "d": "more generations"},
        answer="b",
        explanation="real data in every training set pulls the minority weight back towards 10% each generation, "
                    "so it no longer random-walks into the absorbing 0. Alemohammad et al. add a caveat: a *fixed* "
                    "real set delays the decline, and they conclude that enough *fresh* real data is needed.",
        why_not={"a": "true, but it is not a change a model trainer can make to the data they have.",
                 "c": "the fit is not the problem: the minority is lost because each generation's sample is finite.",
                 "d": "more generations give the random walk more chances to hit 0."}),
})
