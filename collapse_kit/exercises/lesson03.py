"""Checkers for lesson 03 (images collapse).

Usage in the notebook::

    from collapse_kit.exercises import lesson03 as check
    check.kept_counts(kept_counts)
    check.spread(spread)
    check.smallest_real_fraction(smallest_real_fraction)
"""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


# ----------------------------------------------------------------------------- exercise 1
def reference_kept_counts(counts, imbalance):
    """Images kept per digit: round(counts[c] * imbalance ** (c / 9)), at least 1."""
    counts = np.asarray(counts, dtype=float)
    c = np.arange(counts.size)
    return np.maximum(1, np.round(counts * imbalance ** (c / (counts.size - 1)))).astype(int)


def _test_kept_counts(fn) -> None:
    counts = np.array([134, 137, 133, 137, 136, 137, 136, 134, 131, 135])
    for r in (0.5, 0.1, 0.02, 1.0):
        got = fn(counts.copy(), r)
        if got is None:
            raise CheckFailed("your function returned None: `return` the array of counts.")
        got = np.asarray(got)
        want = reference_kept_counts(counts, r)
        if got.shape != want.shape:
            raise CheckFailed(f"return one count per digit (shape {want.shape}), got shape {got.shape}.")
        if r < 1 and np.allclose(got, np.round(counts * r)):
            raise CheckFailed("you scaled every digit by the same `imbalance`; digit c keeps a fraction "
                              "imbalance ** (c / 9), so digit 0 keeps everything and digit 9 the least.")
        if r < 1 and np.allclose(got[::-1], want):
            raise CheckFailed("your order is reversed: digit 0 should keep all its images, digit 9 the fewest.")
        if not np.all(got >= 1):
            raise CheckFailed("keep at least one image of every digit (np.maximum(1, ...)).")
        expect_close(got, want, rtol=0, atol=0.5, what=f"the kept counts for imbalance = {r}")


kept_counts = Exercise(
    "images kept per digit",
    _test_kept_counts,
    hint="which digit keeps everything, and which keeps only a fraction `imbalance`? Write the fraction as a "
         "power of `imbalance` that goes from 0 to 1 as the digit goes from 0 to 9.",
    reference=reference_kept_counts,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_spread(mu):
    """Latent spread of encoded images mu (n, d): the per-dimension standard deviation across
    images, averaged over dimensions."""
    mu = np.asarray(mu, dtype=float)
    return float(mu.std(axis=0).mean())


def _test_spread(fn) -> None:
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(500, 4)) * np.array([1.0, 2.0, 0.5, 0.1]) + 3.0
    got = fn(mu.copy())
    if got is None:
        raise CheckFailed("your function returned None: `return` one number.")
    got = np.asarray(got, dtype=float)
    if got.size != 1:
        raise CheckFailed("return one number: average the per-dimension spreads over the dimensions.")
    want = reference_spread(mu)
    if np.isclose(got, mu.std(axis=1).mean()):
        raise CheckFailed("you took the standard deviation *within* each image's code (axis=1); take it "
                          "*across* images, for each latent dimension (axis=0).")
    if np.isclose(got, mu.var(axis=0).mean()):
        raise CheckFailed("that is the average *variance*; the spread uses the standard deviation.")
    if np.isclose(got, mu.std()):
        raise CheckFailed("that is the standard deviation of all numbers pooled together; compute it per "
                          "latent dimension (axis=0), then average.")
    expect_close(got, want, rtol=1e-6, what="the spread")
    expect_close(fn(np.ones((10, 3))), 0.0, atol=1e-12, what="the spread of identical codes")


spread = Exercise(
    "latent spread",
    _test_spread,
    hint="one standard deviation per latent dimension, taken over the images; then one number.",
    reference=reference_spread,
)


# ----------------------------------------------------------------------------- exercise 3
def reference_smallest_real_fraction(history, target, fresh=False):
    """The smallest real fraction λ of ``history`` (λ = 0 is replace; only the fixed or only the fresh arms)
    whose ``minority_share``, averaged over chains at the last generation, is at least ``target``;
    ``None`` if no λ reaches it."""
    h = history[history["metric"] == "minority_share"]
    h = h[(h["real_fraction"] == 0) | (h["fresh_real"] == bool(fresh))]
    last = h[h["generation"] == h["generation"].max()]
    final = last.groupby("real_fraction")["value"].mean().sort_index()
    ok = final[final >= target]
    return None if ok.empty else float(ok.index[0])


def _fake_history(finals_fixed, finals_fresh, generations=3):
    from ..history import concat, from_arrays
    from ..strategies import Strategy, real_fraction_grid

    frames = []
    for lam in sorted(finals_fixed):
        for fresh, finals in ((False, finals_fixed), (True, finals_fresh)):
            if lam == 0 and fresh:
                continue
            s = Strategy() if lam == 0 else real_fraction_grid([lam], fresh)[0]
            curve = np.linspace(0.1, finals[lam], generations + 1)
            other = np.linspace(0.9, 0.8, generations + 1)
            frames.append(from_arrays({"minority_share": np.stack([curve - 0.01, curve + 0.01]),
                                       "recognised": np.stack([other, other])}, strategy=s))
    return concat(frames)


def _test_smallest_real_fraction(fn) -> None:
    fixed = {0.0: 0.0, 0.2: 0.03, 0.5: 0.07, 0.8: 0.09}
    fresh = {0.0: 0.0, 0.2: 0.06, 0.5: 0.09, 0.8: 0.095}
    h = _fake_history(fixed, fresh)
    for target, fr in ((0.05, False), (0.05, True), (0.001, False), (0.2, False)):
        got = fn(h.copy(), target, fresh=fr)
        want = reference_smallest_real_fraction(h, target, fresh=fr)
        if want is None:
            if got is not None:
                raise CheckFailed(f"no real fraction reaches a target of {target}: return None.")
            continue
        if got is None:
            raise CheckFailed(f"a target of {target} is reached (by λ = {want:g}): return that λ, not None.")
        if not np.isclose(got, want):
            if np.isclose(got, reference_smallest_real_fraction(h, target, fresh=not fr) or -1):
                raise CheckFailed(f"with fresh={fr} use only the arms whose `fresh_real` is {fr} (λ = 0, replace, "
                                  "belongs to both).")
            ok = [lam for lam in sorted(fixed) if (fixed, fresh)[fr][lam] >= target]
            if ok and np.isclose(got, ok[-1]):
                raise CheckFailed("that is the *largest* λ that reaches the target; return the *smallest*.")
        expect_close(got, want, what=f"the smallest λ for a target of {target} (fresh={fr})")


smallest_real_fraction = Exercise(
    "the least real data that keeps the rare digits",
    _test_smallest_real_fraction,
    hint="filter the history to the metric, then to the last generation and to the arms you want "
         "(look at the `fresh_real` and `real_fraction` columns); average over chains per λ; which λ pass?",
    reference=reference_smallest_real_fraction,
)
