"""Checkers of lesson 08: accept the solution, reject plausible mistakes with a graded hint, greet the stub."""
import dataclasses

import numpy as np
import pytest

from collapse_kit.exercises import lesson08 as L
from collapse_kit.strategies import WebCrawl


def stub(*args, **kwargs):
    raise NotImplementedError()


def _webs_two_knobs():
    a, b = L.reference_design_webs()
    return a, dataclasses.replace(b, crawl_size=80)


CASES = [
    (L.synthetic_share, L.reference_synthetic_share, lambda y, h0, h, p: sum(p[:y + 1]) / (h0 + y * h + sum(p[:y + 1])),
     "next year"),
    (L.synthetic_share, L.reference_synthetic_share, lambda y, h0, h, p: sum(p[:y]) / (h0 + sum(p[:y])), "grow"),
    (L.synthetic_share, L.reference_synthetic_share, lambda y, h0, h, p: sum(p[:y]) / (h0 + y * h),
     "not synthetic / human"),
    (L.design_webs, L.reference_design_webs, lambda: L.reference_design_webs()[::-1], "not clearly"),
    (L.design_webs, L.reference_design_webs, _webs_two_knobs, "exactly one"),
    (L.design_webs, L.reference_design_webs, lambda: (L.reference_design_webs()[0],) * 2, "identical"),
    (L.strong_floor, L.reference_strong_floor, lambda p, d: p * d**2, "distance"),
    (L.strong_floor, L.reference_strong_floor, lambda p, d: p * (1 - p) * d**2, "huge"),
    (L.strong_floor, L.reference_strong_floor, lambda p, d: 0.0, "expected"),
]


@pytest.mark.parametrize("exercise, solution, wrong, hint", CASES)
def test_checkers(exercise, solution, wrong, hint, capsys):
    exercise.attempts.clear()
    assert exercise.check(solution)
    res = exercise.check(wrong)
    assert res.status in ("wrong", "error") and hint in res.message, res.message
    assert exercise.check(stub).status == "not_done"
    assert exercise.choose(stub) is solution
    assert exercise.choose(solution) is solution
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("exercise, wrong", [(L.synthetic_share, lambda *a: 0.5),
                                              (L.design_webs, lambda: (WebCrawl(), WebCrawl())),
                                              (L.strong_floor, lambda p, d: 0.0)])
def test_hints_are_graded_and_never_the_answer(exercise, wrong):
    exercise.attempts.clear()
    first, second = exercise.check(wrong), exercise.check(wrong)
    assert exercise.hints[0] in first.message and exercise.hints[1] in second.message
    assert exercise.hints[0] != exercise.hints[1]
    for _ in range(5):
        assert exercise.hints[-1] in exercise.check(wrong).message
    assert not any(s in h for h in exercise.hints for s in ("p²Δ²", "memory=1", "posted[:year]"))


def test_reference_webs_are_the_lesson_regimes():
    forgetting, keeping = L.reference_design_webs()
    (a1, s1), (a2, s2) = L.advantage_gap(forgetting, keeping, n_chains=200, seed=3)
    assert a1 > 3 * s1 and a1 - a2 > 3 * np.hypot(s1, s2)


def test_quiz(capsys):
    right = {"q1": "c", "q2": "b", "q3": "d", "q4": "a", "q5": "b"}
    for key, q in L.quiz.items():
        ok = q.check(right[key])
        assert ok and q.explanation in ok.message
        for other in "abcd":
            if other != right[key]:
                r = q.check(other)
                assert r.status == "wrong" and q.explanation not in r.message
        assert q.check("z").status == "wrong" and "one letter" in q.check("zz").message
        assert q.check(None).status == "not_done"
    assert "⏳" in capsys.readouterr().out
