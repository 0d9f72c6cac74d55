import numpy as np

from collapse_kit.exercises import lesson05, lesson06


def _stub(*args, **kwargs):
    raise NotImplementedError()


def test_perplexity_from_loss():
    ex = lesson05.perplexity_from_loss
    assert ex.evaluate(lambda loss: np.exp(loss))
    r = ex.evaluate(lambda loss: 2 ** loss)
    assert r.status == "wrong" and "natural log" in r.message
    assert ex.evaluate(lambda loss: 1 / max(loss, 1e-9)).status == "wrong"
    assert ex.evaluate(_stub).status == "not_done"
    assert ex.choose(_stub)(1.0) == np.exp(1.0)


def test_next_token_probs():
    ex = lesson05.next_token_probs
    assert ex.evaluate(lesson05.reference_next_token_probs)

    def no_temperature(logits, temperature=1.0, top_k=None):
        return lesson05.reference_next_token_probs(logits, 1.0, top_k)

    r = ex.evaluate(no_temperature)
    assert r.status == "wrong" and "divide the logits" in r.message

    def not_renormalised(logits, temperature=1.0, top_k=None):
        p = lesson05.reference_next_token_probs(logits, temperature, None)
        if top_k is not None:
            p = np.where(p >= np.sort(p)[-top_k], p, 0.0)
        return p

    r = ex.evaluate(not_renormalised)
    assert r.status == "wrong" and "sum to" in r.message
    assert ex.evaluate(_stub).status == "not_done"


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
