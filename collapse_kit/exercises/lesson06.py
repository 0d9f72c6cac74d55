"""Checkers for lesson 06 (recursive fine-tuning): mixing real data in, distinct-n, choosing the cheapest
real fraction from the learner's own grid of runs, and the end-of-lesson quiz."""
from __future__ import annotations

import numpy as np

import dataclasses

from ..checks import CheckFailed, Exercise, Question, Quiz, expect_close
from ..strategies import REAL_FRACTION


# --------------------------------------------------------------------------- the mixed training set
def reference_mixed_training_set(real, synthetic, real_fraction, rng):
    """``len(synthetic)`` blocks: ``round(λ·M)`` random real blocks, the rest random synthetic ones."""
    m = len(synthetic)
    k_real = int(round(real_fraction * m))
    real_idx = rng.choice(len(real), size=k_real, replace=False)
    syn_idx = rng.choice(m, size=m - k_real, replace=False)
    return np.concatenate([real[real_idx], synthetic[syn_idx]], axis=0)


def _test_mixed_training_set(fn) -> None:
    m, width = 40, 6
    real = np.arange(m * width).reshape(m, width) * 2          # even numbers: real blocks
    synthetic = np.arange(m * width).reshape(m, width) * 2 + 1  # odd numbers: generated blocks
    for lam in (0.0, 0.1, 0.25, 1.0):
        got = fn(real, synthetic, lam, np.random.default_rng(0))
        if got is None:
            raise CheckFailed("your function returned None; `return` the training set.")
        got = np.asarray(got)
        if got.shape != (m, width):
            raise CheckFailed(f"the training set must keep the size of the data set, {m} blocks of {width} tokens "
                              f"(got shape {got.shape}).")
        n_real = int(np.sum(got[:, 0] % 2 == 0))
        want = int(round(lam * m))
        if n_real != want:
            raise CheckFailed(f"with real_fraction={lam} and {m} blocks, {want} blocks should be real "
                              f"(got {n_real}).")
        rows = {tuple(r) for r in got}
        if len(rows) != m:
            raise CheckFailed("some blocks appear twice: draw without replacement (replace=False).")
    a = fn(real, synthetic, 0.25, np.random.default_rng(1))
    b = fn(real, synthetic, 0.25, np.random.default_rng(2))
    if np.array_equal(np.sort(a[:, 0]), np.sort(b[:, 0])):
        raise CheckFailed("different generators gave the same blocks: pick the real blocks at random with `rng`.")


mixed_training_set = Exercise(
    "the mixed training set",
    _test_mixed_training_set,
    hint="count first: how many of the M blocks are real, how many synthetic?",
    more_hints=("pick *which* real blocks with the generator you were given (`rng`), and never the same block "
                "twice (draw without replacement).",
                "two random index draws, one into `real` and one into `synthetic`; then stack the chosen rows "
                "along the first axis."),
    reference=reference_mixed_training_set,
)


# --------------------------------------------------------------------------- distinct-n
def reference_distinct_n(texts, n):
    """Unique word n-grams divided by all word n-grams, over all texts together."""
    from ..finetune import distinct_n

    return distinct_n(texts, n)


def _test_distinct_n(fn) -> None:
    texts = ["the cat sat on the mat", "the cat ran", "a dog sat on the mat"]
    for n in (1, 2, 3):
        got = fn(texts, n)
        if got is None:
            raise CheckFailed("your function returned None; `return` the fraction.")
        want = reference_distinct_n(texts, n)
        per_text = np.mean([reference_distinct_n([t], n) for t in texts])
        if not np.isclose(want, per_text) and np.isclose(got, per_text):
            raise CheckFailed("you averaged distinct-n over texts; count unique n-grams over *all* texts at once.")
        words = " ".join(texts).split()
        if n == 1 and np.isclose(got, len(set(words))):
            raise CheckFailed("divide the number of unique n-grams by the total number of n-grams.")
        expect_close(got, want, rtol=1e-9, what=f"distinct_n(texts, {n})")
    expect_close(fn(["la la la la"], 1), 0.25, what="distinct_n(['la la la la'], 1)")


