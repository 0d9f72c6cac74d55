"""Checkers for lesson 07 (defences: watermarks, detectors, verifiers, coordination).

Usage in the notebook::

    from collapse_kit.exercises import lesson07 as check
    check.z_test(z_test)
    check.threshold(choose_threshold)
    check.min_share(min_watermark_share)
    check.quiz(quiz_answers)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


# ----------------------------------------------------------------------------- exercise 1: the z-test
def reference_z_test(green_count, n_tokens, gamma):
    """How many standard deviations the green count lies above its mean without a watermark."""
    g, t = np.asarray(green_count, float), np.asarray(n_tokens, float)
    return (g - gamma * t) / np.sqrt(t * gamma * (1 - gamma))


def _test_z_test(fn) -> None:
    got = fn(40, 100, 0.25)
    if got is None:
        raise CheckFailed("your function returned None: `return` the z-score.")
    got, right = float(got), float(reference_z_test(40, 100, 0.25))
    if np.isclose(got, 40 / 100 - 0.25):
        raise CheckFailed("that is how far the green *share* is from γ; the test measures it in standard "
                          "deviations of the count (or of the share).")
    if np.isclose(got, 15 / (100 * 0.25 * 0.75)):
        raise CheckFailed("you divided by the variance; divide by the standard deviation (its square root).")
    if np.isclose(got, 15 / np.sqrt(0.25 * 0.75)):
        raise CheckFailed("the spread of a count of T tokens grows with T: a Binomial(T, γ) count has variance "
                          "Tγ(1−γ).")
    if np.isclose(got, 15 / np.sqrt(100 * 0.25)):
        raise CheckFailed("close: a Binomial(T, γ) count has variance Tγ(1−γ), not Tγ.")
    expect_close(got, right, rtol=1e-9, what="z for 40 green out of 100, γ = 0.25")
    expect_close(fn(16, 64, 0.25), 0.0, atol=1e-9, what="z for 16 green out of 64, γ = 0.25 (exactly as expected)")
    arr = fn(np.array([10, 30]), np.array([40, 40]), 0.5)
    expect_close(arr, reference_z_test(np.array([10, 30]), np.array([40, 40]), 0.5), rtol=1e-9,
                 what="z for arrays of counts")


z_test = Exercise(
    "the watermark's z-test",
    _test_z_test,
    hint="without a watermark each scored token is green with probability γ, independently: what are the "
         "mean and the standard deviation of the number of green tokens among T?",
    reference=reference_z_test,
)


# ----------------------------------------------------------------------------- exercise 2: a threshold under a budget
def reference_choose_threshold(scores_real, budget):
    """The lowest threshold whose false-positive rate on the real scores is at most ``budget``."""
    from ..defences import threshold_for_fpr

    return threshold_for_fpr(np.asarray(scores_real, float), budget)


def _test_threshold(fn) -> None:
    rng = np.random.default_rng(11)
    real = rng.normal(size=2000)
    for budget in (0.01, 0.1):
        t = fn(real.copy(), budget)
        if t is None:
            raise CheckFailed("your function returned None: `return` a threshold (a number).")
        fpr = float((real >= float(t)).mean())
        if fpr > 0.9:
            raise CheckFailed(f"with your threshold {float(t):.3g}, {fpr:.0%} of real texts are flagged: you took "
                              "the low quantile. Texts are flagged when their score is at or *above* it.")
        if fpr > budget:
            raise CheckFailed(f"with budget {budget}, your threshold flags {fpr:.2%} of real texts, over the "
                              "budget: look at how ties and the quantile's interpolation put it just too low.")
        best = reference_choose_threshold(real, budget)
        if float(t) > best + 1e-9 and (real >= float(t)).mean() < (real >= best).mean():
            raise CheckFailed(f"within budget {budget}, but your threshold flags only {fpr:.2%} of real texts: a "
                              "lower threshold would still respect the budget and catch more synthetic text.")


threshold = Exercise(
    "a threshold under a false-positive budget",
    _test_threshold,
    hint="the false-positive rate of a threshold t is the share of real scores >= t; you want the smallest t "
         "that keeps it within the budget (sort the real scores).",
    reference=reference_choose_threshold,
)


# ----------------------------------------------------------------------------- exercise 3: how much coordination?
def reference_min_share(human_share, tpr, fpr, target):
    """The smallest share p of watermarking providers for which at most ``target`` of the kept
    (unflagged) web is synthetic, or ``None`` if even p = 1 does not get there."""
    h = human_share
    # kept synthetic / kept total <= target  <=>  (1-h)(1-q) <= target/(1-target) * h(1-fpr),  q = p tpr + (1-p) fpr
    need_q = 1 - target / (1 - target) * h * (1 - fpr) / (1 - h)
    if tpr <= fpr:
        return 0.0 if fpr >= need_q else None
    p = (need_q - fpr) / (tpr - fpr)
    if p > 1 + 1e-12:
        return None
    return float(min(1.0, max(0.0, p)))


def _test_min_share(fn) -> None:
    cases = [(0.2, 0.95, 0.0, 0.25), (0.2, 0.95, 0.01, 0.5), (0.5, 0.9, 0.0, 0.2), (0.2, 0.6, 0.0, 0.1),
             (0.9, 0.9, 0.0, 0.5)]
    for h, tpr, fpr, target in cases:
        got = fn(h, tpr, fpr, target)
        want = reference_min_share(h, tpr, fpr, target)
        if want is None:
            if got is not None:
                raise CheckFailed(f"human share {h}, TPR {tpr}, target {target}: even p = 1 leaks too much "
                                  f"(1 − TPR of the synthetic texts get through), so return None; you returned {got}.")
            continue
        if got is None:
            raise CheckFailed(f"human share {h}, TPR {tpr}, FPR {fpr}, target {target}: some share p <= 1 is "
                              f"enough; you returned None.")
        if want == 0 and float(got) > 1e-9:
            raise CheckFailed(f"human share {h}, target {target}: the web is already clean enough without any "
                              f"watermark; the answer is 0 (clip at 0).")
        if abs(float(got) - (1 - target) * 1) < 1e-9 and abs(want - (1 - target)) > 1e-6:
            raise CheckFailed("the share of *kept* data that is synthetic depends on the human data kept too: "
                              "write the kept synthetic and the kept human amounts, then their ratio.")
        expect_close(got, want, rtol=1e-6, atol=1e-9,
                     what=f"min_watermark_share(human_share={h}, tpr={tpr}, fpr={fpr}, target={target})")


min_share = Exercise(
    "how many providers must watermark?",
    _test_min_share,
    hint="a synthetic text is flagged with probability q = p·TPR + (1 − p)·FPR, a human one with FPR. Write the "
         "synthetic share of what is kept as a function of p and solve for the p that reaches the target.",
    reference=reference_min_share,
)


# ----------------------------------------------------------------------------- check your understanding
QUIZ = {
    1: ("b", "Without a watermark the green count is Binomial(T, γ): the threshold fixes the false-positive "
             "rate whatever the text; the watermark only changes the *detection* rate."),
    2: ("c", "Longer texts: the expected excess of green tokens grows like T, its noise like √T, so z grows "
             "like √T."),
    3: ("a", "Only watermarked providers can be caught; the others leak at the full rate. A filter can remove "
             "synthetic data but never create human data."),
    4: ("b", "A likelihood detector is tuned to one model; when the model generating the text changes (later "
             "generations, other providers), its scores shift and the ROC curve it was calibrated on no longer "
             "holds."),
    5: ("c", "A verifier pulls the model towards its own knowledge centre θ_c: near-term gains, then the fit "
             "settles at θ_c's error, not at the truth (Yi et al., ICLR 2026)."),
}

QUESTIONS = """\
1. At threshold z = 4, the false-positive rate on human text depends on ...
   (a) δ, the watermark strength  (b) only the threshold (and the text length, through the binomial)  (c) the model
