"""Discrete distributions in the generational loop: rare categories vanish first.

A *categorical model* (:class:`CategoricalModel`) is a probability vector over ``K``
categories (word types) per chain. Fitting it means counting (the maximum-likelihood
estimate); sampling draws ``M`` codes. It runs in :func:`collapse_kit.loop.run_generations`
with any :class:`~collapse_kit.strategies.Strategy`. Under ``replace`` each generation's
model is the empirical distribution of the previous generation's ``M`` draws (the discrete
case of Shumailov et al., Nature 2024, §3), so:

* a category of probability ``q`` survives one generation with probability
  ``1 - (1 - q)**M`` (:func:`survival_probability`); the expected number of
  categories still alive after one generation is ``sum_i 1 - (1 - q_i)**M``
  (:func:`expected_survivors`);
* a category that reaches probability 0 never comes back (an *absorbing state*);
  the chain ends with all mass on one category (a delta);
* the collision probability ``S = sum_i p_i**2`` obeys, in expectation over the
  chains, ``E[S_m] = 1 - (1 - 1/M)**m (1 - S_0)`` (:func:`seddik_collision`; Seddik et al.
  2024, "How bad is training on synthetic data?").

Metrics for the loop (:func:`loop_metrics`) and an ``on_generation`` hook that records when
each category dies (:class:`ExtinctionTracker`, read by :func:`extinction_table`).

The last part is "A Tale of Tails" (Dohmatob et al. 2024): a *memorising*
learner trained on ``T`` samples of a Zipf(β) law whose tail is cut at rank
``k`` errs with probability ≍ ``T**-(1 - 1/β) + k**-(β - 1)``
(:func:`tail_cut_error`, :func:`simulate_tail_cut`, :func:`dohmatob_law`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gamma as _gamma

from ._validate import check_array, check_float, check_fraction, check_int, check_probabilities, check_rng


def check_counts(name: str, counts) -> np.ndarray:
    """Non-negative, finite, whole-number counts (1-D) with a positive total."""
    arr = check_array(name, counts, ndim=1)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be non-negative counts (found {arr.min():.3g}).")
    if not np.allclose(arr, np.round(arr)):
        raise ValueError(f"`{name}` must hold whole numbers (counts of items).")
    if arr.sum() <= 0:
        raise ValueError(f"`{name}` must have a positive total (all counts are 0).")
    return np.round(arr).astype(np.int64)


# --------------------------------------------------------------------------- closed forms
def survival_probability(q, sample_size: int):
    """Probability that a category of probability ``q`` appears at least once in
    ``sample_size`` (M) independent draws: ``1 - (1 - q)**M``.

    ``q`` may be an array. A category that does not appear gets probability 0 in
    the next generation's fitted model and is lost for good.
    """
    m = check_int("sample_size", sample_size, low=1)
    q = check_array("q", q, ndim=(0, 1), min_len=0)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("`q` must be probabilities in [0, 1].")
    with np.errstate(divide="ignore"):
        out = -np.expm1(m * np.log1p(-np.minimum(q, 1.0)))  # 1 - (1-q)^M, accurate for tiny q
    out = np.where(q >= 1.0, 1.0, out)
    return float(out) if np.ndim(out) == 0 else out


def expected_survivors(p, sample_size: int) -> float:
    """Expected number of categories alive after one generation of ``M`` draws from ``p``:
    ``sum_i 1 - (1 - p_i)**M``."""
    p = check_probabilities("p", p, atol=1e-6)
    return float(np.sum(survival_probability(p, sample_size)))


def entropy(p, base: float = 2.0) -> float:
    """Shannon entropy of a probability vector (bits by default); 0·log 0 = 0."""
    p = check_probabilities("p", p, atol=1e-6)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum() / np.log(base))


def collision_probability(p) -> float:
    """``S = sum_i p_i**2``: the chance that two independent draws are the same category."""
    p = check_probabilities("p", p, atol=1e-6)
    return float(np.sum(p * p))


def seddik_collision(s0: float, sample_size: int, generations) -> np.ndarray:
    """Expected collision probability after ``m`` generations of fully synthetic
    training with ``n = sample_size`` draws each (Seddik et al. 2024):

    ``E[S_m] = 1 - (1 - 1/n)**m (1 - S_0)``.

    Exact for the *expectation* (over chains) when every generation is the maximum-likelihood
    (counting) fit to ``n`` independent draws from the previous model, with no real data: then
    ``E[S_{m+1} | p] = S_m + (1 - S_m)/n``. A single chain's ``S_m`` is random and tends to 1
    (a single category). For a trained network (smoothed, not exactly the empirical counts)
    it is an idealisation.
    """
    s0 = check_fraction("s0", s0)
    n = check_int("sample_size", sample_size, low=1)
    g = np.asarray(generations, dtype=float)
    if np.any(g < 0):
        raise ValueError("`generations` must be >= 0.")
    return 1.0 - (1.0 - 1.0 / n) ** g * (1.0 - s0)


# --------------------------------------------------------------------------- the model
class CategoricalModel:
    """A categorical distribution over integer codes ``0..K-1`` per chain, batched over chains.

    ``fit`` counts each chain's codes (the maximum-likelihood estimate ``counts / N``);
    ``sample`` draws codes from it. Data are integer arrays of shape ``(n_chains, N)``.

    Drawing from ``counts / N`` is the same as drawing training items uniformly with
    replacement, which is how :meth:`sample` does it (its cost does not grow with ``K``).
    ``probs_`` gives the dense probabilities ``(n_chains, K)`` (an offset ``bincount``).
    Chains that share one data set (``numpy.broadcast_to``, as the loop passes one real set
    to every chain) are counted once.

    Parameters
    ----------
    n_categories : int >= 1
    """

    def __init__(self, n_categories: int):
        self.n_categories = check_int("n_categories", n_categories, low=1)
        self.data_: np.ndarray | None = None
        self._summary: dict = {}
        self._probs = None

    def fit(self, data, rng=None) -> "CategoricalModel":
        codes = np.asarray(data)
        if codes.ndim != 2 or codes.shape[1] < 1 or codes.dtype.kind not in "iu":
            raise ValueError(f"`data` must be integer codes of shape (n_chains, N >= 1) "
                             f"(got dtype {codes.dtype}, shape {codes.shape}).")
        rows = codes[:1] if codes.strides[0] == 0 else codes
        if rows.min() < 0 or rows.max() >= self.n_categories:
            raise ValueError(f"`data` must hold codes in [0, {self.n_categories - 1}] "
                             f"(found {rows.min()}..{rows.max()}).")
        self.data_, self._summary, self._probs = codes, {}, None
        return self

    def _check_fitted(self):
        if self.data_ is None:
            raise RuntimeError("call fit() before using the model.")

    @property
    def shared(self) -> bool:
        """Whether every chain holds the same data (a broadcast array)."""
        self._check_fitted()
        return self.data_.strides[0] == 0

    @property
    def probs_(self) -> np.ndarray:
        """Fitted probabilities, shape ``(n_chains, K)``."""
        self._check_fitted()
        if self._probs is None:
            rows = self.data_[:1] if self.shared else self.data_
            c, n = rows.shape
            flat = rows.astype(np.int64) + (np.arange(c, dtype=np.int64) * self.n_categories)[:, None]
            counts = np.bincount(flat.ravel(), minlength=c * self.n_categories).reshape(c, self.n_categories)
            self._probs = np.broadcast_to(counts / n, (len(self.data_), self.n_categories))
        return self._probs

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` codes per chain, shape ``(n_chains, n)``."""
        self._check_fitted()
        n = check_int("n", n, low=1)
        c, size = self.data_.shape
        idx = rng.integers(0, size, size=(c, n))
        if self.shared:
            return self.data_[0][idx]
        return np.take_along_axis(self.data_, idx, axis=1)

    def _nonzero(self):
        """(chain, code, count) of every category with a positive count."""
        rows = self.data_[:1] if self.shared else self.data_
        c, n = rows.shape
        flat = np.sort(rows, axis=1).ravel()
        chain = np.repeat(np.arange(c), n)
        new = np.ones(flat.size, dtype=bool)
        new[1:] = (flat[1:] != flat[:-1]) | (chain[1:] != chain[:-1])
        starts = np.flatnonzero(new)
        return chain[starts], flat[starts], np.diff(np.append(starts, flat.size))

    def summary(self, sample_size: int | None = None) -> dict:
        """Per chain: ``alive`` (categories with positive probability), ``entropy`` (bits),
        ``collision`` (Σp²), ``top category`` (the most likely code) and, given ``M =
        sample_size``, ``predicted alive`` (``Σ 1 - (1 - p_i)**M``: the expected number alive
        after the next generation's ``M`` draws). Arrays of shape ``(n_chains,)``."""
        self._check_fitted()
        key = None if sample_size is None else check_int("sample_size", sample_size, low=1)
        if key not in self._summary:
            chain, code, count = self._nonzero()
            c = int(chain[-1]) + 1
            p = count / self.data_.shape[1]
            out = {"alive": np.bincount(chain, minlength=c).astype(float),
                   "entropy": -np.bincount(chain, weights=p * np.log2(p), minlength=c),
                   "collision": np.bincount(chain, weights=p * p, minlength=c)}
            order = np.lexsort((-code, count, chain))  # per chain, the largest count last (ties: smallest code)
            last = np.flatnonzero(np.append(chain[order][1:] != chain[order][:-1], True))
            out["top category"] = code[order][last].astype(float)
            if key is not None:
                with np.errstate(divide="ignore"):
                    out["predicted alive"] = np.bincount(chain, weights=-np.expm1(key * np.log1p(-p)), minlength=c)
            if self.shared:
                out = {k: np.repeat(v, len(self.data_)) for k, v in out.items()}
            self._summary[key] = out
        return self._summary[key]

    @property
    def n_alive(self) -> np.ndarray:
        return self.summary()["alive"]


