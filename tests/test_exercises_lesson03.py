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


def _largest_imbalance(min_images, grid=L3.R_GRID, seed=0):
    return max(grid)


def _strict_imbalance(min_images, grid=L3.R_GRID, seed=0):      # ">" instead of ">="
    return L3.reference_smallest_imbalance(min_images + 1, grid, seed=seed)


def _pool_imbalance(min_images, grid=L3.R_GRID, seed=0):        # counts the pool, not the training set
    from collapse_kit import images as I
    for r in sorted(grid):
        if np.bincount(I.load_digits(r, seed=seed, part="pool")[1]).min() >= min_images:
            return r


def _effect_ratio(x, y, model, rare=(7, 8, 9)):
    return 1 - L3.reference_rare_digit_effect(x, y, model, rare)


def _effect_flipped(x, y, model, rare=(7, 8, 9)):
    return -L3.reference_rare_digit_effect(x, y, model, rare)


def _effect_only_rare(x, y, model, rare=(7, 8, 9)):
    keep = np.isin(y, list(rare))
    from collapse_kit.images import latent_spread
    return 1 - latent_spread(np.asarray(x)[keep][None], model)[0] / latent_spread(np.asarray(x)[None], model)[0]


CASES_03 = [
    (L3.smallest_imbalance, L3.reference_smallest_imbalance, _largest_imbalance, "smallest r"),
    (L3.smallest_imbalance, L3.reference_smallest_imbalance, _strict_imbalance, "*at least*"),
    (L3.smallest_imbalance, L3.reference_smallest_imbalance, _pool_imbalance, "not the pool"),
    (L3.rare_digit_effect, L3.reference_rare_digit_effect, _effect_ratio, "ratio"),
    (L3.rare_digit_effect, L3.reference_rare_digit_effect, _effect_flipped, "sign"),
    (L3.rare_digit_effect, L3.reference_rare_digit_effect, _effect_only_rare, "*only*"),
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


@pytest.mark.parametrize("exercise", [L3.smallest_imbalance, L3.rare_digit_effect])
def test_lesson03_graded_hints(exercise, capsys):
    exercise.hints_shown = 0
    levels = [exercise.hint, *exercise.more_hints]
    assert len(levels) >= 3
    shown = [exercise.more_hint() for _ in levels]
    assert all(level in text for level, text in zip(levels[1:], shown))
    assert "last hint" in shown[-1]
    exercise.hints_shown = 0


def test_smallest_imbalance_at_the_lesson_setting():
    # the lesson's imbalance 0.1 is the smallest on the grid that keeps a dozen images of every digit (seed 0)
    assert L3.reference_smallest_imbalance(12) == 0.1
    assert L3.reference_smallest_imbalance(10_000) is None


def test_lesson03_reference_matches_package():
    from collapse_kit import images as I

    _, y_pool = I.load_digits(1.0, part="pool")
    _, y = I.load_digits(0.1)
    np.testing.assert_array_equal(np.bincount(y), L3.reference_kept_counts(np.bincount(y_pool), 0.1))


def test_quiz_accepts_the_solution_and_rejects_a_wrong_set():
    from collapse_kit.exercises import lesson03

    quiz = lesson03.quiz
    assert 3 <= len(quiz.questions) <= 6
    assert quiz.check(lesson03.quiz_solution) == len(quiz.questions)
    wrong = {"q1": "a", "q2": "b", "q3": "a", "q4": 0.5, "q5": "a"}
    assert all(r.status == "wrong" for r in quiz.evaluate(wrong))
    assert all(r.status == "not_done" for r in quiz.evaluate({}))
