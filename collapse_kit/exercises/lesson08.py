"""Checkers for lesson 08 (the web as a commons).

Hints are graded: the first wrong answer gets a nudge, later ones a more specific pointer; no hint
states the answer. The quiz questions explain the reasoning once answered right.

Usage in the notebook::

    from collapse_kit.exercises import lesson08 as check
    check.synthetic_share(synthetic_share)
    check.design_webs(design_webs)
    check.strong_floor(strong_floor)
    check.quiz["q1"]("b")
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import CheckFailed, CheckResult, Exercise, expect_close
from ..strategies import WebCrawl


@dataclass
class GradedExercise(Exercise):
    """An :class:`~collapse_kit.checks.Exercise` whose hint grows more specific with each wrong attempt."""

    hints: tuple = ()

    def check(self, candidate) -> CheckResult:
        wrong = sum(s in ("wrong", "error") for s in self.attempts)
        if self.hints:
            self.hint = self.hints[min(wrong, len(self.hints) - 1)]
        return super().check(candidate)


# ----------------------------------------------------------------------------- exercise 1
def reference_synthetic_share(year, human_start, human_per_year, posted):
    """Synthetic share of a web that keeps everything, in ``year``: model ``j`` posted ``posted[j]`` items,
    which are on the web from year ``j + 1``."""
    human = human_start + year * human_per_year
    synthetic = sum(posted[:year])
    return synthetic / (human + synthetic)


def _test_synthetic_share(fn) -> None:
    cases = [(0, 100, 10, [50, 50, 50]), (1, 100, 10, [50, 50, 50]), (3, 100, 10, [0, 20, 200]),
             (4, 30, 0, [10, 10, 10, 10, 10]), (2, 10, 5, [100, 0, 0])]
    got = []
    for year, h0, h, posted in cases:
        val = fn(year, h0, h, list(posted))
        if val is None:
            raise CheckFailed("your function returned None: `return` the share (a number between 0 and 1).")
        got.append(float(val))
    mistakes = [  # (a plausible wrong formula, what to say)
        (lambda y, h0, h, p: sum(p[:y + 1]) / (h0 + y * h + sum(p[:y + 1])),
         "your web already holds this year's model output: a model posts *after* it was trained, so its output "
         "is on the web from the next year."),
        (lambda y, h0, h, p: sum(p[:y]) / (h0 + sum(p[:y])), "your human count does not grow: people keep writing "
                                                              "every year."),
        (lambda y, h0, h, p: sum(p[:y]) / (h0 + y * h), "a share is synthetic / (human + synthetic), "
                                                       "not synthetic / human."),
    ]
    for wrong, say in mistakes:
        if np.allclose(got, [wrong(*c) for c in cases]):
            raise CheckFailed(say)
    for value, (year, h0, h, posted) in zip(got, cases):
        want = WebCrawl(human_start=h0, human_per_year=h, adoption=tuple(p / 1000 for p in posted)).synthetic_share(
            year, 1000)
        expect_close(value, want, rtol=1e-9, what=f"synthetic_share(year={year}, human_start={h0}, "
                                                   f"human_per_year={h}, posted={posted})")


synthetic_share = GradedExercise(
    "synthetic share of the web",
    _test_synthetic_share,
    reference=reference_synthetic_share,
    hints=("count the two kinds of items on the web in that year, then take a share.",
           "human items: the pre-AI web plus what people added in years 1..year. Synthetic items: what the models "
           "of the *earlier* years posted.",
           "which entries of `posted` belong to models trained before `year`? A slice of the list gives them."),
)


# ----------------------------------------------------------------------------- exercise 2
def reference_design_webs():
    """Two webs that differ in one knob, how long content stays: one forgets after a year, one keeps all."""
    base = dict(human_start=50, human_per_year=50, adoption=(0.2, 0.5, 0.8, 1.0), crawl_size=50)
    return WebCrawl(memory=1, **base), WebCrawl(memory=None, **base)


def _fields(web):
    return {k: getattr(web, k) for k in ("human_start", "human_per_year", "adoption", "crawl_size", "memory",
                                         "cutoff", "tag_accuracy")}


def advantage_gap(forgetting, keeping, *, n_chains: int = 300, generations: int = 8, seed: int = 0):
    """First-mover advantages (mean, se) in the two webs, from :func:`collapse_kit.web.run_web`."""
    from ..web import first_mover_advantage, run_web

    out = []
    for web in (forgetting, keeping):
        h = run_web(web, generations=generations, sample_size=400, n_chains=n_chains, seeds=seed, cutoff=None)
        out.append(first_mover_advantage(h))
    return out


def _test_design_webs(fn) -> None:
    pair = fn()
    if pair is None:
        raise CheckFailed("your function returned None: `return forgetting_web, keeping_web`.")
    if len(pair) != 2 or not all(isinstance(w, WebCrawl) for w in pair):
        raise CheckFailed("return two WebCrawl objects: (the web where the first mover should gain most, the other).")
    a, b = (_fields(w) for w in pair)
    changed = [k for k in a if a[k] != b[k]]
    if not changed:
        raise CheckFailed("your two webs are identical: change one knob so that the regimes differ.")
    if len(changed) > 1:
        raise CheckFailed(f"your webs differ in {len(changed)} knobs ({', '.join(changed)}): change exactly one, or "
                          "you cannot tell which one made the difference.")
    if any(w.cutoff is not None or w.tag_accuracy is not None for w in pair):
        raise CheckFailed("these are the webs everyone crawls: leave `cutoff` and `tag_accuracy` unset "
                          "(the lesson adds the first mover and the filtered entrant itself).")
    if pair[0].human_start + 8 * pair[0].human_per_year > 2000 or (pair[0].crawl_size or 10**9) > 2000:
        raise CheckFailed("keep the webs small (at most 2,000 human items and a crawl of at most 2,000) so the "
                          "check runs in seconds.")
    (adv1, se1), (adv2, se2) = advantage_gap(*pair)
    if not adv1 > 3 * se1:
        raise CheckFailed(f"in your first web the first mover gains {adv1:.4f} ± {se1:.4f} (W2²): not clearly "
                          "positive. The late entrant must be hurt by what it crawls.")
    if not adv1 - adv2 > 3 * np.hypot(se1, se2):
        raise CheckFailed(f"the first mover gains {adv1:.4f} ± {se1:.4f} in your first web and "
                          f"{adv2:.4f} ± {se2:.4f} in the second: not clearly more. Which knob makes the clean "
                          "human data of earlier years available to everyone?")


design_webs = GradedExercise(
    "design two web regimes",
    _test_design_webs,
    reference=reference_design_webs,
    hints=("think about what the late entrant can still find on the web that the first mover already has.",
           "one WebCrawl parameter decides whether last years' human data are still on the web for everyone.",
           "look at the `memory` parameter in `help(WebCrawl)`; keep every other argument equal."),
)


# ----------------------------------------------------------------------------- exercise 3
def reference_strong_floor(synthetic_fraction, shift):
    """The limit of the excess test error as n → ∞: least squares converges to (1-p)w* + p w_s, at squared
    distance p²Δ² from w*."""
    return synthetic_fraction**2 * shift**2


def _test_strong_floor(fn) -> None:
    for p, delta in [(0.1, 2.0), (0.5, 1.0), (0.0, 3.0), (1.0, 0.5), (0.25, 4.0)]:
        got = fn(p, delta)
        if got is None:
            raise CheckFailed("your function returned None: `return` the floor (a number).")
        if p == 0.1 and np.isclose(float(got), p * delta**2):
            raise CheckFailed("the fitted regressor moves a fraction p of the way towards w_s: the *distance* is "
                              "p·Δ, and the error is a squared distance.")
        if p == 0.1 and np.isclose(float(got), (p * delta) ** 0.5) or p == 0.1 and np.isclose(float(got), p * delta):
            raise CheckFailed("test error here is a *squared* distance ||ŵ - w*||².")
        if p == 0.1 and np.isclose(float(got), p * (1 - p) * delta**2):
            raise CheckFailed("p(1-p)Δ² is how much the mix of labels adds to the noise; it shrinks with n. "
                              "What is left when n is huge?")
        expect_close(got, reference_strong_floor(p, delta), rtol=1e-9,
                     what=f"strong_floor(synthetic_fraction={p}, shift={delta})")


strong_floor = GradedExercise(
    "the strong-collapse floor",
    _test_strong_floor,
    reference=reference_strong_floor,
    hints=("with unlimited data, least squares finds the regressor that best explains the *mixed* labels.",
           "the best fit to a mix of (1-p) labels from w* and p labels from w_s is a weighted average of w* and w_s.",
           "how far is that average from w*, and what is the squared length of that difference?"),
)


# ----------------------------------------------------------------------------- quiz
@dataclass
class QuizQuestion(Exercise):
    """A checked multiple-choice question: answer with a letter; the explanation follows a right answer."""

    explanation: str = ""

    def evaluate(self, candidate) -> CheckResult:
        result = super().evaluate(candidate)
        if result:
            result.message += f" {self.explanation}"
        return result


def _question(name, right, wrong_notes, explanation, hint):
    def test(letter):
        if not isinstance(letter, str) or letter.strip().lower() not in "abcd" or len(letter.strip()) != 1:
            raise CheckFailed("answer with one letter: 'a', 'b', 'c' or 'd'.")
        letter = letter.strip().lower()
        if letter != right:
            raise CheckFailed(wrong_notes.get(letter, "not this one."))

    return QuizQuestion(name, test, hint=hint, explanation=explanation)


quiz = {
    "q1": _question(
        "Q1 · fixed vs fresh", "c",
        {"a": "in our runs the fixed real set kept the error bounded only while its share stayed large.",
         "b": "sampling bias made things worse in every loop, not better.",
         "d": "the fully synthetic loop degraded fastest; having real data mattered, *which* real data too."},
        "MAD's conclusion: a fixed real set delays degradation; only enough *fresh* real data each generation "
        "prevents it (with a sampling bias the fixed set's share shrinks and the bias wins, slowly).",
        "compare the two loops that both keep real data."),
    "q2": _question(
        "Q2 · when is the first-mover advantage small?", "b",
        {"a": "a fast-growing adoption makes the web *more* synthetic: the late entrant is worse off.",
         "c": "a bigger crawl of a contaminated web is a bigger sample of the same mix.",
         "d": "tags help the late entrant, but the question is about the web itself."},
        "when the web keeps every year's human data, everyone can still crawl them: the pool accumulates, "
        "Gerstgrasser et al.'s bound applies, and the models of the day post good samples.",
        "what can a late entrant still find that the first mover already has?"),
    "q3": _question(
        "Q3 · strong collapse", "d",
        {"a": "the variance term does shrink like 1/n; the floor does not.",
         "b": "the floor is p²Δ²: it grows with the synthetic fraction, it does not vanish with n.",
         "c": "p = 0 gives the classical error dσ²/(n-d-1), which does go to 0."},
        "a constant synthetic fraction p puts a floor p²Δ² under the test error: more data of the same mix "
        "cannot remove it (Dohmatob et al. 2025 show this in general).",
        "what does the error tend to when n grows but the mix stays the same?"),
    "q4": _question(
        "Q4 · which collapse?", "a",
        {"b": "lesson 01's Gaussian is where the fitted variance goes to 0 (almost surely).",
         "c": "strong collapse is about the scaling law, not about generations.",
         "d": "the papers do not agree on one definition; that is the point of §5."},
        "lost tails: a rare state, once unsampled, is gone for good (an absorbing state), so tails vanish first "
        "even when the bulk looks fine.",
        "which definition is about rare events?"),
    "q5": _question(
        "Q5 · the neural check before the loops", "b",
        {"a": "a smaller KL at generation 0 does not make a loop collapse more slowly by itself; it says the "
              "model learned the data.",
         "c": "the flow's KL was far *below* the best Gaussian's: it learned both modes.",
         "d": "the loops run either way; the check is about what their results can mean."},
        "a model that never learned the two modes cannot lose them: comparing generation 0 with the best single "
        "Gaussian shows the flow learned the real data, so what the loops do afterwards comes from the recursion.",
        "what would a model that only learned one bump tell you about collapse?"),
}