def _model_summary(ctx, sample_size=None):
    if ctx.model is None:
        raise ValueError("this generation was restored from a store without its model; its metrics are stored.")
    return ctx.model.summary(sample_size)


def loop_metrics() -> dict:
    """Metrics for :func:`~collapse_kit.loop.run_generations` with a :class:`CategoricalModel`
    (see :meth:`CategoricalModel.summary`). ``predicted alive`` uses the run's ``M``."""
    names = ("alive", "entropy", "collision", "top category")
    out = {name: (lambda ctx, name=name: _model_summary(ctx)[name]) for name in names}
    out["predicted alive"] = lambda ctx: _model_summary(ctx, ctx.samples.shape[1])["predicted alive"]
    return out


class ExtinctionTracker:
    """An ``on_generation`` hook for :func:`~collapse_kit.loop.run_generations` that records, for
    every chain and category, the last generation in which the category was alive.

    Parameters
    ----------
    n_categories : int >= 1

    Examples
    --------
    >>> tracker = ExtinctionTracker(K)                                   # doctest: +SKIP
    >>> run_generations(..., on_generation=tracker)                     # doctest: +SKIP
    >>> tracker.extinct_at(Strategy().label)   # (chains, K)            # doctest: +SKIP
    """

    def __init__(self, n_categories: int):
        self.n_categories = check_int("n_categories", n_categories, low=1)
        self.last_alive: dict = {}   # (strategy label, seed) -> int32 array (n_chains, K)
        self.generations: dict = {}  # (strategy label, seed) -> last generation seen

    def __call__(self, ctx) -> None:
        if ctx.model is None:
            raise ValueError("ExtinctionTracker needs the fitted model of every generation (run without a "
                             "store, or with a fresh one).")
        key = (ctx.strategy.label, ctx.seed)
        c = ctx.n_chains
        last = self.last_alive.setdefault(key, np.full((c, self.n_categories), -1, dtype=np.int32))
        chain, code, _ = ctx.model._nonzero()
        if ctx.model.shared:
            last[:, code] = ctx.generation
        else:
            last[chain, code] = ctx.generation
        self.generations[key] = max(self.generations.get(key, 0), ctx.generation)

    def _keys(self, strategy):
        labels = list(dict.fromkeys(k[0] for k in self.last_alive))
        if not labels:
            raise ValueError("the tracker has seen no generation yet: pass it as `on_generation=`.")
        if strategy is None:
            if len(labels) > 1:
                raise ValueError(f"the tracker saw several strategies: pass `strategy=` one of {labels}.")
            strategy = labels[0]
        label = getattr(strategy, "label", strategy)
        if label not in labels:
            raise ValueError(f"`strategy` must be one of {labels} (got {label!r}).")
        return [k for k in self.last_alive if k[0] == label]

    def final_generation(self, strategy=None) -> int:
        return self.generations[self._keys(strategy)[0]]

    def extinct_at(self, strategy=None) -> np.ndarray:
        """Per chain (every seed's chains stacked) and category, the generation from which the
        category is gone for good (0 if it never existed); ``G + 1`` if alive at the last
        generation ``G``. Shape ``(chains, K)``."""
        keys = self._keys(strategy)
        g = self.generations[keys[0]]
        last = np.concatenate([self.last_alive[k] for k in keys])
        return np.where(last >= g, g + 1, last + 1)

    def survival_curve(self, strategy=None) -> np.ndarray:
        """Fraction of chains in which each category is not yet gone for good, per generation:
        array ``(G + 1, K)``."""
        ext = self.extinct_at(strategy)
        g = np.arange(self.final_generation(strategy) + 1)[:, None, None]
        return (ext[None] > g).mean(axis=1)


