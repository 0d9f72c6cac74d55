"""Lesson 01: a Gaussian fitted to its own samples, generation after generation.

Two ways to run the same experiment:

* :class:`GaussianModel` plugs into the generic loop
  (:func:`collapse_kit.loop.run_generations`): it really draws ``M`` samples
  and really refits them. Clear, and the reference for everything else.
* :func:`simulate_gaussian_chains` runs thousands of chains at once *exactly*,
  without drawing the samples: for Gaussian data the fit only needs the sample
  mean and the sum of squared deviations, whose laws are known,

  .. math:: \\bar x \\sim N(\\mu, \\sigma^2/M), \\qquad
            \\textstyle\\sum (x_i-\\bar x)^2 \\sim \\sigma^2 \\chi^2_{M-1},

  independent of each other. Pools of data (``accumulate``) and mixes of
  real and synthetic data (``real_fraction``) combine these statistics with the
  parallel-axis rule, so every strategy of the course stays exact.
  :func:`simulate_gaussian_naive` is the same computation done the slow way
  (sample, then refit), used to test the exact simulator and as the benchmark
  baseline.

Indexing: *model g* (generation g) is the (g+1)-th fit: generation 0 is fitted
to the real data. The closed forms below take ``generation`` and use
``n = generation + 1`` fits, which is the paper's ``n``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import digamma

from ._validate import check_array, check_choice, check_float, check_fraction, check_int, check_seed

ESTIMATORS = ("mle", "unbiased")
GAUSSIAN_STRATEGIES = ("replace", "accumulate", "real_fraction")


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
        model under-disperses (a sampling bias, lesson 04). This scales the standard
        deviation; a language model's temperature divides the logits (lesson 05).
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
    fitted mean, fitted variance and W2² to the truth, per chain."""
    return {
        "mean": lambda c: c.model.mu_,
        "variance": lambda c: c.model.sigma2_,
        "W2²": lambda c: w2_squared(c.model.mu_, c.model.sigma2_, mu0, sigma0),
    }


# --------------------------------------------------------------------------- simulators
@dataclass
class GaussianChains:
    """Fitted means and variances of many chains: arrays of shape (n_chains, generations + 1)."""

    mean: np.ndarray
    var: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return self.mean.shape[0]

    @property
    def generations(self) -> int:
        return self.mean.shape[1] - 1

    def w2_squared(self) -> np.ndarray:
        s = self.settings
        return w2_squared(self.mean, self.var, s.get("mu0", 0.0), s.get("sigma0", 1.0))

    def marginal_variance(self) -> np.ndarray:
        """Variance of a sample drawn from a random chain's model g, per generation:
        E[σ²_g] + Var(μ_g) across chains (law of total variance)."""
        return self.var.mean(axis=0) + self.mean.var(axis=0)

    def to_history(self, metrics=("mean", "variance", "W2²"), max_chains: int | None = None) -> pd.DataFrame:
        """Tidy history (generation, seed, metric, value, strategy + settings); chain i is 'seed' i."""
        n = self.n_chains if max_chains is None else min(max_chains, self.n_chains)
        values = {"mean": self.mean[:n], "variance": self.var[:n], "W2²": self.w2_squared()[:n]}
        frames = []
        gens = np.arange(self.generations + 1)
        for name in metrics:
            if name not in values:
                raise ValueError(f"`metrics` entries must be in {sorted(values)} (got {name!r}).")
            v = values[name]
            frames.append(pd.DataFrame({"generation": np.tile(gens, n), "seed": np.repeat(np.arange(n), len(gens)),
                                        "metric": name, "value": v.ravel()}))
        out = pd.concat(frames, ignore_index=True)
        out["strategy"] = self.settings.get("label", self.settings.get("strategy", ""))
        for key in ("estimator", "sample_size", "temperature"):
            if key in self.settings:
                out[key] = self.settings[key]
        return out


def _check_sim_args(n_chains, generations, sample_size, estimator, strategy, real_fraction, temperature,
                    sigma0, seed):
    n_chains = check_int("n_chains", n_chains, low=1)
    generations = check_int("generations", generations, low=1)
    m = check_int("sample_size", sample_size, low=2)
    check_choice("estimator", estimator, ESTIMATORS)
    check_choice("strategy", strategy, GAUSSIAN_STRATEGIES)
    lam = check_fraction("real_fraction", real_fraction)
    if strategy != "real_fraction" and lam != 0.0:
        raise ValueError(f"`real_fraction` only applies to strategy='real_fraction' (got strategy={strategy!r}).")
    temperature = check_float("temperature", temperature, low=0.0, low_open=True)
    sigma0 = check_float("sigma0", sigma0, low=0.0, low_open=True)
    check_seed("seed", seed)
    return n_chains, generations, m, lam, temperature, sigma0