2. Doubling the length of a watermarked text multiplies its expected z-score by about ...
   (a) 1  (b) 2  (c) √2
3. Half the providers watermark, the detector is perfect. What reaches the training set?
   (a) all synthetic text of the other half  (b) nothing synthetic  (c) half of the watermarked text
4. Why can a detector built on the likelihood under a reference model lose its guarantee over generations?
   (a) the real data change  (b) the text it must catch comes from models it was not calibrated on
   (c) perplexity cannot be computed for later models
5. A verifier with a biased knowledge centre θ_c filters each generation. In the long run the model ...
   (a) converges to the truth  (b) collapses as without a filter  (c) converges to θ_c
"""


def _test_quiz(fn) -> None:
    answers = fn()
    if not isinstance(answers, dict):
        raise CheckFailed("return a dict {question number: 'a', 'b' or 'c'}.")
    missing = [q for q in QUIZ if q not in answers]
    if missing:
        raise CheckFailed(f"answer every question: missing {missing}.")
    wrong = [q for q, (right, _) in QUIZ.items() if str(answers[q]).strip().lower() != right]
    if wrong:
        first = wrong[0]
        raise CheckFailed(f"{len(wrong)} answer(s) to revisit, e.g. question {first}. Re-read the section it is "
                          "about, then try again (run `check.explain()` once you are done to read every "
                          "explanation).")


quiz = Exercise("check your understanding", _test_quiz,
                hint="each question matches a section of this lesson, in order.",
                reference=lambda: {q: a for q, (a, _) in QUIZ.items()})


def explain() -> None:
    """Print every quiz answer with its explanation."""
    for q, (a, why) in QUIZ.items():
        print(f"{q}. ({a}) {why}")
