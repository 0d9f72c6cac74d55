"""Checkers of lesson 02: accept the solution, reject a plausible mistake (with the intended hint), greet the stub;
the quiz accepts the solution answers and rejects a wrong set."""
import numpy as np
import pytest

from collapse_kit.exercises import lesson02 as L2


def stub(*args, **kwargs):
    raise NotImplementedError()


def _kept_instead_of_lost(*args):
    lost, _ = L2.reference_minority_experiment(*args)
    kept = {k: 1 - v for k, v in lost.items()}
    return kept, min(k for k, v in kept.items() if v <= L2.MIX_BUDGET) if any(v <= L2.MIX_BUDGET for v in kept.values()) else None


def _largest_safe(*args):
    lost, _ = L2.reference_minority_experiment(*args)
    return lost, max(k for k, v in lost.items() if v <= L2.MIX_BUDGET)


def _no_real_data(*args):
    lost, _ = L2.reference_minority_experiment(*args)
    return lost, 0.0


CASES_02 = [
    (L2.survival, L2.reference_survival, lambda q, M: (1 - q) ** M, "never"),
    (L2.survival, L2.reference_survival, lambda q, M: np.minimum(1.0, q * M), "expected number"),
    (L2.expected_survivors, L2.reference_expected_survivors, lambda p, M: float(np.sum((1 - p) ** M)), "die"),
    (L2.expected_survivors, L2.reference_expected_survivors,
     lambda p, M: np.count_nonzero(p) * (1 - (1 - np.mean(p)) ** M), "average"),
    (L2.collision_law, L2.reference_collision_law, lambda s0, n, m: 1 - (1 - 1 / n) ** m * s0, "non"),
    (L2.mitigation, L2.reference_minority_experiment, _kept_instead_of_lost, "kept"),
    (L2.mitigation, L2.reference_minority_experiment, _largest_safe, "smallest"),
    (L2.mitigation, L2.reference_minority_experiment, _no_real_data, "over the 10% budget"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES_02)
def test_lesson02_checkers(exercise, solution, wrong, hint, capsys):
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status == "wrong" and hint in res.message, res.message
    stubbed = exercise.check(stub)
    assert stubbed.status == "not_done" and "not done yet" in stubbed.message
    assert exercise.choose(stub) is solution
    assert exercise.choose(solution) is solution


def test_mitigation_rejects_generation_zero_reading():
    def first_generation(*args):
        lost, _ = L2.reference_minority_experiment(*args)
        return {k: 0.0 for k in lost}, 0.0
    res = L2.mitigation.evaluate(first_generation)
    assert res.status == "wrong" and "last" in res.message


@pytest.mark.parametrize("exercise", [L2.survival, L2.expected_survivors, L2.collision_law, L2.mitigation])
def test_lesson02_hints_are_graded(exercise, capsys):
    exercise.hints_shown = 0
    assert len(exercise.more_hints) >= 2
    texts = [exercise.more_hint() for _ in range(3)]
    assert "hint 2 of 3" in texts[0] and "last hint" in texts[-1]
    exercise.hints_shown = 0


SOLUTION_ANSWERS = {"q1": 0.095, "q2": "b", "q3": "b", "q4": "b", "q5": "b", "q6": "b"}


def test_lesson02_quiz(capsys):
    assert 3 <= len(L2.quiz.questions) <= 6
    assert L2.quiz.check(SOLUTION_ANSWERS) == len(L2.quiz.questions)
    wrong = {"q1": 0.9, "q2": "a", "q3": "a", "q4": "a", "q5": "a", "q6": "d"}
    assert L2.quiz.check(wrong) == 0
    out = capsys.readouterr().out
    assert "q" in out and "Try again" in out
    for q in L2.quiz.questions.values():
        assert q.explanation
        if q.options:
            assert set(q.why_not) == set(q.options) - {q.answer}