def extinction_table(tracker: ExtinctionTracker, words, counts, *, strategy=None, chain: int = 0,
                     n_examples: int = 4, bins=(1, 2, 4, 11, 101, 1001, None)) -> pd.DataFrame:
    """Which words go first: for frequency bands of the real counts, the median
    generation at which the words of that band vanished (over all chains), the
    share lost by the end, and a few real example words lost first in ``chain``.

    Parameters
    ----------
    tracker : ExtinctionTracker that watched a run started from ``counts``
    words : sequence of K words (same order as ``counts``)
    counts : K real counts
    strategy : the strategy (or its label) to read, if the run had several
    bins : band edges on the real count; ``None`` means no upper edge.
    """
    counts = check_counts("counts", counts)
    ext_all = tracker.extinct_at(strategy)
    words = np.asarray(list(words), dtype=object)
    if words.size != counts.size or counts.size != ext_all.shape[1]:
        raise ValueError("`words`, `counts` and the tracker must have the same number of categories.")
    chain = check_int("chain", chain, low=0, high=ext_all.shape[0] - 1)
    n_examples = check_int("n_examples", n_examples, low=1)
    never = tracker.final_generation(strategy) + 1
    rows = []
    edges = list(bins)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (counts >= lo) & (counts < (hi if hi is not None else np.inf))
        if not sel.any():
            continue
        ext = ext_all[:, sel]
        lost = ext < never
        med = np.median(np.where(lost, ext, np.inf))
        idx = np.flatnonzero(sel)
        first = idx[np.argsort(ext_all[chain, idx], kind="stable")][:n_examples]
        band = f"{lo}" if hi == lo + 1 else (f"{lo}–{hi - 1}" if hi is not None else f"≥ {lo}")
        rows.append({"real count": band, "words": int(sel.sum()),
                     "share of corpus": float(counts[sel].sum() / counts.sum()),
                     "lost by the end": float(lost.mean()),
                     "median generation lost": (float(med) if np.isfinite(med) else np.nan),
                     f"first lost in chain {chain}": ", ".join(
                         f"{w} (g{e})" if e < never else f"{w} (alive)"
                         for w, e in zip(words[first], ext_all[chain, first]))})
    return pd.DataFrame(rows)