def _label(strategy: str, lam: float, fresh: bool) -> str:
    if strategy == "real_fraction":
        return f"real fraction {lam:g} ({'fresh' if fresh else 'fixed'})"
    return strategy


def _batch_stats(rng, mu, sd, k: int):
    """Exact (mean, sum of squared deviations) of k iid N(mu, sd²) draws, per chain."""
    mean = mu + sd * rng.standard_normal(mu.shape) / np.sqrt(k)
    ss = sd**2 * rng.chisquare(k - 1, size=mu.shape) if k > 1 else np.zeros(mu.shape)
    return mean, ss


def _combine(n1, m1, ss1, n2, m2, ss2):
    """Pool two samples' (count, mean, sum of squares) with the parallel-axis rule."""
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    ss = ss1 + ss2 + (n1 * n2 / n) * (m1 - m2) ** 2
    return n, mean, ss


def simulate_gaussian_chains(n_chains: int = 1000, generations: int = 100, sample_size: int = 100, *,
                             estimator: str = "mle", strategy: str = "replace", real_fraction: float = 0.0,
                             fresh_real: bool = False, temperature: float = 1.0, mu0: float = 0.0,
                             sigma0: float = 1.0, seed: int = 0) -> GaussianChains:
    """Exact simulation of many independent Gaussian chains via sufficient statistics.

    Every chain starts from M = ``sample_size`` real draws of N(mu0, sigma0²),
    fits generation 0, and then, for g = 1..generations, fits the training set
    chosen by ``strategy`` (``"replace"``, ``"accumulate"`` or ``"real_fraction"``
    with ``real_fraction`` λ and ``fresh_real``; see :mod:`collapse_kit.loop`).
    The distribution of the result is exactly that of the naive
    sample-and-refit loop (:func:`simulate_gaussian_naive`), at a cost that
    does not grow with M.

    Returns
    -------
    GaussianChains
        ``.mean`` and ``.var`` of shape (n_chains, generations + 1).
    """
    n_chains, generations, m, lam, temperature, sigma0 = _check_sim_args(
        n_chains, generations, sample_size, estimator, strategy, real_fraction, temperature, sigma0, seed)
    ddof = _ddof(estimator)
    rng = np.random.default_rng(seed)
    shape = (n_chains,)
    means = np.empty((n_chains, generations + 1))
    vars_ = np.empty((n_chains, generations + 1))
    mu0_arr = np.full(shape, float(mu0))
    sd0_arr = np.full(shape, sigma0)

    k_real = int(round(lam * m)) if strategy == "real_fraction" else 0
    k_syn = m - k_real
    real_points = None
    if strategy == "real_fraction" and k_real and not fresh_real:
        # the fixed real set must be explicit: each generation re-draws a subset of it
        real_points = mu0 + sigma0 * rng.standard_normal((n_chains, m))
        r_mean = real_points.mean(axis=1)
        r_ss = ((real_points - r_mean[:, None]) ** 2).sum(axis=1)
    else:
        r_mean, r_ss = _batch_stats(rng, mu0_arr, sd0_arr, m)
    pool_n, pool_mean, pool_ss = float(m), r_mean, r_ss
    means[:, 0] = r_mean
    vars_[:, 0] = r_ss / (m - ddof)
    if strategy == "replace" or (strategy == "real_fraction" and k_real == 0):
        # closed recursion: σ²_g = σ²_{g-1}·τ²χ²_{M-1}/(M-ddof), μ_g = μ_{g-1} + τσ_{g-1}Z/√M,
        # so all draws can be made at once and chained with cumulative products/sums.
        work = rng.chisquare(m - 1, size=(n_chains, generations))
        work *= temperature**2 / (m - ddof)
        np.cumprod(work, axis=1, out=work)
        np.multiply(vars_[:, :1], work, out=vars_[:, 1:])
        np.sqrt(vars_[:, :-1], out=work)
        work *= rng.standard_normal((n_chains, generations))
        work *= temperature / np.sqrt(m)
        np.cumsum(work, axis=1, out=work)
        np.add(means[:, :1], work, out=means[:, 1:])
        generations_left = range(0)
    else:
        generations_left = range(1, generations + 1)
    for g in generations_left:
        mu, sd = means[:, g - 1], temperature * np.sqrt(vars_[:, g - 1])
        if strategy == "replace":
            n, mean, ss = m, *_batch_stats(rng, mu, sd, m)
        elif strategy == "accumulate":
            b_mean, b_ss = _batch_stats(rng, mu, sd, m)
            pool_n, pool_mean, pool_ss = _combine(pool_n, pool_mean, pool_ss, m, b_mean, b_ss)
            n, mean, ss = pool_n, pool_mean, pool_ss
        else:  # real_fraction
            n, mean, ss = 0, np.zeros(shape), np.zeros(shape)
            if k_syn:
                n, mean, ss = k_syn, *_batch_stats(rng, mu, sd, k_syn)
            if k_real:
                if fresh_real:
                    rm, rss = _batch_stats(rng, mu0_arr, sd0_arr, k_real)
                elif k_real == m:
                    rm, rss = r_mean, r_ss
                else:
                    keys = rng.random((n_chains, m))
                    idx = np.argpartition(keys, k_real - 1, axis=1)[:, :k_real]
                    pts = np.take_along_axis(real_points, idx, axis=1)
                    rm = pts.mean(axis=1)
                    rss = ((pts - rm[:, None]) ** 2).sum(axis=1)
                if n:
                    n, mean, ss = _combine(n, mean, ss, k_real, rm, rss)
                else:
                    n, mean, ss = k_real, rm, rss
        means[:, g] = mean
        vars_[:, g] = ss / (n - ddof)
    settings = dict(estimator=estimator, strategy=strategy, real_fraction=lam, fresh_real=fresh_real,
                    temperature=temperature, mu0=float(mu0), sigma0=sigma0, sample_size=m, seed=seed,
                    label=_label(strategy, lam, fresh_real), method="exact")
    return GaussianChains(means, vars_, settings)


