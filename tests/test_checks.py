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