def codes_from_counts(counts, dtype=np.int32) -> np.ndarray:
    """The data set behind ``counts``: code ``i`` repeated ``counts[i]`` times (shape ``(N,)``)."""
    counts = check_counts("counts", counts)
    return np.repeat(np.arange(counts.size, dtype=dtype), counts)


# --------------------------------------------------------------------------- A Tale of Tails
def zipf_probs(n: int, beta: float) -> np.ndarray:
    """Zipf law on ranks 1..n: ``p_i ∝ i**-beta`` (normalised)."""
    n = check_int("n", n, low=1)
    beta = check_float("beta", beta, low=1.0, low_open=True)
    p = np.arange(1, n + 1, dtype=float) ** -beta
    return p / p.sum()


def cut_tail(p, k: int) -> np.ndarray:
    """Keep the ``k`` most likely categories (ranks 1..k of a sorted law) and renormalise:
    what a model that never generates its tail produces."""
    p = check_probabilities("p", p, atol=1e-6)
    k = check_int("k", k, low=1, high=p.size)
    q = np.zeros_like(p)
    q[:k] = p[:k]
    return q / q.sum()


def tail_cut_error(p, k: int, train_size) -> np.ndarray:
    """Exact expected test error of the memorising learner (Dohmatob et al. 2024, after Hutter 2021).

    The learner is trained on ``T`` items drawn from the tail-cut law ``q =
    cut_tail(p, k)`` and answers a test item correctly iff it saw it in training.
    Test items come from the real law ``p``. Its expected error is

    ``E(T, k) = sum_{i <= k} p_i (1 - q_i)**T + sum_{i > k} p_i``;

    the second term, the *tail mass*, is a floor that no amount of data removes.
    """
    p, u = _unseen(p, k, train_size)
    out = (p[None, :k] * u).sum(axis=1) + p[k:].sum()
    return out if np.ndim(train_size) else float(out[0])


