"""Checkers of lessons 02 and 03: accept the solution, reject a plausible mistake, greet the stub."""
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


from collapse_kit.exercises import lesson03 as L3  # noqa: E402

CASES_03 = [
    (L3.kept_counts, L3.reference_kept_counts, lambda counts, r: np.round(counts * r).astype(int), "same"),
    (L3.kept_counts, L3.reference_kept_counts,
     lambda counts, r: L3.reference_kept_counts(counts, r)[::-1], "reversed"),
    (L3.spread, L3.reference_spread, lambda mu: float(np.asarray(mu).std(axis=1).mean()), "within"),
    (L3.spread, L3.reference_spread, lambda mu: float(np.asarray(mu).var(axis=0).mean()), "variance"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES_03)
def test_lesson03_checkers(exercise, solution, wrong, hint, capsys):
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status == "wrong" and hint in res.message
    assert exercise.check(stub).status == "not_done"
    assert exercise.choose(stub) is solution


def test_lesson03_reference_matches_package():
    from collapse_kit import images as I

    counts = np.bincount(I.load_digits(1.0)[1])
    _, y = I.load_digits(0.1)
    np.testing.assert_array_equal(np.bincount(y), L3.reference_kept_counts(counts, 0.1))
