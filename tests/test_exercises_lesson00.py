"""Lesson 00's warm-up checker and quiz: accept the solution, reject a plausible wrong answer, greet the stub."""
from collapse_kit.exercises import lesson00 as check
from tests.test_exercises_lesson01 import _notebook_answers


def stub(*args, **kwargs):
    raise NotImplementedError()


def test_fit_gaussian_checker():
    ex = check.fit_gaussian
    assert ex.evaluate(check.reference_fit_gaussian).status == "correct"
    assert ex.evaluate(stub).status == "not_done"
    wrong = ex.evaluate(lambda d: (d.mean(), d.var(ddof=1)))
    assert wrong.status == "wrong" and "unbiased" in wrong.message
    assert len(ex.more_hints) >= 2 and all(".var()" not in h for h in (ex.hint, *ex.more_hints))


def test_quiz_accepts_solution_rejects_wrong_set(capsys):
    assert check.quiz.check(check.QUIZ_SOLUTION) == len(check.quiz.questions)
    results = check.quiz.evaluate({"q1": "a", "q2": "a", "q3": "a", "q4": "a"})
    assert not any(results) and "generation" in results[0].message
    assert _notebook_answers("00_start_here.ipynb") == check.QUIZ_SOLUTION
    capsys.readouterr()
