import numpy as np
import pytest

from collapse_kit.exercises import lesson05, lesson06


def _stub(*args, **kwargs):
    raise NotImplementedError()


def test_loss_in_units():
    ex = lesson05.loss_in_units
    assert ex.evaluate(lesson05.reference_loss_in_units)
    assert ex.evaluate(lambda loss: (np.exp(loss), loss / np.log(2)))
    r = ex.evaluate(lambda loss: (2 ** loss, loss / np.log(2)))
    assert r.status == "wrong" and "nats" in r.message and "Hint:" in r.message
    r = ex.evaluate(lambda loss: (np.exp(loss), loss * np.log(2)))
    assert r.status == "wrong" and "more* bits" in r.message
    r = ex.evaluate(lambda loss: (np.exp(loss), loss))
    assert r.status == "wrong" and "convert the unit" in r.message
    assert ex.evaluate(lambda loss: np.exp(loss)).status == "wrong"  # one number, not two
    assert ex.evaluate(_stub).status == "not_done"
    assert ex.choose(_stub)(1.0) == (np.exp(1.0), 1.0 / np.log(2))


def test_hints_are_graded_and_never_paste_code():
    for ex in (lesson05.loss_in_units, lesson05.next_token_probs,
               lesson05.temperature_experiment(lambda t: 1.0 + t, 2.0, (0.5, 1.0, 1.5))):
        levels = [ex.hint, *ex.more_hints]
        assert len(levels) >= 3
        for h in levels:
            assert "np." not in h and "return (" not in h and "-inf" not in h and "exp(z" not in h and "def " not in h
        shown = [ex.more_hint() for _ in range(len(levels) + 1)]
        assert "last hint" in shown[-1]


def test_next_token_probs():
    ex = lesson05.next_token_probs
    assert ex.evaluate(lesson05.reference_next_token_probs)

    def no_temperature(logits, temperature=1.0, top_k=None):
        return lesson05.reference_next_token_probs(logits, 1.0, top_k)

    r = ex.evaluate(no_temperature)
    assert r.status == "wrong" and "divide the logits" in r.message

    def times_temperature(logits, temperature=1.0, top_k=None):
        return lesson05.reference_next_token_probs(np.asarray(logits) * temperature ** 2, temperature, top_k)

    r = ex.evaluate(times_temperature)
    assert r.status == "wrong" and "divide instead" in r.message

    def not_renormalised(logits, temperature=1.0, top_k=None):
        p = lesson05.reference_next_token_probs(logits, temperature, None)
        if top_k is not None:
            p = np.where(p >= np.sort(p)[-top_k], p, 0.0)
        return p

    r = ex.evaluate(not_renormalised)
    assert r.status == "wrong" and "sum to" in r.message
    assert ex.evaluate(_stub).status == "not_done"


def _sweep():
    # a model whose own text at T has perplexity 5·T^1.5 and human text 5.4: the match is T = 1.0 of the grid
    temps = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.6)
    calls = []

    def own(t):
        calls.append(t)
        return 5.0 * float(t) ** 1.5

    return lesson05.temperature_experiment(own, 5.4, temps), temps, calls


def test_temperature_experiment_accepts_the_conclusion():
    ex, temps, calls = _sweep()
    assert ex.evaluate(lesson05.reference_matching_temperature)
    assert ex.evaluate(lambda own, real, ts: 1.0)            # the number itself is accepted
    assert calls  # the checker reran the sweep
    # a near tie within the tolerance is accepted too
    ex2 = lesson05.temperature_experiment(lambda t: {0.5: 1.0, 1.0: 2.0, 1.5: 2.02}[t], 2.01, (0.5, 1.0, 1.5))
    assert ex2.evaluate(lambda own, real, ts: 1.5) and ex2.evaluate(lambda own, real, ts: 1.0)


