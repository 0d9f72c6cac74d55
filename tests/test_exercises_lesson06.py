"""Lesson 06's checkers (issue 11): each accepts the solution, rejects a plausible wrong answer with the
intended hint, and greets the untouched stub kindly; the quiz accepts the solution answers."""
import numpy as np
import pandas as pd
import pytest

from collapse_kit.exercises import lesson06


def _stub(*args, **kwargs):
    raise NotImplementedError()


def test_mixed_training_set_graded_hints_never_paste_code():
    ex = lesson06.mixed_training_set
    assert ex.evaluate(lesson06.reference_mixed_training_set)
    levels = [ex.hint, *ex.more_hints]
    assert len(levels) >= 3
    assert not any("rng.choice" in h or "np.concatenate" in h for h in levels)
    assert ex.evaluate(_stub).status == "not_done"
    assert ex.choose(_stub) is lesson06.reference_mixed_training_set


def test_distinct_n_graded_hints():
    ex = lesson06.distinct_n
    assert ex.evaluate(lesson06.reference_distinct_n)
    assert len(ex.more_hints) >= 2 and not any("tuple(words[i:i" in h for h in (ex.hint, *ex.more_hints))
    r = ex.evaluate(lambda texts, n: len({w for t in texts for w in t.split()}))
    assert r.status == "wrong"
    assert ex.evaluate(_stub).status == "not_done"


TABLE = pd.DataFrame({"real_fraction": [0.0, 0.05, 0.1, 0.25, 0.5], "rise": [1.40, 1.35, 1.25, 1.15, 1.10]})


def test_cheapest_real_fraction_accepts_the_conclusion_of_the_grid():
    ex = lesson06.cheapest_real_fraction_for(TABLE)
    want = lesson06.reference_cheapest_real_fraction(TABLE)
    assert ex.evaluate(lambda: want)


def test_cheapest_real_fraction_reference_values():
    # damage at λ = 0 is 0.40; half is 0.20; the first rise - 1 <= 0.20 is 0.15 at λ = 0.25
    assert lesson06.reference_cheapest_real_fraction(TABLE) == 0.25
    assert lesson06.damage_removed(TABLE, 0.25) == pytest.approx(1 - 0.15 / 0.40)


def test_cheapest_real_fraction_rejects_plausible_wrong_answers():
    ex = lesson06.cheapest_real_fraction_for(TABLE)
    r = ex.evaluate(lambda: 0.1)                 # reads the plot too optimistically
    assert r.status == "wrong" and "removes only" in r.message and "Hint:" in r.message
    r = ex.evaluate(lambda: 0.5)                 # over-spends
    assert r.status == "wrong" and "smaller" in r.message
    r = ex.evaluate(lambda: 1.15)                # returns the rise instead of λ
    assert r.status == "wrong" and "real fraction" in r.message
    r = ex.evaluate(lambda: 0.3)                 # not a computed setting
    assert r.status == "wrong" and "computed" in r.message
    assert ex.evaluate(lambda: None).status == "wrong"
    assert ex.evaluate(_stub).status == "not_done"
    assert ex.choose(_stub)() == 0.25


def test_cheapest_real_fraction_when_nothing_halves_the_damage():
    table = pd.DataFrame({"real_fraction": [0.0, 0.1, 0.5], "rise": [1.2, 1.18, 1.15]})
    ex = lesson06.cheapest_real_fraction_for(table)
    assert ex.evaluate(lambda: None)
    r = ex.evaluate(lambda: 0.5)
    assert r.status == "wrong" and "None" in r.message


def test_cheapest_real_fraction_hints_are_graded():
    ex = lesson06.cheapest_real_fraction_for(TABLE)
    first = ex.more_hint()
    second = ex.more_hint()
    assert first != second and "hint 2" in first
    assert lesson06.cheapest_real_fraction.hints_shown == 0  # binding gives a fresh copy


def test_quiz_accepts_the_solution_and_rejects_a_wrong_set():
    quiz = lesson06.quiz
    assert 3 <= len(quiz.questions) <= 6
    solution = {"q1": "b", "q2": "b", "q3": "b", "q4": 13, "q5": "b"}
    assert quiz.check(solution) == len(quiz.questions)
    wrong = {"q1": "a", "q2": "a", "q3": "a", "q4": 12.8, "q5": "a"}
    results = quiz.evaluate(wrong)
    assert not any(results)
    assert all(r.status == "wrong" for r in results)
    for key, q in quiz.questions.items():
        assert q.explanation
        if q.options:
            assert q.why_not and set(q.why_not) == set(q.options) - {q.answer}
    assert all(r.status == "not_done" for r in quiz.evaluate({}))
