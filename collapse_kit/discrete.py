"""Discrete distributions in the generational loop: rare categories vanish first.

A *categorical model* is a probability vector over ``K`` categories (word
types). Fitting it to data means counting (the maximum-likelihood estimate);
sampling draws ``M`` items. Under the ``replace`` strategy each generation's
model is the empirical distribution of the previous generation's ``M`` draws
(the discrete case of Shumailov et al., Nature 2024, §3), so:

* a category of probability ``q`` survives one generation with probability
  ``1 - (1 - q)**M`` (:func:`survival_probability`); the expected number of
  categories still alive after one generation is ``sum_i 1 - (1 - q_i)**M``
  (:func:`expected_survivors`);
* a category that reaches probability 0 never comes back (an *absorbing state*);
  the chain ends with all mass on one category (a delta);
* the collision probability ``S = sum_i p_i**2`` obeys, in expectation,
  ``S_m = 1 - (1 - 1/M)**m (1 - S_0)`` (:func:`seddik_collision`; Seddik et al.
  2024, "How bad is training on synthetic data?").

The vectorised simulator :func:`simulate_categorical` runs many chains at once
and returns the same tidy history as :func:`collapse_kit.loop.run_generations`;
:class:`CategoricalModel` is the same model for the generic loop.

The last part is "A Tale of Tails" (Dohmatob et al. 2024): a *memorising*
learner trained on ``T`` samples of a Zipf(β) law whose tail is cut at rank
``k`` errs with probability ≍ ``T**-(1 - 1/β) + k**-(β - 1)``
(:func:`tail_cut_error`, :func:`simulate_tail_cut`, :func:`dohmatob_law`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gamma as _gamma

from ._validate import check_array, check_choice, check_rng, check_float, check_fraction, check_int, check_probabilities

DISCRETE_STRATEGIES = ("replace", "accumulate", "real_fraction")




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


def normalize_counts(counts) -> np.ndarray:
    """Counts -> probabilities (the maximum-likelihood categorical fit)."""
    c = check_counts("counts", counts)
    return c / c.sum()


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

    ``S_m = 1 - (1 - 1/n)**m (1 - S_0)``.

    It follows from ``E[S_{m+1} | p] = S_m + (1 - S_m)/n`` for the empirical
    distribution of ``n`` draws from ``p``; ``S_m -> 1`` (a single category).
    """
    s0 = check_fraction("s0", s0)
    n = check_int("sample_size", sample_size, low=1)
    g = np.asarray(generations, dtype=float)
    if np.any(g < 0):
        raise ValueError("`generations` must be >= 0.")
    return 1.0 - (1.0 - 1.0 / n) ** g * (1.0 - s0)


# --------------------------------------------------------------------------- the model
class CategoricalModel:
    """A categorical distribution over ``n_categories`` integer codes ``0..K-1``.

    ``fit`` counts the codes (maximum likelihood); ``sample`` draws codes. It
    follows the loop protocol of :mod:`collapse_kit.loop`.

    Parameters
    ----------
    n_categories : int >= 1
    """

    def __init__(self, n_categories: int):
        self.n_categories = check_int("n_categories", n_categories, low=1)
        self.probs_: np.ndarray | None = None

    def fit(self, data, rng=None) -> "CategoricalModel":
        codes = check_array("data", data, ndim=1, dtype=float)
        if np.any(codes < 0) or np.any(codes >= self.n_categories) or not np.allclose(codes, np.round(codes)):
            raise ValueError(f"`data` must hold integer codes in [0, {self.n_categories - 1}].")
        counts = np.bincount(codes.astype(np.int64), minlength=self.n_categories)
        self.probs_ = counts / counts.sum()
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.probs_ is None:
            raise RuntimeError("call fit() before sample().")
        n = check_int("n", n, low=1)
        return rng.choice(self.n_categories, size=n, p=self.probs_)

    @property
    def n_alive(self) -> int:
        return int(np.count_nonzero(self.probs_))


def categorical_metrics() -> dict:
    """Metrics for :func:`collapse_kit.loop.run_generations` with a CategoricalModel."""
    return {"alive": lambda model, s: model.n_alive,
            "entropy": lambda model, s: entropy(model.probs_),
            "collision": lambda model, s: collision_probability(model.probs_)}


