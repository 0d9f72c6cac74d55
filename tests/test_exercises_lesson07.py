"""Lesson 07's checkers accept the reference, reject plausible wrong answers with a hint and greet the stub."""
import numpy as np
import pytest

from collapse_kit.exercises import lesson07 as L


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("ex", [L.z_test, L.threshold, L.min_share, L.quiz], ids=lambda e: e.name)
def test_reference_passes_and_stub_is_not_done(ex):
    assert ex.evaluate(ex.reference).status == "correct"
    assert ex.evaluate(stub).status == "not_done"
    assert ex.choose(stub) is ex.reference


@pytest.mark.parametrize("wrong, says", [
    (lambda g, t, gamma: (g - gamma * t) / (t * gamma * (1 - gamma)), "standard deviation"),
    (lambda g, t, gamma: (np.asarray(g) - gamma * np.asarray(t)) / np.sqrt(gamma * (1 - gamma)), "grows with T"),
    (lambda g, t, gamma: np.asarray(g) / np.asarray(t) - gamma, "share"),
    (lambda g, t, gamma: (g - gamma * t) / np.sqrt(t * gamma), "Tγ(1−γ)"),
])
def test_z_test_rejects_plausible_mistakes(wrong, says):
    r = L.z_test.evaluate(wrong)
    assert r.status == "wrong" and says in r.message


@pytest.mark.parametrize("wrong, says", [
    (lambda s, b: np.quantile(s, b), "low quantile"),
    (lambda s, b: np.quantile(s, 1 - b) - 0.05, "over the"),
    (lambda s, b: float(np.max(s)) + 1, "lower threshold"),
])
def test_threshold_rejects_plausible_mistakes(wrong, says):
    r = L.threshold.evaluate(wrong)
    assert r.status == "wrong" and says in r.message


def test_min_share_rejects_plausible_mistakes_and_matches_the_simulation():
    assert L.min_share.evaluate(lambda h, tpr, fpr, t: (1 - t - fpr) / (tpr - fpr)).status == "wrong"
    assert L.min_share.evaluate(lambda h, tpr, fpr, t: min(1.0, max(0.0, (1 - t) / tpr))).status == "wrong"
    r = L.min_share.evaluate(lambda h, tpr, fpr, t: 1.0)
    assert r.status == "wrong"


def test_quiz_rejects_wrong_answers_without_giving_them_away():
    r = L.quiz.evaluate(lambda: {1: "a", 2: "c", 3: "a", 4: "b", 5: "c"})
    assert r.status == "wrong" and "question 1" in r.message and "(b)" not in r.message
    assert L.quiz.evaluate(lambda: {1: "b"}).status == "wrong"
    assert L.quiz.evaluate(lambda: "b").status == "wrong"
