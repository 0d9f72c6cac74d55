"""Checkers of lesson 02: accept the solution, reject a plausible mistake, greet the stub."""
import numpy as np
import pytest

from collapse_kit.exercises import lesson02 as L2


def stub(*args, **kwargs):
    raise NotImplementedError()


CASES_02 = [
    (L2.survival, L2.reference_survival, lambda q, M: (1 - q) ** M, "never"),
    (L2.survival, L2.reference_survival, lambda q, M: np.minimum(1.0, q * M), "expected number"),
    (L2.expected_survivors, L2.reference_expected_survivors, lambda p, M: float(np.sum((1 - p) ** M)), "die"),
    (L2.expected_survivors, L2.reference_expected_survivors,
     lambda p, M: np.count_nonzero(p) * (1 - (1 - np.mean(p)) ** M), "average"),
    (L2.collision_law, L2.reference_collision_law, lambda s0, n, m: 1 - (1 - 1 / n) ** m * s0, "non"),
    (L2.minority_absent, L2.reference_minority_absent, lambda w, M: 1 - (1 - w) ** M, "at least once"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES_02)
def test_lesson02_checkers(exercise, solution, wrong, hint, capsys):
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status == "wrong" and hint in res.message
    assert exercise.check(stub).status == "not_done"
    assert exercise.choose(stub) is solution
    assert exercise.choose(solution) is solution
