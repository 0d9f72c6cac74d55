"""Checkers for lesson 04 (mixing real data).

Usage in the notebook::

    from collapse_kit.exercises import lesson04 as check
    check.accumulate_subsample(accumulate_subsample)
    check.error_budget(error_budget_experiment)   # the thinking exercise
    check.error_budget.more_hint()                 # graded hints, one level per call
    check.quiz.show(); check.quiz.check({"q1": ..., ...})
"""
from __future__ import annotations

import numpy as np

from functools import lru_cache

from ..checks import CheckFailed, Exercise, Question, Quiz
from ..strategies import REAL_FRACTION, WORKFLOWS


# ----------------------------------------------------------------------------- exercise 1
def reference_accumulate_subsample(real, synthetic, sample_size, rng):
    """The training set of one ``accumulate_subsample`` generation (Kazdan et al. 2024).

    Pool the real data with every synthetic batch so far and draw ``sample_size``
    items from the pool *without replacement* (all of it if the pool is smaller).
    """
    pool = np.concatenate([np.asarray(real, dtype=float)] + [np.asarray(s, dtype=float) for s in synthetic])
    idx = rng.choice(len(pool), size=min(sample_size, len(pool)), replace=False)
    return pool[idx]


def _test_accumulate_subsample(fn) -> None:
    real = np.arange(10, dtype=float)                       # items 0..9 are real
    synthetic = [100 + np.arange(10.0), 200 + np.arange(10.0), 300 + np.arange(10.0)]
    out = fn(real.copy(), [s.copy() for s in synthetic], 10, np.random.default_rng(0))
    if out is None:
        raise CheckFailed("your function returned None: `return` the training set.")
    out = np.asarray(out, dtype=float)
    if out.ndim != 1 or len(out) != 10:
        if out.size == 40:
            raise CheckFailed("you returned the whole pool: that is `accumulate`. Draw `sample_size` "
                              "items from it.")
        raise CheckFailed(f"return `sample_size` = 10 items as a 1-D array (got shape {out.shape}).")
    pool = np.concatenate([real, *synthetic])
    if not np.all(np.isin(out, pool)):
        raise CheckFailed("some items are not in the pool: draw from the real data and the synthetic batches.")
    again = np.asarray(fn(real.copy(), [s.copy() for s in synthetic], 10, np.random.default_rng(0)), dtype=float)
    if not np.array_equal(out, again):
        raise CheckFailed("two calls with the same seed differ: draw with the `rng` argument "
                          "(e.g. `rng.choice(...)`), not `np.random`.")
    rng = np.random.default_rng(1)
    draws = np.array([np.asarray(fn(real, synthetic, 10, rng), dtype=float) for _ in range(600)])
    if any(len(np.unique(d)) < len(d) for d in draws):
        raise CheckFailed("an item was drawn twice in one training set: draw *without replacement* "
                          "(`replace=False`).")
    source = np.floor(draws / 100)  # 0 = real, 1..3 = synthetic batch
    shares = np.array([(source == k).mean() for k in range(4)])
    if shares[0] < 0.05:
        raise CheckFailed("no real items ever appear: the pool must include the real data, not only the "
                          "synthetic batches.")
    if shares[3] > 0.9:
        raise CheckFailed("almost everything comes from the newest batch: that is `replace`. Draw from "
                          "the whole pool (real + every synthetic batch).")
    if np.any(np.abs(shares - 0.25) > 0.05):
        raise CheckFailed(f"the pool is not drawn evenly (shares of real and each batch: "
                          f"{np.round(shares, 2).tolist()}, expected 0.25 each): every pooled item "
                          "should be equally likely.")
    small = np.asarray(fn(real[:3], [synthetic[0][:2]], 10, np.random.default_rng(2)), dtype=float)
    if len(small) != 5:
        raise CheckFailed("when the pool holds fewer items than `sample_size`, return the whole pool "
                          f"(5 items here, got {len(small)}).")


