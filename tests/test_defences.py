"""Unit tests of collapse_kit.defences: filtering strategy, detectors, detection theory, verifier."""
import numpy as np
import pytest
from scipy import stats

from collapse_kit import defences as D
from collapse_kit.history import summarize, values
from collapse_kit.strategies import Strategy


def never(items, rng):
    return np.zeros(np.asarray(items).shape[:2], dtype=bool)


# --------------------------------------------------------------------------- drop_flagged / Filtered
def test_drop_flagged_keeps_unflagged_and_copies_kept_items_of_the_same_chain():
    rng = np.random.default_rng(0)
    items = np.arange(2 * 6, dtype=float).reshape(2, 6)
    flagged = np.array([[1, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 0]], dtype=bool)
    out = D.drop_flagged(items, flagged, rng)
    assert out.shape == items.shape
    assert np.array_equal(out[1], items[1])
    assert np.array_equal(out[0, ~flagged[0]], items[0, ~flagged[0]])
    assert set(out[0, flagged[0]]) <= set(items[0, ~flagged[0]])


def test_drop_flagged_without_flags_returns_the_items_and_all_flagged_chain_keeps_its_items():
    rng = np.random.default_rng(0)
    items = np.random.default_rng(1).normal(size=(3, 5))
    assert D.drop_flagged(items, np.zeros((3, 5), bool), rng) is items
    flagged = np.zeros((3, 5), bool)
    flagged[2] = True
    flagged[0, 0] = True
    out = D.drop_flagged(items, flagged, rng)
    assert np.array_equal(out[2], items[2])
    with pytest.raises(ValueError, match="one flag per item"):
        D.drop_flagged(items, np.zeros((3, 4), bool), rng)


def test_filtered_validates_and_names_itself():
    base = Strategy("real_fraction", 0.5, fresh_real=True)
    f = D.Filtered.wrap(base, never, "wm")
    assert f.label == base.label + " + wm" and f.key == base.key + "+wm" and f.base == base
    assert f.columns()["strategy"] == f.label and f.columns()["real_fraction"] == 0.5
    assert f.stream_key != base.stream_key
    with pytest.raises(ValueError, match="tag"):
        D.Filtered.wrap(base, never, "bad tag/")
    with pytest.raises(TypeError, match="detector"):
        D.Filtered.wrap(base, None)
    with pytest.raises(TypeError, match="plain Strategy"):
        D.Filtered.wrap(f, never)
    with pytest.raises(ValueError, match="train_size"):
        D.Filtered.wrap(base, never, train_size=0)


def test_filtered_train_size_keeps_unflagged_items_first():
    rng = np.random.default_rng(0)
    real = D.marked_source(lambda r, c, n: r.normal(size=(c, n)))(rng, 4, 10)
    synth = D.MarkedModel(_Const()).fit(real).sample(10, rng)
    f = D.Filtered.wrap(Strategy("real_fraction", 0.5), D.provenance_detector(1.0, 1.0, 0.0), "all", train_size=5)
    train = f.training_set(real, [synth], 10, rng)
    assert train.shape == (4, 5, 2)
    assert np.all(train[..., 1] == D.REAL)  # 5 real items exist: only they are kept
    with pytest.raises(ValueError, match="train_size"):
        D.Filtered.wrap(Strategy("replace"), never, train_size=11).training_set(real, [synth], 10, rng)


class _Const:
    def fit(self, data, rng=None):
        self.c = np.asarray(data).shape[0]
        return self

    def sample(self, n, rng):
        return np.full((self.c, n), 7.0)


