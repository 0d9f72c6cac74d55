"""Lesson 04: strategy comparisons that work for any model of the loop.

Every function here is a few calls of :func:`collapse_kit.loop.run_generations` (several strategies
share generation 0) and returns its tidy history (:mod:`collapse_kit.history`) or a table built from
it. The strategies are :class:`~collapse_kit.strategies.Strategy` objects.

The lesson's two models (:func:`lesson_model`) are :class:`~collapse_kit.gaussian.GaussianModel`
on N(0, 1) and :class:`~collapse_kit.mixture.GaussianMixtureModel` on the named population
``"two_modes"`` (a majority mode and a 20% minority). The collapse measure throughout is the
**spread kept**: the fitted model's variance divided by the real distribution's variance
(1 = healthy, 0 = collapsed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from . import history as H
from ._validate import check_choice, check_float, check_fraction, check_int
from .loop import run_generations
from .strategies import REAL_FRACTION, WORKFLOWS, real_fraction_grid, strategy_list

MODELS = ("gaussian", "mixture")


# --------------------------------------------------------------------------- the lesson's models
def model_variance(model) -> np.ndarray:
    """Variance of each chain's fitted 1-D model (Gaussian or Gaussian mixture), shape (n_chains,)."""
    if getattr(model, "weights_", None) is not None:
        w, mu, var = model.weights_, model.means_, model.vars_
        return (w * (var + mu**2)).sum(-1) - (w * mu).sum(-1) ** 2
    return np.asarray(model.sigma2_)


@dataclass(frozen=True)
class LessonModel:
    """A model of the lesson and its real world: ``make_model``, ``real_sampler``, the real density."""

    name: str
    make_model: Callable
    real_sampler: Callable
    pdf: Callable
    real_variance: float
    population: object = None

    def metrics(self, *extra: str) -> dict:
        """``spread kept`` (fitted variance / real variance) and, on request, ``quality`` (mean real
        log-density of the generation's samples), ``diversity`` (their variance / real variance) and,
        for the mixture, ``minority share`` (samples the real posterior gives to the minority)."""
        v0, pdf = self.real_variance, self.pdf
        available = {
            "spread kept": lambda c: model_variance(c.model) / v0,
            "quality": lambda c: np.log(np.maximum(pdf(c.samples), 1e-300)).mean(axis=1),
            "diversity": lambda c: c.samples.var(axis=1) / v0,
        }
        if self.population is not None:
            from .mixture import minority_share

            available["minority share"] = lambda c: minority_share(c.samples, self.population)
        for name in extra:
            if name not in available:
                raise ValueError(f"`extra` metrics must be among {sorted(available)} (got {name!r}).")
        return {k: available[k] for k in ("spread kept", *extra)}


def lesson_model(name: str = "gaussian", temperature: float = 1.0, *, n_iter: int = 30) -> LessonModel:
    """``"gaussian"``: GaussianModel (MLE) on N(0, 1). ``"mixture"``: a 2-component
    GaussianMixtureModel (at most ``n_iter`` EM steps per fit) on the population ``"two_modes"``.
    ``temperature`` scales the spread of the samples (below 1: a sampling bias)."""
    check_choice("name", name, MODELS)
    tau = check_float("temperature", temperature, low=0.0, low_open=True)
    if name == "gaussian":
        from .gaussian import GaussianModel, normal_source

        return LessonModel(name, lambda: GaussianModel("mle", tau), normal_source(0.0, 1.0),
                           lambda x: np.exp(-0.5 * np.asarray(x) ** 2) / np.sqrt(2 * np.pi), 1.0)
    from .mixture import GaussianMixtureModel, population

    pop = population("two_modes")
    w, mu, sd = (np.asarray(a) for a in (pop.weights, pop.means, pop.sds))
    var = float((w * (sd**2 + mu**2)).sum() - (w * mu).sum() ** 2)
    n_iter = check_int("n_iter", n_iter, low=1)
    return LessonModel(name, lambda: GaussianMixtureModel(2, n_iter=n_iter, temperature=tau), pop.sampler(),
                       pop.pdf, var, pop)


# --------------------------------------------------------------------------- comparisons
def compare_strategies(make_model: Callable, real=None, *, strategies=WORKFLOWS, generations: int,
                       sample_size: int | None = None, real_sampler=None, real_size: int | None = None,
                       n_chains: int = 100, metrics: dict, seed: int = 0, labels: dict | None = None,
                       progress: bool = False) -> pd.DataFrame:
    """Several strategies on the same chains: one :func:`run_generations` call, generation 0 shared.

    Parameters are those of :func:`~collapse_kit.loop.run_generations` (``seed`` is its single
    seed); ``strategies`` is a list of :class:`Strategy` objects or names (default: the four
    workflows, :data:`~collapse_kit.strategies.WORKFLOWS`). Returns the tidy history.
    """
    return run_generations(make_model, real, generations=generations, sample_size=sample_size,
                           strategies=strategy_list(strategies), real_sampler=real_sampler, real_size=real_size,
                           n_chains=n_chains, metrics=metrics, seeds=seed, labels=labels, progress=progress)