accumulate_subsample = Exercise(
    "accumulate-subsample training set",
    _test_accumulate_subsample,
    hint="build one array that holds the real items and every synthetic batch, then draw `sample_size` "
         "distinct items from it with `rng`.",
    more_hints=(
        "NumPy joins a list of 1-D arrays into one array with a single call; `[real, *synthetic]` is such a list.",
        "`rng.choice(n, size=k, replace=False)` gives k distinct positions in range(n); k may not exceed n, "
        "so cap it at the pool's length, then index the pool with those positions.",
    ),
    reference=reference_accumulate_subsample,
)


# ----------------------------------------------------------------------------- exercise 2 (thinking)
#: the regression problem of the lesson's section 4: T rows, d features, noise σ
T, D, SIGMA = 50, 10, 1.0
#: the error budget: excess test error at the last generation, in units of one fit on real data
ERROR_BUDGET = 3.0
#: the real fractions the data team may choose from
GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def reference_error_budget_experiment(real_fractions=GRID, n_chains=1000, generations=10, seed=0):
    """Run the real-fraction strategy λ (fixed real set) for every λ on the regression problem
    (T = 50 rows per training set, d = 10, σ = 1) and return ``(errors, choice)``:

    ``errors[λ]`` is the mean excess test error at the last generation divided by one real fit's
    error σ²d/(T−d−1); ``choice`` is the smallest λ whose error is within :data:`ERROR_BUDGET`
    (``None`` if none is).
    """
    from ..history import final
    from ..regression import compare_regression, ols_error_unit
    from ..strategies import real_fraction_grid

    strategies = real_fraction_grid([float(lam) for lam in real_fractions])
    hist = compare_regression(strategies, n_chains=n_chains, generations=generations, n_samples=T,
                              n_features=D, noise=SIGMA, seed=seed)
    last = final(hist, "test error").set_index("strategy")["mean"]
    unit = ols_error_unit(D, T, SIGMA)
    errors = {float(lam): float(last[s.label]) / unit for lam, s in zip(real_fractions, strategies)}
    within = [lam for lam in errors if errors[lam] <= ERROR_BUDGET]
    return errors, (min(within) if within else None)


@lru_cache(maxsize=4)
def _package_run(real_fractions, generations, n_chains=2000, seed=20240):
    """The checker's own, independent run: means and standard errors in one-fit units."""
    from ..history import final
    from ..regression import compare_regression, ols_error_unit
    from ..strategies import real_fraction_grid

    strategies = real_fraction_grid([float(lam) for lam in real_fractions])
    hist = compare_regression(strategies, n_chains=n_chains, generations=generations, n_samples=T,
                              n_features=D, noise=SIGMA, seed=seed)
    last = final(hist, "test error").set_index("strategy")
    unit = ols_error_unit(D, T, SIGMA)
    return {float(lam): (float(last.loc[s.label, "mean"]) / unit, float(last.loc[s.label, "sem"]) / unit)
            for lam, s in zip(real_fractions, strategies)}


_CHECK_CHAINS, _CHECK_GENERATIONS, _CHECK_SEED = 400, 10, 7