def simulate_gaussian_naive(n_chains: int = 1000, generations: int = 100, sample_size: int = 100, *,
                            estimator: str = "mle", strategy: str = "replace", real_fraction: float = 0.0,
                            fresh_real: bool = False, temperature: float = 1.0, mu0: float = 0.0,
                            sigma0: float = 1.0, seed: int = 0) -> GaussianChains:
    """The same experiment done the slow way: draw every sample, refit (vectorised across chains).

    Memory and time grow with M (and, for ``accumulate``, with the pool). Used
    to test :func:`simulate_gaussian_chains` and as the benchmark baseline.
    """
    n_chains, generations, m, lam, temperature, sigma0 = _check_sim_args(
        n_chains, generations, sample_size, estimator, strategy, real_fraction, temperature, sigma0, seed)
    ddof = _ddof(estimator)
    rng = np.random.default_rng(seed)
    means = np.empty((n_chains, generations + 1))
    vars_ = np.empty((n_chains, generations + 1))
    real = mu0 + sigma0 * rng.standard_normal((n_chains, m))
    pool = [real]
    train = real
    k_real = int(round(lam * m)) if strategy == "real_fraction" else 0
    for g in range(generations + 1):
        if g > 0:
            mu, sd = means[:, g - 1:g], temperature * np.sqrt(vars_[:, g - 1:g])
            synth = mu + sd * rng.standard_normal((n_chains, m))
            if strategy == "replace":
                train = synth
            elif strategy == "accumulate":
                pool.append(synth)
                train = np.concatenate(pool, axis=1)
            else:
                parts = [synth[:, : m - k_real]]
                if k_real:
                    if fresh_real:
                        parts.append(mu0 + sigma0 * rng.standard_normal((n_chains, k_real)))
                    else:
                        idx = np.argsort(rng.random((n_chains, m)), axis=1)[:, :k_real]
                        parts.append(np.take_along_axis(real, idx, axis=1))
                train = np.concatenate(parts, axis=1)
        means[:, g] = train.mean(axis=1)
        vars_[:, g] = train.var(axis=1, ddof=ddof)
    settings = dict(estimator=estimator, strategy=strategy, real_fraction=lam, fresh_real=fresh_real,
                    temperature=temperature, mu0=float(mu0), sigma0=sigma0, sample_size=m, seed=seed,
                    label=_label(strategy, lam, fresh_real), method="naive")
    return GaussianChains(means, vars_, settings)


