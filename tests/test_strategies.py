"""The strategy module: one meaning per name, batched training sets, subset draws."""
import numpy as np
import pytest

from collapse_kit.strategies import (NAMES, WORKFLOWS, Strategy, make_strategy, real_fraction_grid, strategy_list,
                                     subset)

C, M = 3, 10
REAL = np.arange(C * M, dtype=float).reshape(C, M)          # chain c's real items: 10c .. 10c+9
SYN = [np.full((C, M), 100.0), np.full((C, M), 200.0)]


def test_replace_trains_on_the_last_samples_only():
    out = Strategy("replace").training_set(REAL, SYN, M, np.random.default_rng(0))
    assert out.shape == (C, M) and np.all(out == 200)


def test_accumulate_pools_all_real_and_all_synthetic_samples():
    out = Strategy("accumulate").training_set(REAL, SYN, M, np.random.default_rng(0))
    assert out.shape == (C, 3 * M)
    for c in range(C):
        assert sorted(out[c]) == sorted(list(REAL[c]) + [100.0] * M + [200.0] * M)


def test_accumulate_subsample_draws_m_distinct_items_of_each_chains_pool():
    out = Strategy("accumulate_subsample").training_set(REAL, SYN, M, np.random.default_rng(0))
    assert out.shape == (C, M)
    for c in range(C):
        real_part = out[c][out[c] < 100]
        assert set(real_part) <= set(REAL[c]) and len(set(real_part)) == len(real_part)  # no repeats


@pytest.mark.parametrize("lam, k", [(0.0, 0), (0.3, 3), (0.25, 2), (0.35, 4), (1.0, 10)])
def test_real_fraction_keeps_round_lambda_m_real_items(lam, k):
    s = Strategy("real_fraction", lam)
    assert s.k_real(M) == k == int(round(lam * M))
    out = s.training_set(REAL, SYN, M, np.random.default_rng(1))
    assert out.shape == (C, M)
    for c in range(C):
        real_part = out[c][out[c] < 100]
        assert len(real_part) == k and set(real_part) <= set(REAL[c]) and np.sum(out[c] == 200) == M - k


def test_fresh_real_draws_new_items_from_the_sampler():
    s = Strategy("real_fraction", 0.5, fresh_real=True)
    out = s.training_set(REAL, SYN, M, np.random.default_rng(0), lambda rng, c, n: np.full((c, n), -1.0))
    assert np.all(np.sum(out == -1, axis=1) == 5)
    with pytest.raises(ValueError, match="real_sampler"):
        s.training_set(REAL, SYN, M, np.random.default_rng(0))


def test_items_with_shape_keep_their_rows_together():
    real = np.stack([REAL, -REAL], axis=-1)               # items are pairs (x, -x)
    syn = [np.stack([s, -s], axis=-1) for s in SYN]
    for s in WORKFLOWS:
        out = s.training_set(real, syn, M, np.random.default_rng(0))
        assert out.shape[0] == C and out.shape[2] == 2 and np.all(out[..., 0] == -out[..., 1])


def test_labels_keys_and_columns_are_distinct_and_meaningful():
    strategies = list(WORKFLOWS) + real_fraction_grid([0.0, 0.5], fresh_real=True)
    assert len({s.label for s in strategies}) == len({s.key for s in strategies}) == len(strategies)
    assert Strategy("real_fraction", 0.1).label == "real fraction 0.1 (fixed)"
    assert Strategy("replace").columns()["real_fraction"] == 0.0
    assert np.isnan(Strategy("accumulate").columns()["real_fraction"])
    assert Strategy("accumulate").keeps_pool and not Strategy("replace").uses_real
    assert Strategy("real_fraction", 0.05).effective_real_fraction(10) == 0.0  # round(0.5) = 0 items
    assert [Strategy(n).training_size(2, 50, 10) for n in ("replace", "accumulate")] == [10, 70]


def test_validation_names_the_parameter():
    with pytest.raises(ValueError, match="strategy"):
        Strategy("mix")
    with pytest.raises(ValueError, match=r"real_fraction.*\[0.0, 1.0\]"):
        Strategy("real_fraction", 2.0)
    with pytest.raises(ValueError, match="only applies"):
        Strategy("accumulate", 0.5)
    with pytest.raises(TypeError, match="fresh_real"):
        Strategy("real_fraction", 0.5, fresh_real=1)
    with pytest.raises(ValueError, match="twice"):
        strategy_list(["replace", Strategy("replace")])
    assert make_strategy(real_fraction=0.1) == Strategy("real_fraction", 0.1)
    assert [s.name for s in strategy_list(NAMES[:3])] == list(NAMES[:3])


def test_subset_is_uniform_and_per_chain():
    data = np.tile(np.arange(10), (2000, 1))[:, :, None]
    out = subset(data, 3, np.random.default_rng(0))[..., 0]
    assert out.shape == (2000, 3)
    assert all(len(set(row)) == 3 for row in out[:50])
    counts = np.bincount(out.ravel(), minlength=10) / out.size
    assert np.allclose(counts, 0.1, atol=0.01)  # 6000 draws: standard error 0.004
    assert len({tuple(sorted(r)) for r in out[:50]}) > 25  # chains draw different subsets
    with pytest.raises(ValueError, match="n_chains, n_items"):
        subset(np.arange(3), 1, np.random.default_rng(0))
    assert subset(data[:2], 20, np.random.default_rng(0)).shape == (2, 20, 1)  # k > N: with replacement
