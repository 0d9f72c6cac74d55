"""Checkers of lesson 04: accept the solution, reject plausible mistakes with a hint, greet the stub."""
import numpy as np
import pytest

from collapse_kit.exercises import lesson04 as L


def stub(*args, **kwargs):
    raise NotImplementedError()


def _replace_only(real, synthetic, m, rng):
    return rng.choice(synthetic[-1], size=m, replace=False)


def _whole_pool(real, synthetic, m, rng):
    return np.concatenate([real, *synthetic])


def _with_replacement(real, synthetic, m, rng):
    pool = np.concatenate([real, *synthetic])
    return pool[rng.integers(0, len(pool), size=m)]


def _synthetic_only(real, synthetic, m, rng):
    pool = np.concatenate(synthetic)
    return pool[rng.choice(len(pool), size=min(m, len(pool)), replace=False)]


def _global_rng(real, synthetic, m, rng):
    pool = np.concatenate([real, *synthetic])
    return pool[np.random.choice(len(pool), size=min(m, len(pool)), replace=False)]


CASES = [
    (L.accumulate_subsample, L.reference_accumulate_subsample, _replace_only, "real"),
    (L.accumulate_subsample, L.reference_accumulate_subsample, _whole_pool, "accumulate"),
    (L.accumulate_subsample, L.reference_accumulate_subsample, _with_replacement, "without replacement"),
    (L.accumulate_subsample, L.reference_accumulate_subsample, _synthetic_only, "real"),
    (L.accumulate_subsample, L.reference_accumulate_subsample, _global_rng, "rng"),
    (L.replace_error, L.reference_replace_error, lambda g, s2, d, t: s2 * d / (t - d - 1) * g, "off by one"),
    (L.replace_error, L.reference_replace_error, lambda g, s2, d, t: s2 * d / (t - d) * (g + 1), "T − d − 1"),
    (L.accumulate_bound, L.reference_accumulate_bound, lambda s2, d, t: s2 * d / (t - d - 1), "π²/6"),
    (L.accumulate_bound, L.reference_accumulate_bound, lambda s2, d, t: 2 * s2 * d / (t - d - 1), "1/i"),
    (L.accumulate_bound, L.reference_accumulate_bound, lambda s2, d, t: np.pi**2 / 6 * s2 / (t - d - 1), "expected"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES)
def test_checkers(exercise, solution, wrong, hint, capsys):
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status in ("wrong", "error") and hint in res.message, res.message
    assert exercise.check(stub).status == "not_done"
    assert exercise.choose(stub) is solution
    assert exercise.choose(solution) is solution
    assert "✅" in capsys.readouterr().out


def test_reference_matches_package_laws():
    from collapse_kit import regression as R

    assert L.reference_accumulate_bound(1.0, 10, 50) == pytest.approx(R.accumulate_bound(10, 50))
    assert L.reference_replace_error(3, 4.0, 10, 50) == pytest.approx(R.replace_law(3, 10, 50, 2.0))