def test_temperature_experiment_rejects_plausible_wrong_answers():
    ex, temps, _ = _sweep()
    r = ex.evaluate(lambda own, real, ts: min(ts, key=own))  # the likeliest text, not the match
    assert r.status == "wrong" and "likeliest" in r.message and "Hint:" in r.message
    r = ex.evaluate(lambda own, real, ts: max(ts, key=own))
    assert r.status == "wrong" and "most surprising" in r.message
    r = ex.evaluate(lambda own, real, ts: own(1.0))           # a perplexity, not a temperature
    assert r.status == "wrong" and "not one of the temperatures" in r.message
    r = ex.evaluate(lambda own, real, ts: 1.3)
    assert r.status == "wrong" and "comes closer" in r.message
    assert ex.evaluate(lambda own, real, ts: None).status == "wrong"
    assert ex.evaluate(_stub).status == "not_done"
    assert ex.choose(_stub) is lesson05.reference_matching_temperature


def test_temperature_experiment_compares_on_a_log_scale():
    # own perplexities 2 and 8, human 4: equally far on a log scale, so both are accepted ...
    ex = lesson05.temperature_experiment(lambda t: {0.5: 2.0, 1.0: 8.0, 1.5: 30.0}[t], 4.0, (0.5, 1.0, 1.5))
    assert ex.evaluate(lambda own, real, ts: 0.5) and ex.evaluate(lambda own, real, ts: 1.0)
    # ... but with 3 and 6 vs human 4, the difference says 3, the ratio says 6 (4/3 > 6/4? no: 1.33 < 1.5)
    ex = lesson05.temperature_experiment(lambda t: {0.5: 2.5, 1.0: 6.0, 1.5: 30.0}[t], 4.0, (0.5, 1.0, 1.5))
    # |log 2.5 - log 4| = 0.47 > |log 6 - log 4| = 0.405: the ratio picks 1.0; the plain difference (1.5 < 2) picks 0.5
    assert ex.evaluate(lambda own, real, ts: 1.0)
    assert ex.evaluate(lambda own, real, ts: min(ts, key=lambda t: abs(own(t) - real))).status == "wrong"
    with pytest.raises(ValueError):
        lesson05.temperature_experiment(lambda t: 1.0, 1.0, (1.0, 2.0))


def test_quiz():
    quiz = lesson05.quiz
    assert 3 <= len(quiz.questions) <= 6
    assert quiz.check(lesson05.quiz_solution) == len(quiz.questions)
    wrong = {"q1": np.log(4.35), "q2": "c", "q3": "b", "q4": "b", "q5": "b", "q6": "d"}
    results = quiz.evaluate(wrong)
    assert not any(results)
    assert "loss" in results[1].message and "Gaussian" in results[3].message  # why_not for tempting options
    assert all(q.explanation for q in quiz.questions.values())
    assert quiz.evaluate({})[0].status == "not_done"
    assert quiz.questions["q1"].evaluate(np.exp(1.4697))


def test_notebook_quiz_answers_match_the_solution():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "solutions" / "05_tiny_gpt.ipynb").read_text())
    cell = next("".join(c["source"]) for c in nb["cells"] if "def my_answers" in "".join(c["source"]))
    answers = eval(re.search(r"return (\{.*\})", cell).group(1))
    assert answers == lesson05.quiz_solution


def test_mixed_training_set():
    ex = lesson06.mixed_training_set
    assert ex.evaluate(lesson06.reference_mixed_training_set)

    def floor_count(real, synthetic, lam, rng):  # keeps the real blocks in a fixed order: not random
        m = len(synthetic)
        k = int(round(lam * m))
        return np.concatenate([real[:k], synthetic[k:]])

    r = ex.evaluate(floor_count)
    assert r.status == "wrong" and "at random" in r.message

    def with_replacement(real, synthetic, lam, rng):
        m = len(synthetic)
        k = int(round(lam * m))
        return np.concatenate([real[rng.integers(0, len(real), k)], synthetic[rng.integers(0, m, m - k)]])

    assert ex.evaluate(with_replacement).status == "wrong"
    assert ex.evaluate(_stub).status == "not_done"


def test_distinct_n():
    ex = lesson06.distinct_n
    assert ex.evaluate(lesson06.reference_distinct_n)

    def averaged(texts, n):
        return float(np.mean([lesson06.reference_distinct_n([t], n) for t in texts]))

    r = ex.evaluate(averaged)
    assert r.status == "wrong" and "all* texts" in r.message
    assert ex.evaluate(_stub).status == "not_done"
