"""Checkers for lesson 04 (mixing real data).

Usage in the notebook::

    from collapse_kit.exercises import lesson04 as check
    check.accumulate_subsample(accumulate_subsample)
    check.replace_error(replace_error)
    check.accumulate_bound(accumulate_bound)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close
from ..regression import accumulate_bound as _bound
from ..regression import replace_law


# ----------------------------------------------------------------------------- exercise 1
def reference_accumulate_subsample(real, synthetic, sample_size, rng):
    """The training set of one ``accumulate_subsample`` generation (Kazdan et al. 2024).

    Pool the real data with every synthetic batch so far and draw ``sample_size``
    items from the pool *without replacement* (all of it if the pool is smaller).
    """
    pool = np.concatenate([np.asarray(real, dtype=float)] + [np.asarray(s, dtype=float) for s in synthetic])
    idx = rng.choice(len(pool), size=min(sample_size, len(pool)), replace=False)
    return pool[idx]


def _test_accumulate_subsample(fn) -> None:
    real = np.arange(10, dtype=float)                       # items 0..9 are real
    synthetic = [100 + np.arange(10.0), 200 + np.arange(10.0), 300 + np.arange(10.0)]
    out = fn(real.copy(), [s.copy() for s in synthetic], 10, np.random.default_rng(0))
    if out is None:
        raise CheckFailed("your function returned None: `return` the training set.")
    out = np.asarray(out, dtype=float)
    if out.ndim != 1 or len(out) != 10:
        if out.size == 40:
            raise CheckFailed("you returned the whole pool: that is `accumulate`. Draw `sample_size` "
                              "items from it.")
        raise CheckFailed(f"return `sample_size` = 10 items as a 1-D array (got shape {out.shape}).")
    pool = np.concatenate([real, *synthetic])
    if not np.all(np.isin(out, pool)):
        raise CheckFailed("some items are not in the pool: draw from the real data and the synthetic batches.")
    again = np.asarray(fn(real.copy(), [s.copy() for s in synthetic], 10, np.random.default_rng(0)), dtype=float)
    if not np.array_equal(out, again):
        raise CheckFailed("two calls with the same seed differ: draw with the `rng` argument "
                          "(e.g. `rng.choice(...)`), not `np.random`.")
    rng = np.random.default_rng(1)
    draws = np.array([np.asarray(fn(real, synthetic, 10, rng), dtype=float) for _ in range(600)])
    if any(len(np.unique(d)) < len(d) for d in draws):
        raise CheckFailed("an item was drawn twice in one training set: draw *without replacement* "
                          "(`replace=False`).")
    source = np.floor(draws / 100)  # 0 = real, 1..3 = synthetic batch
    shares = np.array([(source == k).mean() for k in range(4)])
    if shares[0] < 0.05:
        raise CheckFailed("no real items ever appear: the pool must include the real data, not only the "
                          "synthetic batches.")
    if shares[3] > 0.9:
        raise CheckFailed("almost everything comes from the newest batch: that is `replace`. Draw from "
                          "the whole pool (real + every synthetic batch).")
    if np.any(np.abs(shares - 0.25) > 0.05):
        raise CheckFailed(f"the pool is not drawn evenly (shares of real and each batch: "
                          f"{np.round(shares, 2).tolist()}, expected 0.25 each): every pooled item "
                          "should be equally likely.")
    small = np.asarray(fn(real[:3], [synthetic[0][:2]], 10, np.random.default_rng(2)), dtype=float)
    if len(small) != 5:
        raise CheckFailed("when the pool holds fewer items than `sample_size`, return the whole pool "
                          f"(5 items here, got {len(small)}).")


accumulate_subsample = Exercise(
    "accumulate-subsample training set",
    _test_accumulate_subsample,
    hint="`pool = np.concatenate([real, *synthetic])`, then "
         "`pool[rng.choice(len(pool), size=min(sample_size, len(pool)), replace=False)]`.",
    reference=reference_accumulate_subsample,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_replace_error(generation, sigma2, d, T):
    """Expected excess test error under ``replace``: σ²d/(T−d−1)·(generation + 1)."""
    return sigma2 * d / (T - d - 1) * (np.asarray(generation) + 1)


def _test_replace_error(fn) -> None:
    for g, s2, d, t in [(0, 1.0, 10, 50), (4, 0.5, 5, 20), (9, 2.0, 3, 8)]:
        got = fn(g, s2, d, t)
        want = replace_law(g, d, t, np.sqrt(s2))
        if got is not None and np.isclose(float(np.asarray(got)), want / (g + 1) * g):
            raise CheckFailed("off by one generation: generation 0 is already one fit (on real data), "
                              "so generation g has g + 1 fits' worth of noise.")
        if got is not None and np.isclose(float(np.asarray(got)), s2 * d / (t - d) * (g + 1)):
            raise CheckFailed("the denominator is T − d − 1, not T − d: E[(XᵀX)⁻¹] = I/(T − d − 1).")
        expect_close(got, want, rtol=1e-6, what=f"replace_error(generation={g}, sigma2={s2}, d={d}, T={t})")


replace_error = Exercise(
    "replace law",
    _test_replace_error,
    hint="one fit on real data has error σ²d/(T−d−1); each generation adds an independent error of the same size.",
    reference=reference_replace_error,
)


# ----------------------------------------------------------------------------- exercise 3
def reference_accumulate_bound(sigma2, d, T):
    """Upper bound of the accumulate error at every generation: (π²/6)·σ²d/(T−d−1)."""
    return np.pi**2 / 6 * sigma2 * d / (T - d - 1)


def _test_accumulate_bound(fn) -> None:
    for s2, d, t in [(1.0, 10, 50), (0.25, 4, 12), (3.0, 1, 5)]:
        got = fn(s2, d, t)
        want = _bound(d, t, np.sqrt(s2))
        if got is not None:
            v = float(np.asarray(got))
            if np.isclose(v, want * 6 / np.pi**2):
                raise CheckFailed("that is only the first generation's error: the accumulate errors add up "
                                  "as Σ 1/i², whose limit is π²/6.")
            if np.isclose(v, want * 6 / np.pi**2 * 2):
                raise CheckFailed("Σ 1/i (harmonic) would diverge; the errors shrink as 1/i², not 1/i, "
                                  "and Σ 1/i² = π²/6 ≈ 1.645.")
        expect_close(got, want, rtol=1e-6, what=f"accumulate_bound(sigma2={s2}, d={d}, T={t})")


accumulate_bound = Exercise(
    "accumulate bound",
    _test_accumulate_bound,
    hint="generation i contributes σ²d/(T−d−1)·1/i², and Σ_{i≥1} 1/i² = π²/6.",
    reference=reference_accumulate_bound,
)