def _unseen(p, k: int, train_size):
    """``(p, u)``: ``u[t, i] = (1 - q_i)**T_t``, the probability that kept word i is never drawn in ``T_t``
    draws from the tail-cut law ``q = cut_tail(p, k)`` (shape ``(len(T), k)``)."""
    p = check_probabilities("p", p, atol=1e-6)
    q = cut_tail(p, k)
    t = np.atleast_1d(np.asarray(train_size, dtype=float))
    if np.any(t < 0):
        raise ValueError("`train_size` must be >= 0.")
    return p, np.exp(t[:, None] * np.log1p(-np.minimum(q[None, :k], 1 - 1e-16)))


def tail_cut_error_sd(p, k: int, train_size) -> np.ndarray:
    """Upper bound on the standard deviation of one run's error in :func:`simulate_tail_cut`.

    One run's error is ``sum_i p_i U_i`` over the kept words, ``U_i`` = "word i unseen in T draws" (probability
    ``u_i = (1 - q_i)**T``), plus the fixed tail mass. The indicators are negatively correlated (a draw
    that is not word i is more likely word j), so the variance is at most ``sum_{i <= k} p_i**2 u_i (1 - u_i)``.
    Divided by ``sqrt(n_reps)`` it is a standard error for the simulated mean that does not shrink to 0
    when every repetition happens to see all k kept words (the sample standard deviation does).
    """
    p, u = _unseen(p, k, train_size)
    out = np.sqrt((p[None, :k] ** 2 * u * (1 - u)).sum(axis=1))
    return out if np.ndim(train_size) else float(out[0])


def tail_mass(p, k: int) -> float:
    """Probability of the categories beyond rank ``k``: ``sum_{i > k} p_i``."""
    p = check_probabilities("p", p, atol=1e-6)
    k = check_int("k", k, low=1, high=p.size)
    return float(p[k:].sum())


def dohmatob_law(train_size, k, beta: float) -> np.ndarray:
    """The scaling law of "A Tale of Tails" with its constants for an infinite Zipf(β) law:

    ``E(T, k) ≈ Γ(1 - 1/β)/β · c^(1/β) · T^-(1 - 1/β)  +  c/(β - 1) · k^-(β - 1)``,

    with ``c = 1/ζ(β)``. The first term is the error of learning from ``T``
    clean samples (Hutter 2021); the second is the mass of the cut tail.
    ``k = None`` (or ``np.inf``) means no cut.
    """
    from scipy.special import zeta

    beta = check_float("beta", beta, low=1.0, low_open=True)
    t = np.asarray(train_size, dtype=float)
    if np.any(t <= 0):
        raise ValueError("`train_size` must be > 0.")
    c = 1.0 / zeta(beta)
    learn = _gamma(1 - 1 / beta) / beta * c ** (1 / beta) * t ** -(1 - 1 / beta)
    if k is None:
        return learn
    k = np.asarray(k, dtype=float)
    if np.any(k < 1):
        raise ValueError("`k` must be >= 1.")
    return learn + c / (beta - 1) * k ** -(beta - 1)


def simulate_tail_cut(p, k: int, train_sizes, *, n_reps: int = 20, seed: int | None = 0,
                      rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Monte-Carlo error of the memorising learner trained on the tail-cut law.

    For each training size ``T`` and repetition: draw ``T`` items from
    ``cut_tail(p, k)``; the error is the real probability mass of the items
    never seen, ``sum_{i unseen} p_i``.

    Returns a DataFrame with columns ``T, k, rep, error``.
    """
    p = check_probabilities("p", p, atol=1e-6)
    q = cut_tail(p, k)
    n_reps = check_int("n_reps", n_reps, low=1)
    sizes = [check_int("train_sizes", t, low=1) for t in np.atleast_1d(train_sizes)]
    rng = check_rng(seed, rng)
    cdf = np.cumsum(q[:k])
    cdf /= cdf[-1]
    rows = []
    for t in sizes:
        for r in range(n_reps):
            draws = np.minimum(np.searchsorted(cdf, rng.random(t), side="right"), k - 1)
            seen = np.zeros(p.size, dtype=bool)
            seen[draws] = True
            rows.append((t, k, r, float(p[~seen].sum())))
    return pd.DataFrame(rows, columns=["T", "k", "rep", "error"])
