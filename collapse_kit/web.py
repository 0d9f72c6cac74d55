"""Lesson 08: the web as a commons.

A shared web fills up with model output; each year's model trains on a crawl of it. That is the
course's one loop (:func:`~collapse_kit.loop.run_generations`) with the
:class:`~collapse_kit.strategies.WebCrawl` strategy: no new driver. This module adds what the lesson
measures on top of it:

* :func:`logistic_adoption`: a rising share of model output that gets posted;
* :func:`entrants`: a metric that, each year, trains *other* actors on the same web (a first mover
  who kept a pre-AI crawl, a late entrant, a provenance-filtering entrant) without letting them
  write to it, and scores them;
* :func:`run_web`: the Gaussian web run (``GaussianModel`` in the loop) with those entrants;
* :func:`strong_collapse_law` / :func:`simulate_strong_collapse`: least squares on a mix of real
  labels and labels from a wrong regressor (a constant synthetic fraction ``p``): the error floor
  ``p²Δ²`` that more data does not remove (Dohmatob et al. 2025 prove the general case; the formula
  here is the course's own derivation for isotropic features, checked by simulation).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ._validate import check_float, check_fraction, check_int, check_seed
from .strategies import WebCrawl, subset


def logistic_adoption(years: int, midpoint: float = 5.0, steepness: float = 1.0, ceiling: float = 1.0,
                      start: float = 0.0) -> tuple:
    """Share of each year's model output that is posted, for ``t = 0 .. years - 1``:
    ``start + (ceiling - start) * sigmoid(steepness * (t - midpoint))`` (a tuple for
    :class:`~collapse_kit.strategies.WebCrawl`'s ``adoption``).

    Parameters
    ----------
    years : int >= 1
    midpoint : float (finite), the year adoption is half-way
    steepness : float >= 0, how fast it rises (0: flat at the half-way value)
    ceiling, start : float in [0, 1], with ``start <= ceiling``
    """
    years = check_int("years", years, low=1)
    midpoint = check_float("midpoint", midpoint)
    steepness = check_float("steepness", steepness, low=0.0)
    ceiling = check_fraction("ceiling", ceiling)
    start = check_fraction("start", start)
    if start > ceiling:
        raise ValueError(f"`start` must be <= `ceiling` (got start={start}, ceiling={ceiling}).")
    t = np.arange(years)
    return tuple(float(a) for a in start + (ceiling - start) / (1 + np.exp(-steepness * (t - midpoint))))


# --------------------------------------------------------------------------- entrants: actors that read the web
def gaussian_w2(model, mu0: float = 0.0, sigma0: float = 1.0) -> np.ndarray:
    """Model quality of a fitted :class:`~collapse_kit.gaussian.GaussianModel`: W2² to N(mu0, sigma0²), per chain."""
    from .gaussian import w2_squared

    return w2_squared(model.mu_, model.sigma2_, mu0, sigma0)


def entrant_crawls(web: WebCrawl, *, cutoff: int | None = 0, tag_accuracy: float | None = None) -> dict:
    """The crawls of the lesson's actors on ``web``, all of the same size: ``first mover`` (a crawl of the pre-AI
    web it archived: items dated 0 of a web that never forgets), ``late entrant`` (this year's crawl) and, when
    a filter is given, ``filtered entrant`` (this year's crawl through a provenance filter: date ``cutoff``
    and/or tags)."""
    if not isinstance(web, WebCrawl):
        raise TypeError(f"`web` must be a WebCrawl (got {type(web).__name__}).")
    out = {"first mover": dataclasses.replace(web, cutoff=0, memory=None, tag_accuracy=None), "late entrant": web}
    if cutoff is not None or tag_accuracy is not None:
        out["filtered entrant"] = dataclasses.replace(web, cutoff=cutoff, tag_accuracy=tag_accuracy)
    return out


def entrants(make_model: Callable, quality: Callable, crawls: Mapping[str, WebCrawl]):
    """A metric for :func:`~collapse_kit.loop.run_generations` that trains each actor of ``crawls`` on the web.

    Each year ``g >= 1`` (and in year 0, on the pre-AI web) every actor fits a fresh ``make_model()`` to
    its own crawl of the *same* web the loop's chain is building (same human items, same posted model
    output), and ``quality(model)`` scores it. The actors read the web but never post to it (small
    players in a web written by the models of the day). The metric keeps each chain's samples as the
    loop reports them, so it needs the generations in order: it refuses a run resumed part-way from a store.
    An actor whose filters leave nothing on the web (a date cutoff on a web that forgets) scores NaN.
    """
    if not callable(make_model) or not callable(quality):
        raise TypeError("`make_model` and `quality` must be callables.")
    crawls = dict(crawls)
    for name, c in crawls.items():
        if not isinstance(c, WebCrawl):
            raise TypeError(f"crawl {name!r} must be a WebCrawl (got {type(c).__name__}).")
    seen: dict = {}

    def measure(ctx) -> dict:
        key = (ctx.seed, ctx.strategy.key if ctx.generation else None)
        if ctx.generation == 0:
            seen[key] = [ctx.samples]
        elif ctx.generation == 1 and (ctx.seed, None) in seen:
            seen[key] = list(seen[(ctx.seed, None)])
        past = seen.get(key, [])
        if len(past) != max(ctx.generation, 1):
            raise ValueError("the `entrants` metric needs every year's samples in order, but this run was resumed "
                             "from a store part-way: run it without `store=` (or into a new folder).")
        out = {}
        for name, crawl in crawls.items():
            rng = ctx.rng(name)
            if ctx.generation == 0:  # a crawl of the pre-AI web
                train = ctx.real[:, :crawl.human_start]
                if crawl.crawl_size is not None and crawl.crawl_size < train.shape[1]:
                    train = subset(train, crawl.crawl_size, rng)
            elif not sum(crawl.pool_counts(ctx.generation, ctx.samples.shape[1])):
                out[name] = np.nan  # nothing this actor may use is left on the web
                continue
            else:
                train = crawl.training_set(ctx.real, past[:ctx.generation], ctx.samples.shape[1], rng)
            model = make_model()
            model = model.fit(train, rng) or model
            out[name] = quality(model)
        if ctx.generation:
            past.append(ctx.samples)
        return out

    return measure


def run_web(web: WebCrawl, *, generations: int, sample_size: int, n_chains: int = 200, seeds=0,
            temperature: float = 1.0, cutoff: int | None = 0, tag_accuracy: float | None = None,
            labels: Mapping | None = None) -> pd.DataFrame:
    """The Gaussian web: ``run_generations`` with :class:`~collapse_kit.gaussian.GaussianModel` and ``web``.

    Human items are N(0, 1); each year's model posts ``adoption`` × ``sample_size`` samples. Metrics per
    chain and year: ``W2²`` of the models of the day (the loop's chain), ``synthetic share`` of the web
    (a closed count), and ``entrant.<actor>`` (W2² of each actor of :func:`entrant_crawls`).

    Parameters
    ----------
    web : WebCrawl
    generations : int >= 1, years after year 0
    sample_size : int >= 1, M, items each year's model generates
    n_chains : int >= 1, seeds : int or iterable of ints
    temperature : float > 0, the models' sampling temperature (< 1: under-dispersed output)
    cutoff, tag_accuracy : the filtered entrant's provenance filter (both ``None``: no filtered entrant)
    labels : dict, optional, constant history columns
    """
    from . import gaussian as G
    from .loop import run_generations

    if not isinstance(web, WebCrawl):
        raise TypeError(f"`web` must be a WebCrawl (got {type(web).__name__}).")
    generations = check_int("generations", generations, low=1)
    m = check_int("sample_size", sample_size, low=1)
    temperature = check_float("temperature", temperature, low=0.0, low_open=True)
    crawls = entrant_crawls(web, cutoff=cutoff, tag_accuracy=tag_accuracy)
    make = lambda: G.GaussianModel("mle", temperature)  # noqa: E731
    share = lambda ctx: web.synthetic_share(ctx.generation, m)  # noqa: E731
    return run_generations(make, real_sampler=G.normal_source(), real_size=web.real_size(generations),
                           initial_items=web.human_start, generations=generations, sample_size=m, strategies=[web],
                           n_chains=n_chains, seeds=seeds, labels=labels,
                           metrics={"W2²": lambda c: gaussian_w2(c.model), "synthetic share": share,
                                    "entrant": entrants(make, gaussian_w2, crawls)})


def first_mover_advantage(history: pd.DataFrame, rival: str = "late entrant", generation: int | None = None,
                          strategy: str | None = None) -> tuple[float, float]:
    """Mean and standard error over chains of ``W2²(rival) - W2²(first mover)`` at ``generation``
    (default: the last year) of a :func:`run_web` history. Positive: the first mover's model is better."""
    def at(metric):
        sub = history[history["metric"] == metric] if metric in set(history["metric"].astype(str)) else None
        if sub is None:
            raise ValueError(f"the history has no metric {metric!r}: is `rival` an actor of this run?")
        if strategy is not None:
            sub = sub[sub["strategy"] == strategy]
        last = int(sub["generation"].max())
        g = last if generation is None else check_int("generation", generation, low=0, high=last)
        return sub[sub["generation"] == g].set_index(["seed", "chain"])["value"]

    diff = (at(f"entrant.{rival}") - at("entrant.first mover")).to_numpy()
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")


# --------------------------------------------------------------------------- strong collapse (regression)
def strong_collapse_law(n_samples, n_features: int, synthetic_fraction: float, shift2: float, noise: float = 1.0):
    """Expected excess test error ``E||ŵ - w*||²`` of least squares on ``n`` items, a share ``p`` of whose
    labels come from a wrong regressor ``w_s`` (``||w_s - w*||² = shift2``), isotropic Gaussian features:

    .. math:: p^2\\Delta^2 + \\frac{d\\,(\\sigma^2 + p(1-p)\\Delta^2)}{n-d-1}

    The first term is the floor: it does not depend on ``n``. This is the course's own derivation for the
    simplest case, not the paper's formula: least squares converges to the mixed regressor
    ``(1-p)w* + p w_s`` (squared distance ``p²Δ²`` from ``w*``), and the mix of labels acts like extra label
    noise of variance ``p(1-p)Δ²`` in the variance term (first order in 1/n; exact for ``p = 0``, the
    classical ``dσ²/(n-d-1)``). Dohmatob et al. (ICLR 2025) prove the general statement.
    """
    n = np.asarray(n_samples, dtype=float)
    d = check_int("n_features", n_features, low=1)
    if n.size == 0 or np.any(n != np.round(n)) or np.any(n < d + 2):
        raise ValueError(f"`n_samples` must be whole numbers >= n_features + 2 = {d + 2} (got {n_samples!r}).")
    p = check_fraction("synthetic_fraction", synthetic_fraction)
    shift2 = check_float("shift2", shift2, low=0.0)
    noise = check_float("noise", noise, low=0.0)
    return p**2 * shift2 + d * (noise**2 + p * (1 - p) * shift2) / (n - d - 1)


def simulate_strong_collapse(n_samples, n_features: int = 10, synthetic_fraction: float = 0.1, shift: float = 1.0,
                             noise: float = 1.0, n_reps: int = 200, seed: int = 0) -> pd.DataFrame:
    """Fit least squares on ``n`` items of which ``round(p n)`` have labels from ``w_s`` (``||w_s - w*|| = shift``):
    the excess test error ``||ŵ - w*||²`` per repetition, for each ``n`` of ``n_samples``.

    Returns a DataFrame with columns ``n``, ``rep``, ``error``, ``law``. Same seed, same numbers.
    """
    ns = np.asarray(n_samples)
    d = check_int("n_features", n_features, low=1)
    if ns.ndim != 1 or ns.size == 0 or np.any(ns != np.round(ns)) or np.any(ns < d + 2):
        raise ValueError(f"`n_samples` must be a list of whole numbers >= n_features + 2 = {d + 2} "
                         f"(got {n_samples!r}).")
    p = check_fraction("synthetic_fraction", synthetic_fraction)
    shift = check_float("shift", shift, low=0.0)
    noise = check_float("noise", noise, low=0.0)
    reps = check_int("n_reps", n_reps, low=2)
    seed = check_seed("seed", seed)
    w_star = np.zeros(d)
    w_syn = np.zeros(d)
    w_syn[0] = shift
    rows = []
    for n in ns.astype(int):
        rng = np.random.default_rng([seed, n])
        k = int(round(p * n))
        err = np.empty(reps)
        for lo in range(0, reps, 50):  # chunks keep memory small at large n
            r = min(50, reps - lo)
            x = rng.standard_normal((r, n, d))
            w = np.where((np.arange(n) < k)[None, :, None], w_syn, w_star)  # the first k labels are synthetic
            y = np.einsum("rnd,rnd->rn", x, np.broadcast_to(w, x.shape)) + noise * rng.standard_normal((r, n))
            w_hat = np.linalg.solve(np.einsum("rni,rnj->rij", x, x), np.einsum("rni,rn->ri", x, y)[..., None])[..., 0]
            err[lo:lo + r] = ((w_hat - w_star) ** 2).sum(axis=1)
        rows.append(pd.DataFrame({"n": n, "rep": np.arange(reps), "error": err,
                                  "law": float(strong_collapse_law(n, d, k / n, shift**2, noise))}))
    return pd.concat(rows, ignore_index=True)
