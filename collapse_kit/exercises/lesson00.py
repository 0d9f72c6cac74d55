"""Checker for lesson 00's warm-up exercise (how exercises and checks work) and its short quiz."""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, Question, Quiz, expect_close


def reference_fit_gaussian(data):
    """Return the MLE (mean, variance) of a 1-D sample."""
    data = np.asarray(data, dtype=float)
    return float(data.mean()), float(data.var())


def _test_fit_gaussian(fn) -> None:
    data = np.array([1.0, 2.0, 3.0, 6.0])
    got = fn(data)
    if got is None:
        raise CheckFailed("your function returned None: `return mean, variance`.")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed("return two numbers, the mean and the variance: `return mean, variance`.")
    mean, var = got
    expect_close(mean, 3.0, what="the mean")
    if np.isclose(var, data.var(ddof=1)):
        raise CheckFailed("that is the unbiased variance (dividing by M - 1). The MLE divides by M: `data.var()`.")
    if np.isclose(var, data.std()):
        raise CheckFailed("that is the standard deviation; return the variance (its square).")
    expect_close(var, 3.5, what="the variance")


fit_gaussian = Exercise(
    "fit a Gaussian",
    _test_fit_gaussian,
    hint="the mean is the average of the points; the variance is the average squared distance to that mean.",
    more_hints=("numpy arrays have methods for both; return them as a pair: the mean first, then the variance.",
                "numpy's default for an array's variance already divides by M (the number of points): no ddof needed."),
    reference=reference_fit_gaussian,
)


# ----------------------------------------------------------------------------- check your understanding
quiz = Quiz(
    "Lesson 00 · Check your understanding",
    {
        "q1": Question(
            "In this course, what is generation 0?",
            options={"a": "the real data themselves",
                     "b": "the model fitted to the real data",
                     "c": "the first model trained only on synthetic data",
                     "d": "the model with the smallest error"},
            answer="b",
            explanation="generation 0 is fitted to real data; generation g is fitted to the training set the data "
                        "strategy builds from earlier generations' samples (and possibly real data).",
            why_not={"a": "data are not a generation: a generation is one turn of fit → sample.",
                     "c": "that is generation 1 under `replace`."},
        ),
        "q2": Question(
            "Which part of a distribution does the Nature paper say goes first (\"early collapse\")?",
            options={"a": "the most common events",
                     "b": "the tails: rare events",
                     "c": "the mean",
                     "d": "nothing is lost until late collapse"},
            answer="b",
            explanation="a finite sample tends to miss rare events, and a model cannot learn what it never sees: the "
                        "tails go first (early collapse); later the distribution shrinks towards a point (late "
                        "collapse). Lesson 02 measures this.",
            why_not={"a": "common events appear in every sample; they are the last to go.",
                     "c": "the mean wanders (lesson 01) but that is not what \"early collapse\" names."},
        ),
        "q3": Question(
            "You skipped an exercise (its stub still raises NotImplementedError). What happens to the rest of the lesson?",
            options={"a": "the next cells fail until you solve it",
                     "b": "the checker says \"not done yet\" and later cells use the course's reference implementation",
                     "c": "the notebook restarts"},
            answer="b",
            explanation="exercises never break a lesson: `check.<exercise>.choose(...)` falls back to the reference.",
            why_not={"a": "checkers catch the NotImplementedError of an untouched stub."},
        ),
        "q4": Question(
            "Every lesson runs the same loop, `run_generations`. What changes from lesson to lesson?",
            options={"a": "the loop itself: each lesson writes its own driver",
                     "b": "the model plugged into it (a Gaussian, a categorical law, a VAE, a GPT), the data "
                          "strategy and the metrics",
                     "c": "nothing: every lesson uses a Gaussian"},
            answer="b",
            explanation="the loop (fit → sample → strategy builds the next training set → fit) is one function; "
                        "lessons plug in a different model, strategy and metrics.",
            why_not={"a": "a lesson that needs something the loop lacks extends the loop; it never writes its own.",
                     "c": "lessons 02–08 use categorical laws, mixtures, a VAE, regressions and GPTs."},
        ),
    },
)

QUIZ_SOLUTION = {"q1": "b", "q2": "b", "q3": "b", "q4": "b"}
