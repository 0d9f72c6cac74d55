"""Lesson 01's checkers: each accepts the solution, rejects a plausible wrong answer with the intended hint,
and greets the untouched stub kindly; the quiz accepts the solution answers and rejects a wrong set."""
import numpy as np
import pytest

from collapse_kit import gaussian as G
from collapse_kit.exercises import lesson01 as check
from collapse_kit.history import values


def stub(*args, **kwargs):
    raise NotImplementedError()


EXERCISES = [check.one_generation, check.generations_to_halve, check.median_halving]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_reference_passes_and_stub_is_not_done(exercise):
    assert exercise.evaluate(exercise.reference).status == "correct"
    result = exercise.evaluate(stub)
    assert result.status == "not_done" and "not done yet" in result.message
    assert exercise.choose(stub) is exercise.reference


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_hints_are_graded_and_never_paste_code(exercise, capsys):
    assert exercise.hint and len(exercise.more_hints) >= 2
    for _ in range(len(exercise.more_hints) + 1):
        exercise.more_hint()
    shown = capsys.readouterr().out
    assert "last hint" in shown
    for h in (exercise.hint, *exercise.more_hints):
        assert "return " not in h and "np.ceil(" not in h and "argmax(" not in h and ".var()" not in h


# ----------------------------------------------------------------------------- exercise 1
def test_one_generation_rejects_unbiased_variance():
    def wrong(data, rng):
        return rng.normal(data.mean(), data.std(ddof=1), size=len(data))
    r = check.one_generation.evaluate(wrong)
    assert r.status == "wrong" and "unbiased" in r.message


def test_one_generation_rejects_variance_as_scale():
    def wrong(data, rng):
        return rng.normal(data.mean(), data.var(), size=len(data))
    r = check.one_generation.evaluate(wrong)
    assert r.status == "wrong" and "standard deviation" in r.message


# ----------------------------------------------------------------------------- exercise 2
def test_halve_rejects_rounding_down():
    r = check.generations_to_halve.evaluate(lambda M: int(np.floor(np.log(0.5) / np.log((M - 1) / M))))
    assert r.status == "wrong" and "Round *up*" in r.message


# ----------------------------------------------------------------------------- exercise 3 (the experiment)
def _median_halving_from(statistic):
    def fn(M, estimator="mle", n_chains=3000, seed=0):
        var = values(G.simulate_gaussian_chains(n_chains, 4 * M, M, estimator=estimator, seeds=seed), "variance")
        return int(np.argmax(statistic(var, axis=0) <= 0.5))
    return fn


def test_median_halving_accepts_a_learner_run_with_other_seeds():
    for seed in (1, 2, 3):
        fn = _median_halving_from(np.median)
        assert check.median_halving.evaluate(lambda M, est: fn(M, est, 3000, seed)).status == "correct", seed


def test_median_halving_rejects_the_mean():
    r = check.median_halving.evaluate(_median_halving_from(np.mean))
    assert r.status == "wrong" and "mean" in r.message and "median" in r.message


def test_median_halving_rejects_ignoring_the_estimator():
    fn = _median_halving_from(np.median)
    r = check.median_halving.evaluate(lambda M, estimator="mle": fn(M, "mle"))
    assert r.status == "wrong" and "estimator" in r.message


def test_median_halving_rejects_a_wrong_threshold_and_non_integers():
    def wrong(M, estimator="mle"):
        var = values(G.simulate_gaussian_chains(3000, 4 * M, M, estimator=estimator, seeds=0), "variance")
        return int(np.argmax(np.median(var, axis=0) <= 0.1))
    r = check.median_halving.evaluate(wrong)
    assert r.status == "wrong" and "1/2" in r.message
    r = check.median_halving.evaluate(lambda M, estimator="mle": 6.5)
    assert r.status == "wrong" and "whole number" in r.message


def test_median_halves_about_twice_as_fast_as_the_mean_for_the_mle():
    # the conclusion the lesson and quiz q3 state
    for M in (20, 50):
        median_gen = check._precise_halving(M, "mle")
        assert 1.6 < (check._mean_law_generation(M) + 1) / (median_gen + 1) < 2.3


# ----------------------------------------------------------------------------- quiz
def test_quiz_accepts_the_solution_and_rejects_a_wrong_set(capsys):
    assert check.quiz.check(check.QUIZ_SOLUTION) == len(check.quiz.questions)
    wrong = {"q1": "a", "q2": 35, "q3": "c", "q4": "a", "q5": "b", "q6": "a"}
    results = check.quiz.evaluate(wrong)
    assert not any(results)
    assert "average" in results[0].message and "harmonic" in results[4].message  # why_not for tempting options
    assert all(r.status == "not_done" for r in check.quiz.evaluate({}))
    capsys.readouterr()


def _notebook_answers(name):
    import json
    import pathlib
    nb = json.loads((pathlib.Path(__file__).parents[1] / "solutions" / name).read_text())
    src = next("".join(c["source"]) for c in nb["cells"] if "my_answers = {" in "".join(c["source"]))
    body = src.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    scope = {}
    exec("\n".join(line.strip() for line in body.splitlines()), scope)
    return scope["my_answers"]


def test_notebook_quiz_answers_match_the_solution():
    assert _notebook_answers("01_gaussian_collapse.ipynb") == check.QUIZ_SOLUTION