def _test_error_budget(fn) -> None:
    out = fn(GRID, n_chains=_CHECK_CHAINS, generations=_CHECK_GENERATIONS, seed=_CHECK_SEED)
    if out is None:
        raise CheckFailed("your function returned None: `return errors, choice`.")
    if not isinstance(out, tuple) or len(out) != 2 or not isinstance(out[0], dict):
        raise CheckFailed("return two things: `errors` (a dict λ → error at the last generation, in one-fit "
                          "units) and `choice` (the smallest λ within the budget).")
    errors, choice = out
    try:
        errors = {round(float(k), 6): float(v) for k, v in errors.items()}
    except (TypeError, ValueError):
        raise CheckFailed("`errors` should map each λ (a number) to a number.") from None
    missing = [lam for lam in GRID if round(lam, 6) not in errors]
    if missing:
        raise CheckFailed(f"`errors` has no entry for λ = {missing}: run every real fraction you are given.")
    ref = _package_run(tuple(GRID), _CHECK_GENERATIONS)
    scale = np.sqrt(2000 / _CHECK_CHAINS)  # the learner's run has fewer chains: a larger standard error
    unit_ratio = SIGMA**2 * D / (T - D - 1)
    z = {lam: (errors[round(lam, 6)] - m) / (se * np.hypot(1.0, scale)) for lam, (m, se) in ref.items()}
    if all(abs(errors[round(lam, 6)] - 1.0) < 0.5 for lam in GRID):
        raise CheckFailed("every error is about one fit's worth: that is generation 0 (fitted on real data). "
                          "Read the error at the *last* generation.")
    if all(abs(errors[round(lam, 6)] / unit_ratio - m) < 5 * se * np.hypot(1.0, scale) for lam, (m, se) in ref.items()):
        raise CheckFailed("your errors are in raw units: divide by one real fit's error σ²d/(T−d−1) "
                          "(`R.ols_error_unit(d, T, σ)`) so the budget of "
                          f"{ERROR_BUDGET:g} one-fit errors applies.")
    bad = {lam: v for lam, v in z.items() if abs(v) > 5}
    if bad:
        lam = max(bad, key=lambda k: abs(bad[k]))
        m, _ = ref[lam]
        raise CheckFailed(f"at λ = {lam:g} your error is {errors[round(lam, 6)]:.2f} one-fit errors, but an "
                          f"independent run of the package gives about {m:.2f} (beyond Monte-Carlo error). Use "
                          "`Strategy(\"real_fraction\", λ)` with the *fixed* real set, the `n_chains`, `generations` "
                          "and `seed` you are given, the *mean* over chains at the last generation.")
    within = [lam for lam in GRID if errors[round(lam, 6)] <= ERROR_BUDGET]
    want = min(within) if within else None
    if choice is None or want is None:
        if choice is not want:
            raise CheckFailed(f"your own numbers say the smallest λ within the budget is {want}, "
                              f"not {choice}.")
        return
    try:
        c = round(float(choice), 6)
    except (TypeError, ValueError):
        raise CheckFailed("`choice` should be one of the real fractions (a number).") from None
    if c not in errors:
        raise CheckFailed(f"`choice` = {choice} is not one of the real fractions you ran {list(GRID)}.")
    if errors[c] > ERROR_BUDGET:
        raise CheckFailed(f"at λ = {c:g} your own table shows {errors[c]:.2f} one-fit errors: over the budget of "
                          f"{ERROR_BUDGET:g}.")
    if c != round(want, 6):
        raise CheckFailed(f"λ = {c:g} meets the budget, but a smaller real fraction does too in your own "
                          "table: real data are expensive, pick the smallest that works.")


error_budget = Exercise(
    "smallest real fraction within the error budget",
    _test_error_budget,
    hint="run every λ of the grid through one `R.compare_regression(...)` call, read each strategy's mean test "
         "error at the last generation, and compare it with the budget in one-fit units.",
    more_hints=(
        "the strategies are `Strategy(\"real_fraction\", lam)` (fixed real set); pass `n_chains`, `generations` and "
        "`seed` through, with `n_samples=T, n_features=D, noise=SIGMA`.",
        "`final(history, \"test error\")` gives one row per strategy (its `mean` column); the strategy's `label` "
        "names its row; divide by `R.ols_error_unit(D, T, SIGMA)`.",
        "`choice` is the smallest λ whose entry in `errors` is at most `check.ERROR_BUDGET`.",
    ),
    reference=reference_error_budget_experiment,
)


