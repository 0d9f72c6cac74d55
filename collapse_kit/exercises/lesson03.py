"""Checkers for lesson 03 (images collapse).

Usage in the notebook::

    from collapse_kit.exercises import lesson03 as check
    check.smallest_imbalance(smallest_imbalance)
    check.rare_digit_effect(rare_digit_effect)
    check.smallest_real_fraction(smallest_real_fraction)
"""
from __future__ import annotations

import numpy as np

from ..strategies import REAL_FRACTION, WORKFLOWS

from ..checks import CheckFailed, Exercise, expect_close


# ----------------------------------------------------------------------------- section 1 (no exercise)
def reference_kept_counts(counts, imbalance):
    """Images kept per digit: round(counts[c] * imbalance ** (c / 9)), at least 1 (as ``I.load_digits``)."""
    counts = np.asarray(counts, dtype=float)
    c = np.arange(counts.size)
    return np.maximum(1, np.round(counts * imbalance ** (c / (counts.size - 1)))).astype(int)


# ----------------------------------------------------------------------------- exercise 1
R_GRID = tuple(float(r) for r in np.round(np.arange(0.02, 1.0001, 0.02), 2))


def reference_smallest_imbalance(min_images, grid=R_GRID, seed=0):
    """The smallest imbalance r of ``grid`` whose training set (``I.load_digits(r, seed=seed)``) holds at
    least ``min_images`` images of *every* digit; ``None`` if no r on the grid does."""
    from .. import images as I

    for r in sorted(grid):
        _, y = I.load_digits(r, seed=seed)
        if np.bincount(y, minlength=10).min() >= min_images:
            return float(r)
    return None


