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


# ----------------------------------------------------------------------------- the thinking exercise
def _shift(errors, factor=1.0, add=0.0):
    return {lam: v * factor + add for lam, v in errors.items()}


def _generation_zero(real_fractions, n_chains, generations, seed=0):
    from collapse_kit import regression as R
    from collapse_kit.history import summarize
    from collapse_kit.strategies import Strategy

    st = [Strategy("real_fraction", lam) for lam in real_fractions]
    h = R.compare_regression(st, n_chains=n_chains, generations=generations, seed=seed)
    s = summarize(h, "test error")
    first = s[s.generation == 0].set_index("strategy")["mean"]
    errors = {lam: first[x.label] / R.ols_error_unit(L.D, L.T, L.SIGMA) for lam, x in zip(real_fractions, st)}
    return errors, min(real_fractions)


def _raw_units(real_fractions, n_chains, generations, seed=0):
    from collapse_kit.regression import ols_error_unit

    errors, choice = L.reference_error_budget_experiment(real_fractions, n_chains, generations, seed)
    return _shift(errors, ols_error_unit(L.D, L.T, L.SIGMA)), choice


def _not_smallest(real_fractions, n_chains, generations, seed=0):
    errors, choice = L.reference_error_budget_experiment(real_fractions, n_chains, generations, seed)
    return errors, max(real_fractions)


def _over_budget(real_fractions, n_chains, generations, seed=0):
    errors, choice = L.reference_error_budget_experiment(real_fractions, n_chains, generations, seed)
    return errors, 0.2


def _fresh_data(real_fractions, n_chains, generations, seed=0):
    from collapse_kit import regression as R
    from collapse_kit.history import final
    from collapse_kit.strategies import Strategy

    st = [Strategy("real_fraction", lam, fresh_real=True) for lam in real_fractions]
    h = R.compare_regression(st, n_chains=n_chains, generations=generations, seed=seed)
    last = final(h, "test error").set_index("strategy")["mean"]
    errors = {lam: last[s.label] / R.ols_error_unit(L.D, L.T, L.SIGMA) for lam, s in zip(real_fractions, st)}
    return errors, min(lam for lam in errors if errors[lam] <= L.ERROR_BUDGET)


def _no_tuple(real_fractions, n_chains, generations, seed=0):
    return L.reference_error_budget_experiment(real_fractions, n_chains, generations, seed)[0]


BUDGET_CASES = [
    (_generation_zero, "last"),
    (_raw_units, "divide"),
    (_not_smallest, "smallest"),
    (_over_budget, "over the budget"),
    (_fresh_data, "fixed"),
    (_no_tuple, "return two things"),
]


@pytest.mark.parametrize("wrong, hint", BUDGET_CASES)
def test_error_budget_checker(wrong, hint, capsys):
    ex = L.error_budget
    res = ex.check(wrong)
    assert res.status == "wrong" and hint in res.message, res.message
    assert ex.choose(wrong) is L.reference_error_budget_experiment


def test_error_budget_accepts_solution_and_greets_stub(capsys):
    ex = L.error_budget
    assert ex.check(L.reference_error_budget_experiment)
    assert ex.choose(L.reference_error_budget_experiment) is L.reference_error_budget_experiment
    res = ex.check(stub)
    assert res.status == "not_done" and "not done yet" in res.message
    assert ex.choose(stub) is L.reference_error_budget_experiment


def test_error_budget_answer_is_meaningful():
    """The budget separates the grid: no real data fails by far, half real data passes by far."""
    ref = L._package_run(tuple(L.GRID), 10)
    assert ref[0.0][0] > 2 * L.ERROR_BUDGET and ref[0.5][0] < L.ERROR_BUDGET - 5 * ref[0.5][1]
    errors, choice = L.reference_error_budget_experiment(L.GRID, n_chains=400, generations=10, seed=3)
    assert choice in L.GRID and 0.0 < choice <= 0.5


@pytest.mark.parametrize("exercise", [L.accumulate_subsample, L.error_budget])
def test_hints_are_graded_and_never_paste_code(exercise, capsys):
    levels = [exercise.hint, *exercise.more_hints]
    assert len(levels) >= 3
    for h in levels:
        assert "np.concatenate(" not in h and "pool[" not in h and "min(sample_size" not in h
        assert "return " not in h
    exercise.hints_shown = 0
    shown = [exercise.more_hint() for _ in levels]
    assert "last hint" in shown[-1]
    assert exercise.more_hints[0] in shown[0]


# ----------------------------------------------------------------------------- the quiz
SOLUTION_ANSWERS = {"q1": 1.645, "q2": "b", "q3": "c", "q4": "b", "q5": "a"}


def test_quiz_accepts_solution(capsys):
    assert L.quiz.check(SOLUTION_ANSWERS) == len(L.quiz.questions)
    assert 3 <= len(L.quiz.questions) <= 6


def test_quiz_rejects_wrong_answers_with_why_not(capsys):
    wrong = {"q1": 1.0, "q2": "c", "q3": "a", "q4": "a", "q5": "b"}
    results = L.quiz.evaluate(wrong)
    assert not any(results)
    assert "fixed-size" not in results[1].message and "M items" in results[1].message  # why_not for (c)
    assert "Gaussian knob" in results[4].message
    assert L.quiz.evaluate({"q1": None})[0].status == "not_done"


def test_solution_notebook_uses_the_same_answers():
    import json
    from pathlib import Path

    nb = json.loads(Path(__file__).parents[1].joinpath("solutions/04_mixing_real_data.ipynb").read_text())
    src = "".join("".join(c["source"]) for c in nb["cells"])
    assert repr(SOLUTION_ANSWERS).replace("'", '"') in src