# ----------------------------------------------------------------------------- check your understanding
quiz = Quiz("Check your understanding · lesson 04", {
    "q1": Question(
        "Least squares under `accumulate`: after 3 generations the excess test error is 1.49 times one real fit's "
        "error. What is the largest value (in the same units) it can ever reach, however many generations run?",
        answer=float(np.pi**2 / 6),
        tolerance=0.01,
        explanation="π²/6 ≈ 1.645: generation i adds an error diluted by the i copies of the data, 1/i² of one "
                    "fit's, and Σ 1/i² converges to π²/6 (Gerstgrasser et al. 2024, §3).",
        hint="add up what each generation contributes under accumulate, for ever.",
    ),
    "q2": Question(
        "A team can afford to train each generation on at most M items (a fixed compute budget). Which strategy "
        "does that rule out?",
        options={"a": WORKFLOWS[0].name, "b": WORKFLOWS[1].name, "c": WORKFLOWS[2].name, "d": f"{REAL_FRACTION} λ = 0.3"},
        answer="b",
        explanation="`accumulate` trains on all real data plus every synthetic batch: its training set grows by M "
                    "items per generation. `accumulate_subsample` (Kazdan et al. 2024) is the fixed-size version.",
        why_not={"c": "accumulate_subsample draws M items from the growing pool: its training set stays at M.",
                 "d": "a real fraction mixes round(λM) real items with synthetic ones: M items in all.",
                 "a": "replace trains on exactly the M samples of the previous generation."},
    ),
    "q3": Question(
        "With M = 5 and λ = 0.1 the phase diagram's cell looks just like λ = 0. Why?",
        options={"a": "λ = 0.1 is too small to matter for any M",
                 "b": "a Gaussian cannot be fitted from 5 points",
                 "c": "round(λM) = round(0.5) = 0: no real item enters any training set"},
        answer="c",
        explanation="what counts is the number of real items per generation, round(λM): at M = 5 it is 0, so the "
                    "run is replace. At M = 200 the same λ brings 20 real items and keeps most of the spread.",
        why_not={"a": "look at the λ = 0.1 column for M = 200 in the phase diagram.",
                 "b": "M = 5 fits a Gaussian fine (generation 0 does); the question is what later generations see."},
    ),
    "q4": Question(
        "Alemohammad et al. (2024) compare a *fixed* set of real data kept in every generation with *fresh* real "
        "data each generation. What do they conclude for their image generators?",
        options={"a": "both prevent the degradation equally",
                 "b": "a fixed real set only delays the degradation; enough fresh real data each generation prevents it",
                 "c": "neither helps: only stopping the loop does"},
        answer="b",
        explanation="in the MAD paper's fixed-real-data loop, quality or diversity still degrade, only later; the "
                    "fresh-data loop stays healthy when there is enough fresh real data per generation. Our Gaussian "
                    "toy, where a fixed real fraction also settles, is a case where the difference is small.",
        why_not={"a": "that is what our 1-D Gaussian suggests; section 8 says why it does not carry over.",
                 "c": "their fresh-data loop does not degrade given enough fresh data."},
    ),
    "q5": Question(
        "In this lesson's Gaussian a temperature τ = 0.8 draws samples with standard deviation 0.8σ. What does a "
        "temperature of 0.8 do in a language model (lessons 05–06)?",
        options={"a": "divides the logits by 0.8 before the softmax, sharpening the next-token distribution",
                 "b": "multiplies the standard deviation of the next-token distribution by 0.8",
                 "c": "keeps the 80% most likely tokens"},
        answer="a",
        explanation="two knobs share the name: the Gaussian temperature scales the spread, the LM temperature "
                    "divides the logits. Both trade diversity for typical samples (Alemohammad et al.'s sampling bias).",
        why_not={"b": "that is the Gaussian knob of this lesson; a next-token distribution has no standard deviation "
                      "to scale.",
                 "c": "that is top-p (nucleus) sampling, a different knob."},
    ),
})
