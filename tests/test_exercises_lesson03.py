"""Checkers of lesson 03: accept the solution, reject a plausible mistake, greet the stub."""
import numpy as np
import pytest

from collapse_kit.exercises import lesson03 as L3


def stub(*args, **kwargs):
    raise NotImplementedError()


def _largest(history, target, fresh=False):
    h = history[(history["metric"] == "minority_share") & (history["generation"] == history["generation"].max())]
    h = h[(h["real_fraction"] == 0) | (h["fresh_real"] == fresh)]
    final = h.groupby("real_fraction")["value"].mean()
    ok = final[final >= target]
    return None if ok.empty else float(ok.index[-1])


CASES_03 = [
    (L3.kept_counts, L3.reference_kept_counts, lambda counts, r: np.round(counts * r).astype(int), "same"),
    (L3.kept_counts, L3.reference_kept_counts,
     lambda counts, r: L3.reference_kept_counts(counts, r)[::-1], "reversed"),
    (L3.spread, L3.reference_spread, lambda mu: float(np.asarray(mu).std(axis=1).mean()), "within"),
    (L3.spread, L3.reference_spread, lambda mu: float(np.asarray(mu).var(axis=0).mean()), "variance"),
    (L3.smallest_real_fraction, L3.reference_smallest_real_fraction,
     lambda h, t, fresh=False: L3.reference_smallest_real_fraction(h, t, not fresh), "fresh_real"),
    (L3.smallest_real_fraction, L3.reference_smallest_real_fraction, _largest, "smallest"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES_03)
def test_lesson03_checkers(exercise, solution, wrong, hint, capsys):
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status == "wrong" and hint in res.message
    assert exercise.check(stub).status == "not_done"
    assert exercise.choose(stub) is solution
    assert exercise.choose(solution) is solution


def test_smallest_real_fraction_reads_the_last_generation_only():
    h = L3._fake_history({0.0: 0.0, 0.5: 0.07}, {0.0: 0.0, 0.5: 0.09})
    assert L3.reference_smallest_real_fraction(h, 0.05) == 0.5      # replace starts at 0.1 but ends at 0
    assert L3.reference_smallest_real_fraction(h, 0.08, fresh=True) == 0.5
    assert L3.reference_smallest_real_fraction(h, 0.08) is None


def test_lesson03_reference_matches_package():
    from collapse_kit import images as I

    _, y_pool = I.load_digits(1.0, part="pool")
    _, y = I.load_digits(0.1)
    np.testing.assert_array_equal(np.bincount(y), L3.reference_kept_counts(np.bincount(y_pool), 0.1))