# --------------------------------------------------------------------------- vectorised chains
@dataclass
class CategoricalRun:
    """The result of :func:`simulate_categorical`.

    Attributes
    ----------
    history : DataFrame
        Tidy: ``generation, seed, metric, value, strategy`` (``seed`` is the chain
        index). Metrics: ``alive`` (categories with positive probability in the
        generation's model), ``entropy`` (bits), ``collision`` (Σp²),
        ``predicted_alive`` (the one-step closed form ``Σ 1-(1-p_i)^M`` for the
        *next* generation under ``replace``, computed from this generation's model).
    extinct_at : int array (n_chains, K)
        The generation from which the category has probability 0 for good
        (under ``replace`` the first generation it is missing);
        ``generations + 1`` if it is alive at the end.
    final_probs : float array (n_chains, K)
    p0 : the real distribution; sample_size, generations, strategy: the settings.
    """

    history: pd.DataFrame
    extinct_at: np.ndarray
    final_probs: np.ndarray
    p0: np.ndarray
    sample_size: int
    generations: int
    strategy: str

    def values(self, metric: str) -> np.ndarray:
        """One metric as an array of shape (n_chains, generations + 1) (for fan charts)."""
        sub = self.history[self.history["metric"] == metric]
        if sub.empty:
            raise ValueError(f"`metric` must be one of {sorted(set(self.history['metric']))} (got {metric!r}).")
        return sub.pivot(index="seed", columns="generation", values="value").to_numpy()

    def survival_curve(self) -> np.ndarray:
        """Fraction of chains in which each category is still alive, per generation:
        array (generations + 1, K)."""
        g = np.arange(self.generations + 1)[:, None, None]
        return (self.extinct_at[None, :, :] > g).mean(axis=1)