distinct_n = Exercise(
    "distinct-n",
    _test_distinct_n,
    hint="count two things over all texts together: the n-grams, and the different n-grams.",
    more_hints=("an n-gram is n consecutive words of one text (never across two texts); a text of w words has "
                "w - n + 1 of them.",
                "tuples of words can go into a Python set, which keeps only the different ones."),
    reference=reference_distinct_n,
)


# --------------------------------------------------------------------------- exercise 3: the cheapest real fraction
def damage_removed(table, real_fraction: float) -> float:
    """Share of the λ = 0 arm's damage (rise − 1 of the real-test perplexity) that ``real_fraction`` removes."""
    rise = table.set_index(REAL_FRACTION)["rise"]
    d0 = float(rise.loc[0.0]) - 1.0
    return float("nan") if d0 <= 0 else 1.0 - (float(rise.loc[real_fraction]) - 1.0) / d0


def reference_cheapest_real_fraction(table):
    """The smallest computed λ whose rise (last / generation-0 real-test perplexity) removes at least half of
    the λ = 0 arm's rise; ``None`` when no computed λ does. ``table``: :func:`collapse_kit.finetune.final_rise`."""
    rise = table.set_index(REAL_FRACTION)["rise"].sort_index()
    if 0.0 not in rise.index:
        raise ValueError("the table needs the λ = 0 arm (the damage to compare with).")
    d0 = float(rise.loc[0.0]) - 1.0
    for lam, r in rise.items():
        if r - 1.0 <= d0 / 2:
            return float(lam)
    return None