# --------------------------------------------------------------------------- provenance detector
def test_provenance_detector_flags_at_its_rates():
    rng = np.random.default_rng(3)
    n = 200_000
    items = np.zeros((1, n, 2))
    items[0, n // 2:, 1] = D.SYNTHETIC
    flags = D.provenance_detector(0.5, 0.9, 0.02)(items, rng)[0]
    for got, want, k in ((flags[:n // 2].mean(), 0.02, n // 2), (flags[n // 2:].mean(), 0.5 * 0.9 + 0.5 * 0.02, n // 2)):
        assert abs(got - want) < 4 * np.sqrt(want * (1 - want) / k)
    with pytest.raises(ValueError, match="share"):
        D.provenance_detector(1.5, 0.9, 0.0)


def test_marked_model_validates_shapes():
    with pytest.raises(TypeError, match="inner"):
        D.MarkedModel(object())
    with pytest.raises(ValueError, match="n_chains, n_items, 2"):
        D.MarkedModel(_Const()).fit(np.zeros((2, 3)))


# --------------------------------------------------------------------------- detection theory
def test_detection_rate_without_watermark_is_the_false_positive_rate():
    t = 20_000
    fpr = D.detection_rate(t, 0.25, 0.25, 2.0)
    assert abs(fpr - stats.norm.sf(2.0)) < 0.003  # long texts: the binomial tail is the normal tail
    assert D.detection_rate(200, 0.25, D.green_probability(0.25, 2.0), 4.0) > 0.99
    assert D.detection_rate(10, 0.25, 0.25, 4.0) < 1e-3
    rates = D.detection_rate(np.array([10, 50, 200]), 0.25, 0.4, 4.0)
    assert np.all(np.diff(rates) > 0)  # longer texts are easier to detect
    with pytest.raises(ValueError, match="n_tokens"):
        D.detection_rate(0, 0.25, 0.25)


def test_detection_rate_matches_a_simulated_z_test():
    rng = np.random.default_rng(0)
    t, gamma, green, n = 50, 0.25, 0.38, 200_000
    counts = rng.binomial(t, green, size=n)
    z = (counts - gamma * t) / np.sqrt(t * gamma * (1 - gamma))
    want = D.detection_rate(t, gamma, green, 4.0)
    assert abs((z >= 4).mean() - want) < 4 * np.sqrt(want * (1 - want) / n)


def test_green_probability_and_attack():
    assert D.green_probability(0.25, 0.0) == pytest.approx(0.25)
    g = D.green_probability(0.25, 2.0)
    assert g == pytest.approx(0.25 * np.e**2 / (0.25 * np.e**2 + 0.75))
    assert D.attacked_green_probability(g, 0.25, 0.0) == pytest.approx(g)
    assert D.attacked_green_probability(g, 0.25, 1.0) == pytest.approx(0.25)
    assert D.attacked_green_probability(g, 0.25, 0.1, context_width=1) == pytest.approx(0.81 * g + 0.19 * 0.25)
    with pytest.raises(ValueError, match="delta"):
        D.green_probability(0.25, -1)


# --------------------------------------------------------------------------- ROC / AUC
def test_roc_and_auc():
    real, synth = np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0])
    assert D.auc(real, synth) == 1.0 and D.auc(synth, real) == 0.0
    assert D.auc(real, real) == pytest.approx(0.5)
    th, fpr, tpr = D.roc(real, synth)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    rng = np.random.default_rng(0)
    r = rng.normal(size=5000)
    t = D.threshold_for_fpr(r, 0.05)
    assert (r >= t).mean() <= 0.05 and (r >= np.nextafter(t, -np.inf) - 1e-3).mean() > 0.045
    with pytest.raises(ValueError, match="budget"):
        D.threshold_for_fpr(r, 2)


# --------------------------------------------------------------------------- verifier and the experiments
def test_verifier_detector_flags_large_residuals():
    center = np.array([[1.0, 0.0]])
    items = np.array([[[1.0, 0.0, 1.2], [1.0, 0.0, 2.0], [0.0, 1.0, -0.4]]])
    assert D.verifier_detector(center, 0.5)(items, None).tolist() == [[False, True, False]]
    with pytest.raises(ValueError, match="threshold"):
        D.verifier_detector(center, 0.0)
    with pytest.raises(ValueError, match="n_chains"):
        D.verifier_detector(center, 0.5)(np.zeros((2, 3, 3)), None)


def test_verifier_run_two_phases():
    h = D.verifier_run(biases=(0.2,), n_chains=200, generations=6, seed=1)
    arm = "replace + verifier-bias=0.2"
    err = values(h, "test error", arm)
    dist = values(h, "distance to center.verifier-bias=0.2", arm)
    se0 = (err[:, 0] - err[:, 1]).std() / np.sqrt(len(err))
    assert (err[:, 0] - err[:, 1]).mean() > 3 * se0  # near-term improvement
    assert dist[:, -1].mean() < 0.5 * dist[:, 0].mean()  # pulled to the verifier's centre ...
    assert dist[:, -1].mean() < err[:, -1].mean()  # ... which is not the truth
    assert values(h, "test error", "replace")[:, -1].mean() > 3 * err[:, -1].mean()  # unfiltered: collapse


def test_coordination_run_full_coordination_beats_none():
    h = D.coordination_run(shares=(0.0, 1.0), n_chains=200, generations=10, seed=2)
    s = summarize(h, "synthetic share").set_index(["strategy", "generation"])["mean"]
    labels = list(dict.fromkeys(h["strategy"].astype(str)))
    assert s[(labels[0], 10)] == pytest.approx(0.8, abs=0.03)  # the web is 80% synthetic
    assert s[(labels[-1], 10)] < 0.25
    w_none, w_full = (values(h, "W2²", lab)[:, -1] for lab in (labels[0], labels[-1]))
    se = np.sqrt(w_none.var() / len(w_none) + w_full.var() / len(w_full))
    assert w_none.mean() - w_full.mean() > 3 * se
    with pytest.raises(ValueError, match="human_share"):
        D.coordination_run(human_share=1.5)


# --------------------------------------------------------------------------- figures and explorers (headless)
def test_coordination_and_detector_explorers_redraw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from collapse_kit.explorers import coordination_explorer, detector_explorer

    e = coordination_explorer(n_chains=20, generations=3)
    assert e.last_error is None and e.last_result["tpr"] > 0.99
    e.controls["attack"].value = 0.5
    assert e.last_result["tpr"] < 0.5
    e.controls["human_share"].value = 1.0
    assert e.last_error is None
    assert np.all(values(e.last_result["history"], "synthetic share", e.last_result["history"]["strategy"].iloc[-1]) == 0)
    rng = np.random.default_rng(0)
    d = detector_explorer(rng.normal(size=300), rng.normal(2, 1, size=300))
    d.controls["threshold"].value = 1.0
    assert d.last_error is None and d.last_result["tpr"] > d.last_result["fpr"]
    assert len(d.figure.axes) == 2


# --------------------------------------------------------------------------- the notebook's asserts, over seeds
@pytest.mark.parametrize("seed", range(4))
def test_lesson07_fast_loop_asserts_hold_for_other_seeds(seed):
    """Lesson 07's asserts on the fast loop and the verifier, at quick-mode sizes, for several seeds (and a
    lower detection rate than the tiny GPT's, as a bigger model may give)."""
    coord = D.coordination_run((0.0, 0.5, 0.9, 1.0), tpr=0.9, fpr=1e-4, n_chains=200, generations=12, seed=seed)
    labels = list(dict.fromkeys(coord["strategy"].astype(str)))
    none, full = values(coord, "W2²", labels[0])[:, -1], values(coord, "W2²", labels[-1])[:, -1]
    assert none.mean() - full.mean() > 3 * np.sqrt(none.var() / len(none) + full.var() / len(full))
    ver = D.verifier_run(biases=(0.0, 0.2, 0.4), n_chains=300, generations=8, seed=seed)
    arm = "replace + verifier-bias=0.2"
    err, dist = values(ver, "test error", arm), values(ver, "distance to center.verifier-bias=0.2", arm)
    err0 = values(ver, "test error", "replace")[:, 0]
    d01 = err[:, 0] - err[:, 1]
    assert d01.mean() > 3 * d01.std() / np.sqrt(len(d01))
    assert dist[:, -1].mean() < 0.5 * dist[:, 0].mean()
    gap = err[:, -1] - dist[:, -1]
    assert gap.mean() > 3 * gap.std() / np.sqrt(len(gap))
    for b, sign in ((0.2, 1), (0.4, -1)):
        d = sign * (err0 - values(ver, "test error", f"replace + verifier-bias={b:g}")[:, -1])
        assert d.mean() > 3 * d.std() / np.sqrt(len(d)), b


def test_likelihood_detector_flags_by_score():
    from collapse_kit import gpt

    model = gpt.build_model(20, "tiny", seed=0)
    blocks = np.random.default_rng(0).integers(0, 20, size=(2, 3, 16))
    scores = -gpt.sequence_nll(model, blocks.reshape(-1, 16)).reshape(2, 3)
    cut = float(np.median(scores))
    flags = D.likelihood_detector(model, cut)(blocks)
    assert flags.shape == (2, 3) and np.array_equal(flags, scores >= cut)
    assert np.array_equal(D.likelihood_detector(model, -cut, direction=-1)(blocks), -scores >= -cut)
    with pytest.raises(ValueError, match="direction"):
        D.likelihood_detector(model, 0.0, direction=2)