def _sample_from_probs(probs: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``m`` codes from each row of ``probs`` (n_chains, K) by inverse CDF."""
    n_chains, k = probs.shape
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((n_chains, m))
    offsets = np.arange(n_chains)[:, None]
    flat = (cdf + offsets).ravel()  # rows stacked on [0,1], [1,2], ... : one searchsorted for all
    codes = np.searchsorted(flat, (u + offsets).ravel(), side="right").reshape(n_chains, m) - offsets * k
    return np.minimum(codes, k - 1)


def _bincount_rows(codes: np.ndarray, k: int) -> np.ndarray:
    n_chains = codes.shape[0]
    flat = codes + np.arange(n_chains)[:, None] * k
    return np.bincount(flat.ravel(), minlength=n_chains * k).reshape(n_chains, k)


def simulate_categorical(p0, *, sample_size: int, generations: int, n_chains: int = 100,
                         strategy: str = "replace", real_fraction: float = 0.0, seed: int | None = 0,
                         rng: np.random.Generator | None = None) -> CategoricalRun:
    """Many independent chains of "fit a categorical, sample M, refit", at once.

    Generation 0's model is ``p0`` (the real distribution, e.g. word frequencies
    of the corpus). Generation ``g >= 1`` fits the counts of its training set:

    ``replace``
        the ``M`` draws of generation ``g - 1``;
    ``accumulate``
        the real data plus every synthetic batch so far (see Notes);
    ``real_fraction``
        ``round(λM)`` fresh draws from ``p0`` plus ``M - round(λM)`` of the
        previous generation's draws (a random subset).

    Parameters
    ----------
    p0 : probability vector (K,)
    sample_size : int >= 1
        M, draws per generation.
    generations : int >= 1
    n_chains : int >= 1
    strategy : {"replace", "accumulate", "real_fraction"}
    real_fraction : float in [0, 1], only for ``"real_fraction"``
    seed, rng : reproducibility (same seed, same numbers)

    Notes
    -----
    For ``accumulate`` the real data enter as ``M`` pseudo-counts distributed as
    ``p0`` (the real set is as large as one synthetic batch), so no real category
    can ever be lost.

    Returns
    -------
    CategoricalRun
    """
    p0 = check_probabilities("p0", p0, atol=1e-6)
    p0 = p0 / p0.sum()
    m = check_int("sample_size", sample_size, low=1)
    generations = check_int("generations", generations, low=1)
    n_chains = check_int("n_chains", n_chains, low=1)
    strategy = check_choice("strategy", strategy, DISCRETE_STRATEGIES)
    lam = check_fraction("real_fraction", real_fraction)
    if strategy != "real_fraction" and lam != 0:
        raise ValueError(f"`real_fraction` only applies to strategy='real_fraction' (got strategy={strategy!r}).")
    rng = check_rng(seed, rng)
    k = p0.size
    k_real = int(round(lam * m))
    label = f"real fraction {lam:g} (fresh)" if strategy == "real_fraction" else strategy

    probs = np.broadcast_to(p0, (n_chains, k)).copy()
    cols = np.arange(k)  # the categories still simulated (under replace: alive in some chain)
    pool = p0[None, :] * m if strategy == "accumulate" else None
    extinct_at = np.full((n_chains, k), generations + 1, dtype=np.int32)
    extinct_at[:, p0 == 0] = 0
    rows: list[pd.DataFrame] = []
    chains = np.arange(n_chains)

    def record(g: int, probs: np.ndarray) -> None:
        alive = np.count_nonzero(probs, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.where(probs > 0, probs * np.log2(np.where(probs > 0, probs, 1)), 0).sum(axis=1)
            pred = (-np.expm1(m * np.log1p(-probs))).sum(axis=1)
        coll = (probs * probs).sum(axis=1)
        for name, val in (("alive", alive), ("entropy", ent), ("collision", coll), ("predicted_alive", pred)):
            rows.append(pd.DataFrame({"generation": g, "seed": chains, "metric": name, "value": val.astype(float)}))

    record(0, probs)
    for g in range(1, generations + 1):
        width = cols.size
        draws = _sample_from_probs(probs, m, rng)           # generation g-1 samples (local codes)
        if strategy == "replace":
            counts = _bincount_rows(draws, width).astype(float)
        elif strategy == "accumulate":
            pool = pool + _bincount_rows(draws, width)
            counts = pool
        else:
            keep = m - k_real
            order = np.argsort(rng.random((n_chains, m)), axis=1)[:, :keep]
            syn = np.take_along_axis(draws, order, axis=1)
            counts = _bincount_rows(syn, width).astype(float)
            if k_real:
                counts += _bincount_rows(_sample_from_probs(np.broadcast_to(p0, (n_chains, k)), k_real, rng), k)
        probs = counts / counts.sum(axis=1, keepdims=True)
        ext = extinct_at[:, cols]
        ext[(probs == 0) & (ext > generations)] = g
        ext[(probs > 0) & (ext <= g)] = generations + 1  # revived: only when real data come back in
        extinct_at[:, cols] = ext
        record(g, probs)
        if strategy == "replace":  # a category dead in every chain never returns: stop simulating it
            live = np.flatnonzero(probs.any(axis=0))
            if live.size < 0.7 * width:
                cols, probs = cols[live], probs[:, live]
    full = np.zeros((n_chains, k))
    full[:, cols] = probs
    probs = full
    history = pd.concat(rows, ignore_index=True)
    history["strategy"] = label
    return CategoricalRun(history=history, extinct_at=extinct_at, final_probs=probs, p0=p0,
                          sample_size=m, generations=generations, strategy=label)


def extinction_table(run: CategoricalRun, words, counts, *, chain: int = 0, n_examples: int = 4,
                     bins=(1, 2, 4, 11, 101, 1001, None)) -> pd.DataFrame:
    """Which words go first: for frequency bands of the real counts, the median
    generation at which the words of that band vanished (over all chains), the
    share lost by the end, and a few real example words lost in generation 1 of
    ``chain`` (or the latest survivors for frequent bands).

    Parameters
    ----------
    run : CategoricalRun started from ``counts / counts.sum()``
    words : sequence of K words (same order as ``counts``)
    counts : K real counts
    bins : band edges on the real count; ``None`` means no upper edge.
    """
    counts = check_counts("counts", counts)
    words = np.asarray(list(words), dtype=object)
    if words.size != counts.size or counts.size != run.extinct_at.shape[1]:
        raise ValueError("`words`, `counts` and the run must have the same number of categories.")
    chain = check_int("chain", chain, low=0, high=run.extinct_at.shape[0] - 1)
    never = run.generations + 1
    rows = []
    edges = list(bins)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (counts >= lo) & (counts < (hi if hi is not None else np.inf))
        if not sel.any():
            continue
        ext = run.extinct_at[:, sel]
        lost = ext < never
        med = np.median(np.where(lost, ext, np.inf))
        idx = np.flatnonzero(sel)
        e_chain = run.extinct_at[chain, idx]
        first = idx[np.argsort(e_chain, kind="stable")][:n_examples]
        band = f"{lo}" if hi == lo + 1 else (f"{lo}–{hi - 1}" if hi is not None else f"≥ {lo}")
        rows.append({"real count": band, "words": int(sel.sum()),
                     "share of corpus": float(counts[sel].sum() / counts.sum()),
                     "lost by the end": float(lost.mean()),
                     "median generation lost": (float(med) if np.isfinite(med) else np.nan),
                     f"first lost in chain {chain}": ", ".join(
                         f"{w} (g{e})" if e < never else f"{w} (alive)"
                         for w, e in zip(words[first], run.extinct_at[chain, first]))})
    return pd.DataFrame(rows)


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
    p = check_probabilities("p", p, atol=1e-6)
    q = cut_tail(p, k)
    t = np.atleast_1d(np.asarray(train_size, dtype=float))
    if np.any(t < 0):
        raise ValueError("`train_size` must be >= 0.")
    head = (p[None, :k] * np.exp(t[:, None] * np.log1p(-np.minimum(q[None, :k], 1 - 1e-16)))).sum(axis=1)
    out = head + p[k:].sum()
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
