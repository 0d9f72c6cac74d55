"""Lessons 00-01: a Gaussian fitted to its own samples, generation after generation.

Two engines run the same experiment, on the same :class:`~collapse_kit.strategies.Strategy` objects:

* :class:`GaussianModel` plugs into the course's one loop
  (:func:`collapse_kit.loop.run_generations`): it really draws ``M`` samples per chain
  and really refits them. Clear, and the reference for everything else.
* :func:`simulate_gaussian_chains` is the documented fast path: it runs thousands of chains
  *exactly* without drawing the samples. For Gaussian data the fit only needs the sample mean
  and the sum of squared deviations, whose laws are known,

  .. math:: \\bar x \\sim N(\\mu, \\sigma^2/M), \\qquad
            \\textstyle\\sum (x_i-\\bar x)^2 \\sim \\sigma^2 \\chi^2_{M-1},

  independent of each other. Pools (``accumulate``) and mixes of real and synthetic data
  (``real_fraction``) combine these statistics with the parallel-axis rule, so they stay exact.
  ``accumulate_subsample`` (a random subset of the pool) has no such shortcut: use the loop.
  It returns the same tidy history as the loop with :func:`loop_metrics`, and
  ``tests/test_conformance_gaussian.py`` checks that both engines agree in distribution.

Indexing: *model g* (generation g) is the (g+1)-th fit: generation 0 is fitted to the real data.
The closed forms below take ``generation`` and use ``n = generation + 1`` fits, the paper's ``n``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma

from . import history as _history
from ._validate import check_array, check_choice, check_float, check_int
from .strategies import Strategy, make_strategy, strategy_list

ESTIMATORS = ("mle", "unbiased")


def _ddof(estimator: str) -> int:
    return 0 if check_choice("estimator", estimator, ESTIMATORS) == "mle" else 1


class GaussianModel:
    """A 1-D Gaussian per chain, with batched ``fit`` / ``sample`` (the loop's model protocol).

    Data have shape ``(n_chains, n_items)``; after ``fit``, ``mu_`` and ``sigma2_`` have shape
    ``(n_chains,)``.

    Parameters
    ----------
    estimator : {"mle", "unbiased"}
        ``"mle"`` divides the sum of squares by M (biased low by (M-1)/M);
        ``"unbiased"`` divides by M - 1.
    temperature : float > 0
        Samples are drawn with standard deviation ``temperature * sigma``: below 1 the
        model under-disperses (a sampling bias, lesson 04). This *scales the standard
        deviation*; a language model's temperature divides the logits (lesson 05).
    """

    def __init__(self, estimator: str = "mle", temperature: float = 1.0):
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        self.temperature = check_float("temperature", temperature, low=0.0, low_open=True)
        self.mu_: np.ndarray | None = None
        self.sigma2_: np.ndarray | None = None

    def fit(self, data, rng=None) -> "GaussianModel":
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] < 2:
            raise ValueError(f"`data` must have shape (n_chains, n_items >= 2) (got {x.shape}).")
        if not np.all(np.isfinite(x)):
            raise ValueError("`data` contains NaN or infinite values; remove or impute them first.")
        self.mu_ = x.mean(axis=1)
        self.sigma2_ = x.var(axis=1, ddof=_ddof(self.estimator))
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.mu_ is None:
            raise RuntimeError("call fit() before sample().")
        n = check_int("n", n, low=1)
        out = rng.standard_normal((len(self.mu_), n))
        out *= (self.temperature * np.sqrt(self.sigma2_))[:, None]
        out += self.mu_[:, None]
        return out

    def __repr__(self) -> str:
        fitted = "" if self.mu_ is None else f", {len(self.mu_)} chains"
        return f"GaussianModel(estimator={self.estimator!r}, temperature={self.temperature:g}{fitted})"


def normal_source(mu0: float = 0.0, sigma0: float = 1.0):
    """The real distribution N(mu0, sigma0²) as a ``real_sampler(rng, n_chains, n)`` for the loop."""
    mu0 = check_float("mu0", mu0)
    sigma0 = check_float("sigma0", sigma0, low=0.0, low_open=True)

    def draw(rng, n_chains, n):
        return mu0 + sigma0 * rng.standard_normal((n_chains, n))

    return draw


# --------------------------------------------------------------------------- metrics
def w2_squared(mu, sigma2, mu0: float = 0.0, sigma0: float = 1.0):
    """Squared Wasserstein-2 distance between N(mu, sigma2) and N(mu0, sigma0²):
    ``(mu - mu0)² + (sqrt(sigma2) - sigma0)²`` (elementwise)."""
    return (np.asarray(mu) - mu0) ** 2 + (np.sqrt(np.asarray(sigma2)) - sigma0) ** 2


def loop_metrics(mu0: float = 0.0, sigma0: float = 1.0) -> dict:
    """Metrics for :func:`~collapse_kit.loop.run_generations` with a :class:`GaussianModel`:
    fitted mean, fitted variance and W2² to the truth N(mu0, sigma0²), per chain."""
    mu0 = check_float("mu0", mu0)
    sigma0 = check_float("sigma0", sigma0, low=0.0, low_open=True)
    return {
        "mean": lambda c: c.model.mu_,
        "variance": lambda c: c.model.sigma2_,
        "W2²": lambda c: w2_squared(c.model.mu_, c.model.sigma2_, mu0, sigma0),
    }


# --------------------------------------------------------------------------- the exact engine
def _batch_stats(rng, mu, sd, k: int):
    """Exact (mean, sum of squared deviations) of k iid N(mu, sd²) draws, per chain."""
    mean = mu + sd * rng.standard_normal(mu.shape) / np.sqrt(k)
    ss = sd**2 * rng.chisquare(k - 1, size=mu.shape) if k > 1 else np.zeros(mu.shape)
    return mean, ss


def _combine(n1, m1, ss1, n2, m2, ss2):
    """Pool two samples' (count, mean, sum of squares) with the parallel-axis rule."""
    n = n1 + n2
    return n, (n1 * m1 + n2 * m2) / n, ss1 + ss2 + (n1 * n2 / n) * (m1 - m2) ** 2


def _check_exact(strategy: Strategy, m: int) -> None:
    """Every strategy is exact but a random subset of the pool (a kept pool that does not grow).
    Strategies built on top of :class:`Strategy` (e.g. lesson 08's web crawl) have rules of their
    own that this engine does not know: they run through the loop."""
    if type(strategy) is not Strategy:
        raise ValueError(f"the exact engine knows the four data strategies of collapse_kit.strategies; "
                         f"{strategy.label!r} has rules of its own: use run_generations(GaussianModel, ...).")
    if strategy.keeps_pool and strategy.training_size(1, m, m) == m:
        raise ValueError(f"strategy {strategy.label!r} draws a random subset of the pool: it has no exact "
                         "sufficient-statistic form. Use run_generations(GaussianModel, ...) for it.")


def _real_gen0(rng, n_chains, m, mu0, sigma0):
    """Generation 0's real data: (points, mean, sum of squares). The points are explicit because a
    fixed real set is re-drawn from by ``real_fraction`` strategies; every strategy shares them."""
    pts = mu0 + sigma0 * rng.standard_normal((n_chains, m))
    mean = pts.mean(axis=1)
    return pts, mean, ((pts - mean[:, None]) ** 2).sum(axis=1)


def _exact_arrays(strategy: Strategy, gen0, generations: int, m: int, ddof: int, temperature: float,
                  mu0: float, sigma0: float, rng: np.random.Generator):
    """The engine's core: fitted means and variances, arrays (n_chains, generations + 1)."""
    real_points, r_mean, r_ss = gen0
    n_chains = len(r_mean)
    means = np.empty((n_chains, generations + 1))
    vars_ = np.empty((n_chains, generations + 1))
    means[:, 0], vars_[:, 0] = r_mean, r_ss / (m - ddof)
    k_real = strategy.k_real(m)
    if not strategy.keeps_pool and k_real == 0:
        # closed recursion: σ²_g = σ²_{g-1}·τ²χ²_{M-1}/(M-ddof), μ_g = μ_{g-1} + τσ_{g-1}Z/√M,
        # so all draws are made at once and chained with cumulative products and sums.
        work = rng.chisquare(m - 1, size=(n_chains, generations))
        work *= temperature**2 / (m - ddof)
        np.cumprod(work, axis=1, out=work)
        np.multiply(vars_[:, :1], work, out=vars_[:, 1:])
        np.sqrt(vars_[:, :-1], out=work)
        work *= rng.standard_normal((n_chains, generations))
        work *= temperature / np.sqrt(m)
        np.cumsum(work, axis=1, out=work)
        np.add(means[:, :1], work, out=means[:, 1:])
        return means, vars_
    pool = (float(m), r_mean, r_ss)
    mu0_arr, sd0_arr = np.full(n_chains, mu0), np.full(n_chains, sigma0)
    for g in range(1, generations + 1):
        mu, sd = means[:, g - 1], temperature * np.sqrt(vars_[:, g - 1])
        if strategy.keeps_pool:  # all real + every synthetic sample so far
            pool = _combine(*pool, m, *_batch_stats(rng, mu, sd, m))
            n, mean, ss = pool
        else:  # k_real real items + M - k_real synthetic ones
            if k_real == m:
                n, mean, ss = 0, 0.0, 0.0
            else:
                n, (mean, ss) = m - k_real, _batch_stats(rng, mu, sd, m - k_real)
            if strategy.fresh_real:
                rm, rss = _batch_stats(rng, mu0_arr, sd0_arr, k_real)
            elif k_real == m:
                rm, rss = r_mean, r_ss
            else:
                idx = np.argpartition(rng.random((n_chains, m)), k_real - 1, axis=1)[:, :k_real]
                pts = np.take_along_axis(real_points, idx, axis=1)
                rm = pts.mean(axis=1)
                rss = ((pts - rm[:, None]) ** 2).sum(axis=1)
            n, mean, ss = _combine(n, mean, ss, k_real, rm, rss) if n else (k_real, rm, rss)
        means[:, g] = mean
        vars_[:, g] = ss / (n - ddof)
    return means, vars_


def simulate_gaussian_chains(n_chains: int = 1000, generations: int = 100, sample_size: int = 100, *,
                             strategies=Strategy(), real_fraction: float | None = None, fresh_real: bool = False,
                             estimator: str = "mle", temperature: float = 1.0, mu0: float = 0.0,
                             sigma0: float = 1.0, seeds=0, labels=None) -> pd.DataFrame:
    """The exact Gaussian engine: many chains of fit → sample → refit, via sufficient statistics.

    The same experiment as ``run_generations(lambda: GaussianModel(estimator, temperature),
    real_sampler=normal_source(mu0, sigma0), sample_size=M, n_chains=..., strategies=...,
    metrics=loop_metrics(mu0, sigma0), seeds=...)``, with the same result in distribution
    (not the same random numbers), at a cost that does not grow with M.

    Parameters
    ----------
    n_chains : int >= 1
        Chains per seed.
    generations : int >= 1
        Generations after generation 0.
    sample_size : int >= 2
        M: the real set's size and the samples drawn per generation.
    strategies : a name, a :class:`~collapse_kit.strategies.Strategy`, or a list of them
        As in :func:`~collapse_kit.loop.run_generations` (all strategies share generation 0);
        ``real_fraction`` and ``fresh_real`` complete a single name. ``accumulate_subsample``
        raises a ``ValueError`` (no exact form: use the loop).
    estimator : {"mle", "unbiased"}
    temperature : float > 0
        Samples are drawn with standard deviation ``temperature * sigma`` (as :class:`GaussianModel`).
    mu0 : float (finite), sigma0 : float > 0
        The real distribution N(mu0, sigma0²).
    seeds : int >= 0 or iterable of them
        One batch of ``n_chains`` chains per seed; same seed, same numbers.
    labels : dict, optional
        Constant columns for the history (e.g. ``{"estimator": "mle"}``).

    Returns
    -------
    pandas.DataFrame
        The tidy history (:mod:`collapse_kit.history`) with metrics ``mean``, ``variance``, ``W2²``.
    """
    n_chains = check_int("n_chains", n_chains, low=1)
    generations = check_int("generations", generations, low=1)
    m = check_int("sample_size", sample_size, low=2)
    strats = ([make_strategy(strategies, real_fraction, fresh_real)] if isinstance(strategies, (str, Strategy))
              else strategy_list(strategies))
    if not isinstance(strategies, (str, Strategy)) and (real_fraction is not None or fresh_real):
        raise ValueError("`real_fraction`/`fresh_real` complete a single strategy name; with a list, "
                         "pass Strategy objects instead.")
    for s in strats:
        _check_exact(s, m)
    ddof = _ddof(estimator)
    temperature = check_float("temperature", temperature, low=0.0, low_open=True)
    mu0 = check_float("mu0", mu0)
    sigma0 = check_float("sigma0", sigma0, low=0.0, low_open=True)
    from .loop import _seed_list

    seed_list = _seed_list(seeds)
    _check_memory(n_chains, generations, m, len(strats))
    frames = []
    for seed in seed_list:
        gen0 = _real_gen0(np.random.default_rng([seed, 0]), n_chains, m, mu0, sigma0)
        for s in strats:
            mean, var = _exact_arrays(s, gen0, generations, m, ddof, temperature, mu0, sigma0,
                                      np.random.default_rng([seed, s.stream_key]))
            values = {"mean": mean, "variance": var, "W2²": w2_squared(mean, var, mu0, sigma0)}
            frames.append(_history.from_arrays(values, strategy=s, seed=seed, labels=labels))
    return frames[0] if len(frames) == 1 else _history.concat(frames)


def _check_memory(n_chains, generations, m, n_strategies):
    from .loop import memory_budget

    need = n_chains * (8 * 2 * (generations + 1) + 8 * m) * 1.0
    rows = n_chains * (generations + 1) * 3 * n_strategies * 40.0  # the history's bytes per row
    if need + rows > memory_budget():
        fit = max(1, int(n_chains * memory_budget() / (need + rows)))
        raise ValueError(f"this run would hold about {(need + rows) / 2**30:.1f} GiB (n_chains={n_chains}, "
                         f"generations={generations}): use n_chains <= {fit} or fewer generations "
                         "(or raise COLLAPSE_KIT_MEMORY_GB).")


# --------------------------------------------------------------------------- closed forms
# Elementary properties of the MLE and the unbiased estimator, and Shumailov et al., Nature 2024,
# Theorem 3.1 and Supplementary Information §3.1 (martingale, a.s. collapse, W2 first-order law).
def _fits(generation) -> np.ndarray:
    """``generation + 1`` after checking each generation is a whole number >= 0."""
    g = check_array("generation", generation, min_len=0)
    if np.any(g < 0) or np.any(g != np.round(g)):
        raise ValueError(f"`generation` must be whole numbers >= 0 (got {generation!r}).")
    return g + 1.0


def expected_variance(generation, sample_size: int, estimator: str = "mle", sigma2: float = 1.0):
    """E[σ²_g] under ``replace``: σ²((M-1)/M)^(g+1) for the MLE (each MLE fit is biased low by
    (M-1)/M, an elementary property of the MLE), σ² for the unbiased estimator (a martingale)."""
    m = check_int("sample_size", sample_size, low=2)
    n = _fits(generation)
    sigma2 = check_float("sigma2", sigma2, low=0.0, low_open=True)
    if check_choice("estimator", estimator, ESTIMATORS) == "mle":
        return sigma2 * ((m - 1) / m) ** n
    return sigma2 * np.ones_like(n)


def median_variance(generation, sample_size: int, estimator: str = "unbiased", sigma2: float = 1.0):
    """Approximate median of σ²_g under ``replace``.

    log σ²_g is a sum of g+1 iid terms log(χ²_{M-1}/d) (d = M-1 unbiased, M MLE), so by the
    central limit theorem its median ≈ its mean (g+1)·(ψ((M-1)/2) + log 2 - log d). The median
    decays geometrically to 0 even when the mean (unbiased) stays at σ²: almost every chain collapses.
    """
    m = check_int("sample_size", sample_size, low=2)
    sigma2 = check_float("sigma2", sigma2, low=0.0, low_open=True)
    d = m if check_choice("estimator", estimator, ESTIMATORS) == "mle" else m - 1
    elog = digamma((m - 1) / 2) + np.log(2.0) - np.log(d)
    return sigma2 * np.exp(_fits(generation) * elog)


def marginal_variance(history: pd.DataFrame, strategy: str | None = None) -> np.ndarray:
    """Variance of a sample drawn from a random chain's model g, per generation, from a history:
    E[σ²_g] + Var(μ_g) across chains (law of total variance)."""
    var = _history.values(history, "variance", strategy)
    mean = _history.values(history, "mean", strategy)
    return var.mean(axis=0) + mean.var(axis=0)


def marginal_variance_law(generation, sample_size: int, sigma2: float = 1.0):
    """Variance of a sample of model g (unbiased estimator, ``replace``), over chains:
    σ²(1 + (g+1)/M) exactly, because the mean random-walks with step variance σ²/M
    while E[σ²] stays σ² (Shumailov et al. SI §3.1: σ²(1 + n/M) with n = g+1)."""
    m = check_int("sample_size", sample_size, low=2)
    sigma2 = check_float("sigma2", sigma2, low=0.0, low_open=True)
    return sigma2 * (1.0 + _fits(generation) / m)


def w2_first_order(generation, sample_size, sigma2: float = 1.0):
    """First-order E[W2²] between model g and the truth: (3/2)σ² Σ_{i=1}^{g+1} 1/M_i
    (Shumailov et al. SI §3.1.1). ``sample_size`` may be an int or the sequence M_i."""
    n = _fits(generation).astype(int)
    sigma2 = check_float("sigma2", sigma2, low=0.0, low_open=True)
    if np.ndim(sample_size) == 0:
        m = check_int("sample_size", sample_size, low=2)
        return 1.5 * sigma2 * n / m
    ms = check_array("sample_size", sample_size, ndim=1)
    if np.any(ms < 2):
        raise ValueError("every entry of `sample_size` must be >= 2.")
    if np.any(n > len(ms)):
        raise ValueError(f"`sample_size` lists {len(ms)} sizes but generation {int(n.max()) - 1} needs {int(n.max())}.")
    return 1.5 * sigma2 * np.cumsum(1.0 / ms)[n - 1]