# --------------------------------------------------------------------------- closed forms
# Shumailov et al., Nature 2024, Theorem 3.1 and Supplementary Information §3.1.
def _fits(generation) -> np.ndarray:
    g = np.asarray(generation, dtype=float)
    if np.any(g < 0):
        raise ValueError("`generation` must be >= 0.")
    return g + 1.0


def expected_variance(generation, sample_size: int, estimator: str = "mle", sigma2: float = 1.0):
    """E[σ²_g] under ``replace``: σ²((M-1)/M)^(g+1) for the MLE, σ² for the unbiased estimator
    (the unbiased fitted variance is a martingale)."""
    m = check_int("sample_size", sample_size, low=2)
    n = _fits(generation)
    if check_choice("estimator", estimator, ESTIMATORS) == "mle":
        return sigma2 * ((m - 1) / m) ** n
    return sigma2 * np.ones_like(n)


def median_variance(generation, sample_size: int, estimator: str = "unbiased", sigma2: float = 1.0):
    """Approximate median of σ²_g under ``replace``.

    log σ²_g is a sum of g+1 iid terms log(χ²_{M-1}/d) (d = M-1 unbiased, M MLE),
    so by the central limit theorem its median ≈ its mean
    (g+1)·(ψ((M-1)/2) + log 2 - log d). The median decays geometrically to 0
    even when the mean (unbiased) stays at σ²: almost every chain collapses.
    """
    m = check_int("sample_size", sample_size, low=2)
    d = m if check_choice("estimator", estimator, ESTIMATORS) == "mle" else m - 1
    elog = digamma((m - 1) / 2) + np.log(2.0) - np.log(d)
    return sigma2 * np.exp(_fits(generation) * elog)


def marginal_variance_law(generation, sample_size: int, sigma2: float = 1.0):
    """Variance of a sample of model g (unbiased estimator, ``replace``), over chains:
    σ²(1 + (g+1)/M) exactly, because the mean random-walks with step variance σ²/M
    while E[σ²] stays σ² (Shumailov et al. SI §3.1: σ²(1 + n/M) with n = g+1)."""
    m = check_int("sample_size", sample_size, low=2)
    return sigma2 * (1.0 + _fits(generation) / m)


def w2_first_order(generation, sample_size, sigma2: float = 1.0):
    """First-order E[W2²] between model g and the truth: (3/2)σ² Σ_{i=1}^{g+1} 1/M_i
    (Shumailov et al. SI §3.1.1). ``sample_size`` may be an int or the sequence M_i."""
    g = np.asarray(generation, dtype=int)
    if np.isscalar(sample_size) or np.ndim(sample_size) == 0:
        m = check_int("sample_size", sample_size, low=2)
        return 1.5 * sigma2 * (g + 1) / m
    ms = check_array("sample_size", sample_size, ndim=1)
    if np.any(ms < 2):
        raise ValueError("every entry of `sample_size` must be >= 2.")
    csum = np.cumsum(1.0 / ms)
    if np.any(g + 1 > len(ms)):
        raise ValueError(f"`sample_size` lists {len(ms)} sizes but generation {int(g.max())} needs {int(g.max()) + 1}.")
    return 1.5 * sigma2 * csum[g]


# --------------------------------------------------------------------------- explorer
EXPLORER_STRATEGIES = {
    "replace": ("replace", False),
    "accumulate": ("accumulate", False),
    "real fraction (fixed real set)": ("real_fraction", False),
    "real fraction (fresh real data)": ("real_fraction", True),
}
FLOOR = 1e-12  # variances below this are drawn at the floor, and the plot says so