def temperature_tradeoff(temperatures=(0.8, 0.9, 1.0), *, model: str = "gaussian", strategy=WORKFLOWS[0],
                         generations: int = 30, sample_size: int = 100, n_chains: int = 200,
                         seed: int = 0) -> pd.DataFrame:
    """Quality and diversity per generation for several sampling temperatures (one
    :func:`run_generations` per temperature, same seed). Returns the tidy history with a
    ``temperature`` column and the metrics ``quality``, ``diversity`` and ``spread kept``."""
    temps = [check_float("temperatures", t, low=0.0, low_open=True) for t in np.atleast_1d(temperatures)]
    if not temps:
        raise ValueError("`temperatures` must hold at least one temperature > 0.")
    frames = []
    for tau in temps:
        lm = lesson_model(model, tau)
        frames.append(run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=sample_size,
                                      sample_size=sample_size, strategies=strategy, generations=generations,
                                      n_chains=n_chains, metrics=lm.metrics("quality", "diversity"), seeds=seed,
                                      labels={"temperature": tau}))
    return H.concat(frames)


def median_se(x: np.ndarray) -> tuple[float, float]:
    """The median of ``x`` and its standard error, distribution-free: half the distance between the
    order statistics ``n/2 ± √n/2`` (the median's rank has binomial standard deviation √n/2)."""
    s = np.sort(np.asarray(x, dtype=float))
    n = len(s)
    half = np.sqrt(n) / 2
    lo, hi = int(np.floor(n / 2 - half)), int(np.ceil(n / 2 + half))
    return float(np.median(s)), float((s[min(hi, n - 1)] - s[max(lo, 0)]) / 2)


def phase_diagram(real_fractions=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5), sample_sizes=(2, 5, 10, 20, 50, 100), *,
                  model: str = "gaussian", fresh_real: bool = False, generations: int = 50, n_chains: int = 200,
                  threshold: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """The spread kept after G generations over real fraction λ × sample size M.

    For each M, one :func:`run_generations` runs every ``real_fraction=λ`` strategy on the same
    chains. Returns one row per cell: ``real_fraction, sample_size, effective_real_fraction``
    (round(λM)/M), ``spread`` (median over chains of σ²_G / σ²_0, the spread kept since
    generation 0, which was fitted on real data: a small M's own estimation noise is not counted
    as collapse), ``spread_se`` (its standard error, :func:`median_se`), ``collapsed`` (fraction of
    chains below 1% of their generation-0 spread) and ``stable`` (median ≥ ``threshold``).
    """
    lams = [check_fraction("real_fractions", x) for x in np.atleast_1d(real_fractions)]
    ms = [check_int("sample_sizes", x, low=2) for x in np.atleast_1d(sample_sizes)]
    if not lams or not ms:
        raise ValueError("`real_fractions` and `sample_sizes` must each hold at least one value.")
    threshold = check_float("threshold", threshold, low=0.0, low_open=True)
    lm = lesson_model(model)
    strategies = real_fraction_grid(lams, fresh_real)
    rows = []
    for m in ms:
        hist = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=m, sample_size=m,
                               strategies=strategies, generations=generations, n_chains=n_chains,
                               metrics=lm.metrics(), seeds=seed)
        for s in strategies:
            v = H.values(hist, "spread kept", s.label)
            with np.errstate(divide="ignore", invalid="ignore"):
                kept = v[:, -1] / v[:, 0]
            kept = np.where(np.isfinite(kept), kept, 1.0)  # zero spread at generation 0 stays zero
            med, se = median_se(kept)
            rows.append(dict(real_fraction=s.real_fraction, sample_size=m,
                             effective_real_fraction=s.effective_real_fraction(m), spread=med, spread_se=se,
                             collapsed=float(np.mean(kept < 0.01)), stable=med >= threshold))
    out = pd.DataFrame(rows)
    out.attrs.update(model=model, generations=generations, threshold=threshold, fresh_real=fresh_real,
                     n_chains=n_chains)
    return out


# --------------------------------------------------------------------------- closed forms
def fresh_real_expected_variance(generation, sample_size: int, real_fraction: float, temperature: float = 1.0):
    """Exact E[σ²_g] for the Gaussian (MLE) with a fraction λ of *fresh* real data each generation.

    Derived in lesson 04 from the pooled-variance formula: with k_r = round(λM) real
    and k_s = M − k_r synthetic items, a = E[σ²], b = E[μ²] (truth N(0, 1)) follow
    the linear recursion

        a' = [(k_r − 1) + k_s/M + ((k_s − 1) + k_r/M) τ² a + (k_r k_s / M) b] / M
        b' = [k_r + k_s τ² a + k_s² b] / M²

    from a₀ = (M−1)/M, b₀ = 1/M. With λ > 0 and τ = 1 it settles at a level below 1;
    with λ = 0 it is the replace law ((M−1)/M)^(g+1).
    """
    gens = np.asarray(generation)
    if gens.size == 0 or np.any(gens < 0) or np.any(gens != np.floor(gens)):
        raise ValueError("`generation` must hold whole numbers >= 0.")
    m = check_int("sample_size", sample_size, low=2)
    lam = check_fraction(REAL_FRACTION, real_fraction)
    tau2 = check_float("temperature", temperature, low=0.0, low_open=True) ** 2
    kr = int(round(lam * m))
    ks = m - kr
    a, b = (m - 1) / m, 1 / m
    out = [a]
    for _ in range(int(gens.max())):
        a, b = (((kr - 1) + ks / m + ((ks - 1) + kr / m) * tau2 * a + (kr * ks / m) * b) / m,
                (kr + ks * tau2 * a + ks**2 * b) / m**2)
        out.append(a)
    return np.asarray(out)[gens.astype(int)]
