import numpy as np
import pytest

from collapse_kit.checks import CheckFailed, Exercise, expect_close
from collapse_kit.exercises import lesson01


def stub(*args, **kwargs):
    raise NotImplementedError()


def test_framework_verdicts(capsys):
    ex = Exercise("double", lambda f: expect_close(f(2), 4, what="f(2)"), hint="multiply by 2",
                  reference=lambda x: 2 * x)
    assert ex.check(lambda x: 2 * x).status == "correct"
    r = ex.check(lambda x: x + 3)
    assert r.status == "wrong" and "f(2) is 5" in r.message and "multiply by 2" in r.message
    assert ex.check(stub).status == "not_done"
    assert ex.check(None).status == "not_done"
    r = ex.check(lambda x: x / 0)
    assert r.status == "error" and "ZeroDivisionError" in r.message
    out = capsys.readouterr().out
    assert "✅" in out and "💡" in out and "⏳" in out and "Traceback" not in out
    assert ex.choose(stub)(3) == 6
    good = lambda x: x * 2
    assert ex.choose(good) is good
    assert not ex.evaluate(stub) and ex.evaluate(good)


def test_expect_close_messages():
    with pytest.raises(CheckFailed, match="shape"):
        expect_close([1, 2], [1, 2, 3])
    with pytest.raises(CheckFailed, match="number"):
        expect_close("a", 1)
    expect_close(np.array([1.0, 2.0]), [1.0, 2.0])


@pytest.mark.parametrize("exercise, solution, wrong, hint", [
    (lesson01.one_generation, lesson01.reference_one_generation,
     lambda d, r: r.normal(d.mean(), d.std(ddof=1), len(d)), "unbiased"),
    (lesson01.one_generation, lesson01.reference_one_generation,
     lambda d, r: np.random.normal(d.mean(), d.std(), len(d)), "rng"),
    (lesson01.one_generation, lesson01.reference_one_generation,
     lambda d, r: r.normal(d.mean(), d.var(), len(d)), "standard deviation"),
    (lesson01.mle_variance, lesson01.reference_expected_mle_variance,
     lambda n, M, s=1.0: s * (M - 1) / M, "power"),
    (lesson01.generations_to_halve, lesson01.reference_generations_to_halve,
     lambda M: int(np.log(0.5) / np.log((M - 1) / M)), "up"),
])
def test_lesson01_checkers(exercise, solution, wrong, hint):
    assert exercise.evaluate(solution).status == "correct"
    verdict = exercise.evaluate(wrong)
    assert verdict.status == "wrong" and hint in verdict.message
    assert exercise.evaluate(stub).status == "not_done"
    assert exercise.choose(stub) is exercise.reference


def test_lesson00_checker():
    from collapse_kit.exercises import lesson00

    ex = lesson00.fit_gaussian
    assert ex.evaluate(lesson00.reference_fit_gaussian).status == "correct"
    r = ex.evaluate(lambda d: (d.mean(), d.var(ddof=1)))
    assert r.status == "wrong" and "unbiased" in r.message
    r = ex.evaluate(lambda d: (d.mean(), d.std()))
    assert r.status == "wrong" and "standard deviation" in r.message
    assert ex.evaluate(stub).status == "not_done"


def test_graded_hints_come_one_level_at_a_time(capsys):
    from collapse_kit.checks import Exercise

    def test(fn):
        assert fn() == 1, "not 1"

    ex = Exercise("one", test, hint="nudge", more_hints=("closer", "closest"), reference=lambda: 1)
    r = ex.check(lambda: 2)
    assert r.status == "wrong" and "nudge" in r.message and "closer" not in r.message
    assert "closer" in ex.more_hint() and "closest" in ex.more_hint() and "last hint" in ex.more_hint()


def test_quiz_ticks_right_answers_and_nudges_wrong_ones(capsys):
    from collapse_kit.checks import Question, Quiz

    quiz = Quiz("check", {
        "q1": Question("pick", "b", "because b.", options={"a": "A", "b": "B"}, hint="think of B",
                       why_not={"a": "A is the trap."}),
        "q2": Question("number", 0.5, "half.", tolerance=0.01),
    })
    quiz.show()
    assert "(a) A" in capsys.readouterr().out
    assert quiz.check({"q1": "b", "q2": 0.5}) == 2
    assert "because b." in capsys.readouterr().out
    assert quiz.check({"q1": "a", "q2": 0.6}) == 0
    out = capsys.readouterr().out
    assert "A is the trap." in out and "think of B" in out and "because b." not in out
    assert quiz.check({}) == 0 and "not answered" in capsys.readouterr().out
    with pytest.raises(ValueError, match="q9"):
        quiz.check({"q9": 1})
    with pytest.raises(ValueError, match="answer"):
        Question("x", "c", "", options={"a": "A"})