def _test_smallest_imbalance(fn) -> None:
    grid = R_GRID
    for min_images, seed in ((12, 0), (30, 0), (20, 1)):
        got = fn(min_images, grid, seed=seed)
        want = reference_smallest_imbalance(min_images, grid, seed=seed)
        if got is None:
            raise CheckFailed(f"for min_images = {min_images} some r on the grid works (r = 1 keeps every image): "
                              "return that r, not None.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"return one number, an imbalance r from the grid (got {type(got).__name__}).") from None
        if np.isclose(got, want):
            continue
        if np.isclose(got, max(grid)):
            raise CheckFailed("r = 1 (no imbalance) always works; the question is how *small* r may go: return the "
                              "smallest r on the grid that still works.")
        if np.isclose(got, reference_smallest_imbalance(min_images + 1, grid, seed=seed) or -1):
            raise CheckFailed(f"for min_images = {min_images} you need *at least* {min_images} images of every digit "
                              f"(>=), and your r gives more than that; a smaller r already has exactly {min_images}.")
        if np.isclose(got, min(grid)):
            raise CheckFailed("you returned the smallest r of the grid: count the digits of the *training* set "
                              "(`I.load_digits(r, seed=seed)`, part 'train'), not the pool, and look at the digit "
                              "with the *fewest* images.")
        if got < want:
            raise CheckFailed(f"for min_images = {min_images} (seed {seed}) r = {got:g} leaves some digit with fewer "
                              f"than {min_images} images. Which digit has the fewest, and did you pass `seed` on?")
        raise CheckFailed(f"for min_images = {min_images} (seed {seed}) a smaller r than {got:g} already keeps "
                          f"{min_images} images of every digit.")


smallest_imbalance = Exercise(
    "how rare can the rare digits be?",
    _test_smallest_imbalance,
    hint="try a few values of r: load the training set for each and count the images of every digit.",
    more_hints=("`np.bincount(labels, minlength=10)` counts the images per digit; the constraint is on the digit "
                "with the *fewest* images, whichever it is.",
                "go through the grid from small to large r and stop at the first r that passes; pass `seed` on "
                "to `I.load_digits`, and return None if nothing passes."),
    reference=reference_smallest_imbalance,
)


# ----------------------------------------------------------------------------- exercise 2
def reference_rare_digit_effect(x, y, model, rare=(7, 8, 9)):
    """The relative drop in latent spread (in ``model``'s latent space) when the digits ``rare`` are removed
    from the images ``x`` (labels ``y``): ``1 - spread(x without rare) / spread(x)``; negative if it grows."""
    from ..images import latent_spread

    x = np.asarray(x)
    keep = ~np.isin(np.asarray(y), list(rare))
    return float(1 - latent_spread(x[keep][None], model)[0] / latent_spread(x[None], model)[0])


class _FakeEncoder:
    """Stands in for generation 0's VAE in the checker: its 'code' is the first 3 pixels."""

    def encode(self, images):
        return np.asarray(images, dtype=float)[..., :3]


def _fake_images(rng):
    y = np.repeat(np.arange(10), [60, 50, 40, 30, 30, 30, 30, 8, 6, 5])
    centres = rng.normal(size=(10, 64))
    centres[7:] *= 6.0                                   # rare digits far out: removing them shrinks the spread
    return centres[y] + 0.5 * rng.normal(size=(y.size, 64)), y


def _test_rare_digit_effect(fn) -> None:
    from ..images import latent_spread

    rng = np.random.default_rng(3)
    model = _FakeEncoder()
    for rare in ((7, 8, 9), (9,)):
        x, y = _fake_images(rng)
        got = fn(x.copy(), y.copy(), model, rare=rare)
        if got is None:
            raise CheckFailed("your function returned None: `return` one number.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"return one number (got {type(got).__name__}).") from None
        want = reference_rare_digit_effect(x, y, model, rare)
        if np.isclose(got, want, rtol=1e-4, atol=1e-6):
            continue
        keep = ~np.isin(y, list(rare))
        s_all, s_without = latent_spread(x[None], model)[0], latent_spread(x[keep][None], model)[0]
        s_only = latent_spread(x[~keep][None], model)[0]
        if np.isclose(got, s_without / s_all, rtol=1e-4):
            raise CheckFailed("that is the ratio of the two spreads; return the relative *drop*, one minus it.")
        if np.isclose(got, -want, rtol=1e-4):
            raise CheckFailed("your sign is flipped: a spread that falls when the rare digits go should give a "
                              "*positive* drop.")
        if np.isclose(got, 1 - s_only / s_all, rtol=1e-4):
            raise CheckFailed("you kept *only* the rare digits; remove them and keep all the others.")
        if np.isclose(got, s_all - s_without, rtol=1e-4):
            raise CheckFailed("that is the absolute change; divide by the spread of all the images.")
        expect_close(got, want, rtol=1e-4, what=f"the relative drop in spread without the digits {rare}")


rare_digit_effect = Exercise(
    "do the rare digits carry the spread?",
    _test_rare_digit_effect,
    hint="measure the spread twice with the same encoder: once on all the images, once on the images that "
         "are not rare digits.",
    more_hints=("`np.isin(y, rare)` marks the rare digits' images; `I.latent_spread` wants a chain axis in "
                "front (`images[None]`) and returns one value per chain.",
                "return one number, the relative change: one minus (the spread without the rare digits over the "
                "spread of all); it is positive when removing them makes the spread smaller."),
    reference=reference_rare_digit_effect,
)


# ----------------------------------------------------------------------------- exercise 3
def reference_smallest_real_fraction(history, target, fresh=False):
    """The smallest real fraction λ of ``history`` (λ = 0 is replace; only the fixed or only the fresh arms)
    whose ``minority_share``, averaged over chains at the last generation, is at least ``target``;
    ``None`` if no λ reaches it."""
    h = history[history["metric"] == "minority_share"]
    h = h[(h[REAL_FRACTION] == 0) | (h["fresh_real"] == bool(fresh))]
    last = h[h["generation"] == h["generation"].max()]
    final = last.groupby(REAL_FRACTION)["value"].mean().sort_index()
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


# ----------------------------------------------------------------------------- check your understanding
from ..checks import Question, Quiz  # noqa: E402

quiz = Quiz("Lesson 03", {
    "q1": Question("Generation 0 draws digit 9 almost never. What can you conclude about model collapse?",
                   "b", "A digit the first model never learned is under-fitting, not forgetting; check generation "
                   "0 against the real data before blaming the recursion.",
                   options={"a": "the recursion already erased it", "b": "nothing yet: the model never learned it",
                            "c": "the judge is broken"},
                   hint="collapse is about what changes from one generation to the next."),
    "q2": Question("Why does this lesson draw latent codes from a mixture fitted to the training codes rather "
                   "than from N(0, I)?", "a", "The prior puts mass between the digits and little on a digit seen "
                   "about a dozen times; the fitted mixture follows where the training images really are.",
                   options={"a": "so the model draws each digit about as often as the data holds it",
                            "b": "it makes training faster", "c": "the paper did so"}),
    "q3": Question("Under replace, what happens to the latent spread of the samples, measured with generation "
                   "0's encoder?", "c", "Each generation reproduces the typical images of its training set a "
                   "little better than the unusual ones; the variety shrinks, as the variance did in lesson 01.",
                   options={"a": "it grows", "b": "it stays the same", "c": "it shrinks"}),
    "q4": Question("Shumailov et al.'s stored spreads are 0.674 and 0.433 four retrainings later. What is the "
                   "geometric-mean ratio per retraining? (a number)", (0.433 / 0.674) ** 0.25,
                   "(0.433/0.674)^(1/4) ≈ 0.895: about a 10% drop per retraining.", tolerance=0.01,
                   hint="four equal factors multiply to the overall ratio."),
    "q5": Question("Which measurements showed, chain by chain, that keeping half real digits helps?", "c",
                   "Both real-data arms end more spread out, sharper and closer to the real mix of digits than "
                   "replace. The share of 7-9 is too noisy with a dozen images per digit per training set, and "
                   "replace's typical digits are recognised as often as any.",
                   options={"a": "the share of the rare digits 7-9", "b": "the judge's recognised share",
                            "c": "the spread, the sharpness and the distance from the real mix of digits"}),
})

#: the answers the solution notebook gives
quiz_solution = {"q1": "b", "q2": "a", "q3": "c", "q4": 0.895, "q5": "c"}