def _cheapest_test(table):
    def test(fn) -> None:
        got = fn()
        want = reference_cheapest_real_fraction(table)
        lams = sorted(float(x) for x in table[REAL_FRACTION])
        shown = ", ".join(f"{x:g}" for x in lams)
        if got is None or want is None:
            if got is None and want is None:
                return
            if got is None:
                raise CheckFailed(f"at least one computed λ removes half of the damage: look again at the rises "
                                  f"of λ ∈ {{{shown}}}.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed("return one real fraction (a number such as 0.1), or None.") from None
        match = [x for x in lams if abs(x - got) < 1e-9]
        if not match:
            if got > 1:
                raise CheckFailed("that looks like a perplexity or a ratio; return the real fraction λ itself.")
            raise CheckFailed(f"return one of the real fractions the grid computed: {shown}.")
        if want is None:
            raise CheckFailed(f"with λ = {got:g} the real-test perplexity still rises by more than half of the "
                              "λ = 0 rise: here no computed λ meets the target, so return None.")
        if got == 0.0 and want != 0.0:
            raise CheckFailed("λ = 0 is the arm whose damage you are trying to halve.")
        share = damage_removed(table, got)
        if share < 0.5:
            raise CheckFailed(f"λ = {got:g} removes only {share:.0%} of the λ = 0 arm's rise; you need half.")
        if got > want:
            raise CheckFailed(f"λ = {got:g} does halve the damage, but real text is expensive: a smaller "
                              "computed λ already does.")
    return test


def cheapest_real_fraction_for(table) -> Exercise:
    """Exercise 3, bound to the learner's own grid (``table`` = :func:`collapse_kit.finetune.final_rise`).

    The candidate is a function of no arguments that returns the chosen λ (or ``None``). The checker
    recomputes the answer from the same table, so it holds for any run, seed and mode.
    """
    return dataclasses.replace(cheapest_real_fraction, test=_cheapest_test(table),
                               reference=lambda: reference_cheapest_real_fraction(table), attempts=[], hints_shown=0)


cheapest_real_fraction = Exercise(
    "the cheapest real fraction",
    lambda fn: (_ for _ in ()).throw(CheckFailed("use check.cheapest_real_fraction_for(rises)(your_function).")),
    hint="the damage of an arm is how far its rise is above 1 (no change); compare each arm's damage with the "
         "λ = 0 arm's.",
    more_hints=("half of the damage removed means: (rise of λ) − 1 ≤ ((rise of λ = 0) − 1) / 2.",
                "go through the computed λ from small to large and stop at the first that meets the target; "
                "return None if none does."),
)


# --------------------------------------------------------------------------- check your understanding
quiz = Quiz("Check your understanding · lesson 06", {
    "q1": Question(
        "Section 7: the data that generation 0 writes with beam search score a far *lower* perplexity under "
        "generation 0 than its sampled data do. Why?",
        options={"a": "generation 1 is a better model of human text than generation 0",
                 "b": "the decoder keeps the likeliest continuations and drops improbable ones, so the data lose "
                      "the tails of human text",
                 "c": "the generated data were part of generation 0's training set",
                 "d": "perplexity is averaged over fewer tokens for generated text"},
        answer="b",
        explanation="beam search (and low-temperature sampling) favours high-probability continuations, so the "
                    "data are likelier under the model that wrote them, not better: the tails vanish first "
                    "(lesson 02).",
        why_not={"a": "a better model would score lower perplexity on *real* test text; section 7 shows it rising.",
                 "c": "generation 0 trained on real blocks only; its continuations were written afterwards.",
                 "d": "every block has the same number of tokens (prompt_tokens)."}),
    "q2": Question(
        "Generation i + 1 of the paper's protocol (and of ours) fine-tunes which model on generation i's text?",
        options={"a": "generation i's fine-tuned model, trained further",
                 "b": "the pre-trained base model, from scratch each generation",
                 "c": "generation 0's model",
                 "d": "a randomly initialised model"},
        answer="b",
        explanation="each generation starts again from the pre-trained model (OPT-125m in the paper, the course's "
                    "base GPT here); only the training data carry the previous generation's influence.",
        why_not={"a": "that would be continual training; the paper re-fine-tunes the pre-trained model.",
                 "c": "generation 0 is only used to write generation 1's data and to score the data (Fig. 1).",
                 "d": "the base model is pre-trained: its pre-training never changes."}),
    "q3": Question(
        "Besides the real fraction, what else differs between the paper's two arms (Fig. 1b and 1c)?",
        options={"a": "nothing else",
                 "b": "the number of epochs: 5 with no original data, 10 with 10% kept",
                 "c": "the decoding: beam search in one arm, sampling in the other",
                 "d": "the base model"},
        answer="b",
        explanation="Shumailov et al. train 5 epochs per generation without original data and 10 epochs with a "
                    "random 10% kept; this lesson uses the same epochs in both arms, so its comparison isolates λ.",
        why_not={"a": "read the figure caption: the arms also differ in epochs.",
                 "c": "both arms continue prompts with 5-way beam search.",
                 "d": "both arms fine-tune OPT-125m."}),
    "q4": Question(
        "A training set has M = 256 blocks and the course's real fraction is λ = 0.05. How many blocks are real? "
        "(a number)",
        answer=13.0, tolerance=0.001,
        explanation="round(λ·M) = round(12.8) = 13 real blocks, 243 generated ones.",
        hint="the course's λ is the share of *real* items in each training set."),
    "q5": Question(
        "Alemohammad et al. (2024, MAD) also write λ. What is their λ?",
        answer="b",
        options={"a": "the course's real fraction: the share of real items in each training set",
                 "b": "a sampling bias: how strongly the generator favours typical, high-quality samples",
                 "c": "the number of generations before collapse"},
        explanation="MAD's λ tunes the sampler (quality against diversity), not the data mix; their real-data "
                    "knobs are whether real data is fixed or fresh, and how much (see the notation box).",
        why_not={"a": "that is this course's λ; the same letter means something else in their paper.",
                 "c": "no paper here names that λ."},
        hint="check what each paper's λ acts on: the data mix, or the sampler."),
})