def explorer_figure(sample_size: int = 100, generations: int = 200, estimator: str = "mle",
                    strategy: str = "replace", real_fraction: float = 0.1, n_chains: int = 1000, seed: int = 0):
    """The lesson-01 explorer's picture: fitted variance and mean of many chains per generation.

    ``strategy`` is one of the keys of :data:`EXPLORER_STRATEGIES`. ``real_fraction``
    is used only by the real-fraction strategies. Returns ``(figure, chains)``.
    """
    import matplotlib.pyplot as plt

    from .plots import annotate, closed_form, fan_chart

    check_choice("strategy", strategy, EXPLORER_STRATEGIES)
    name, fresh = EXPLORER_STRATEGIES[strategy]
    lam = real_fraction if name == "real_fraction" else 0.0
    if name == "real_fraction" and not fresh and 0 < lam:
        # re-drawing subsets of a fixed real set costs chains × generations × M: cap the work so the
        # explorer stays interactive (the panel title shows how many chains were run)
        n_chains = int(min(n_chains, max(100, 5e6 // (generations * sample_size))))
    chains = simulate_gaussian_chains(n_chains, generations, sample_size, estimator=estimator, strategy=name,
                                      real_fraction=lam, fresh_real=fresh, seed=seed)
    fig, (ax_v, ax_m) = plt.subplots(1, 2, figsize=(11, 4.0))
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.13, top=0.9, wspace=0.22)
    # at most ~200 plotted generations: finer than the screen resolves, and 5x faster to draw
    gens = np.unique(np.linspace(0, generations, min(generations + 1, 200)).astype(int))
    var, mean = chains.var[:, gens], chains.mean[:, gens]
    fan_chart(np.maximum(var, FLOOR), ax=ax_v, label="median of chains", n_paths=5, seed=seed, generations=gens)
    ax_v.plot(gens, np.maximum(var.mean(axis=0), FLOOR), color="tab:orange", lw=1.5, label="mean of chains")
    if name == "replace" or lam == 0.0:
        closed_form(ax_v, gens, np.maximum(expected_variance(gens, sample_size, estimator), FLOOR),
                    label="E[σ²] law", source="Shumailov SI §3.1")
        closed_form(ax_v, gens, np.maximum(median_variance(gens, sample_size, estimator), FLOOR), style=":",
                    label="median ≈ (CLT on log σ²)", source="")
    ax_v.set_yscale("log")
    # plain "1e-04" tick labels: mathtext labels cost more to render than everything else in the figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax_v.yaxis.set_major_locator(LogLocator(numticks=7))
    ax_v.yaxis.set_minor_locator(NullLocator())
    ax_v.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}" if v < 0.01 or v > 100 else f"{v:g}"))
    ax_v.set_xlabel("generation")
    ax_v.set_ylabel("fitted variance σ² (truth: 1)")
    k_real = int(round(lam * sample_size))
    lam_txt = f", λ={lam:g} ({k_real}/{sample_size} real)" if name == "real_fraction" else ""
    ax_v.set_title(f"variance · {strategy}{lam_txt} · M={sample_size} · {estimator}")
    collapsed = float(np.mean(chains.var[:, -1] < 1e-6))
    if collapsed > 0:
        annotate(ax_v, f"{collapsed:.0%} of chains collapsed\n(σ² < 1e-6 at generation {generations})",
                 loc="lower left")
    if np.any(chains.var < FLOOR):
        annotate(ax_v, f"values below {FLOOR:g} drawn at {FLOOR:g}", loc="upper right", color="0.3")
    ax_v.legend(fontsize=7, loc="center left")
    fan_chart(mean, ax=ax_m, label="median of chains", n_paths=5, seed=seed, generations=gens)
    ax_m.axhline(0.0, color="black", lw=0.8)
    ax_m.set_ylabel("fitted mean μ (truth: 0)")
    ax_m.set_title(f"mean · {chains.n_chains} chains")
    return fig, chains


def gaussian_explorer(n_chains: int = 1000, seed: int = 0, **initial):
    """An :class:`~collapse_kit.widgets.Explorer` for lesson 01.

    Controls: sample size M (2–1000), generations (1–1000), estimator,
    strategy, and real fraction λ (enabled only for the real-fraction strategies).
    """
    from . import widgets as w

    controls = {
        "sample_size": w.int_slider("sample size M", initial.get("sample_size", 100), 2, 1000),
        "generations": w.int_slider("generations", initial.get("generations", 200), 1, 1000),
        "estimator": w.toggle("estimator", ESTIMATORS, initial.get("estimator", "mle")),
        "strategy": w.dropdown("strategy", EXPLORER_STRATEGIES, initial.get("strategy", "replace")),
        "real_fraction": w.float_slider("real fraction λ", initial.get("real_fraction", 0.1), 0.0, 1.0, 0.05),
    }

    def _sync_lambda(change=None):
        controls["real_fraction"].disabled = not controls["strategy"].value.startswith("real fraction")

    controls["strategy"].observe(_sync_lambda, names="value")
    _sync_lambda()

    def draw(**values):
        return explorer_figure(n_chains=n_chains, seed=seed, **values)

    return w.Explorer(controls, draw, title="Gaussian collapse explorer: fit → sample → refit, many chains")
