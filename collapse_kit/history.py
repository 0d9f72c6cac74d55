"""The tidy history: one table type for every lesson's results.

A history is a ``pandas.DataFrame`` with one row per generation × chain × metric
and one meaning per column:

============== ==============================================================
``generation`` 0 = fitted to real data; g = the g-th retraining
``chain``      index of the chain inside its batch (0 .. n_chains-1)
``seed``       the seed of the batch the chain belongs to
``metric``     the metric's name
``value``      the metric's value (float)
``strategy``   the strategy's label (``Strategy.label``, e.g. "real fraction 0.1 (fixed)")
``strategy_name`` the strategy's name (``replace``, ``accumulate``, ...)
``real_fraction`` λ for ``real_fraction`` strategies, 0 for ``replace``, NaN for the accumulating ones
``fresh_real`` whether real items are fresh draws each generation
...            constant labels given by the caller (e.g. ``M``, ``estimator``)
============== ==============================================================

Generation 0 is shared by every strategy of a run and appears once per strategy,
so each strategy's curve starts at the same point.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .strategies import REAL_FRACTION

COLUMNS = ["generation", "chain", "seed", "metric", "value", "strategy", "strategy_name", REAL_FRACTION,
           "fresh_real"]


def from_arrays(values: Mapping[str, np.ndarray], *, strategy, seed: int = 0, generations: Sequence[int] | None = None,
                labels: Mapping | None = None) -> pd.DataFrame:
    """A history from arrays ``metric -> (n_chains, n_generations)`` of one strategy and seed."""
    names = list(values)
    arrays = [np.asarray(values[name], dtype=float) for name in names]
    for name, arr in zip(names, arrays):
        if arr.ndim != 2 or arr.shape != arrays[0].shape:
            raise ValueError(f"metric {name!r}: expected an array (n_chains, n_generations) like the others "
                             f"{arrays[0].shape}, got shape {arr.shape}.")
    c, g = arrays[0].shape if arrays else (0, 0)
    gens = np.arange(g) if generations is None else np.asarray(generations)
    k = len(arrays)
    frame = pd.DataFrame({"generation": np.tile(gens, c * k), "chain": np.tile(np.repeat(np.arange(c), g), k),
                          "seed": np.full(c * g * k, seed, dtype=np.int64),
                          # categorical from codes (metrics in the given order, as run_generations does): fast
                          "metric": pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=np.int8), c * g), names),
                          "value": np.concatenate([a.ravel() for a in arrays]) if k else np.zeros(0)})
    return finish(frame, strategy, labels)


def finish(frame: pd.DataFrame, strategy, labels: Mapping | None = None) -> pd.DataFrame:
    """Add the strategy's columns and constant labels; categorical text columns keep it small."""
    for key, value in strategy.columns().items():
        if key in ("strategy", "strategy_name"):  # a constant category: built from codes (fast on big frames)
            value = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [value])
        frame[key] = value
    for key, value in (labels or {}).items():
        if key in COLUMNS:
            raise ValueError(f"label {key!r} would overwrite a history column; choose another name.")
        frame[key] = value
    for key in ("metric", "strategy", "strategy_name"):
        frame[key] = frame[key].astype("category")
    return frame


def concat(histories: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack histories (categorical columns are merged)."""
    out = pd.concat([h.astype({k: str for k in ("metric", "strategy", "strategy_name")}) for h in histories],
                    ignore_index=True)
    for key in ("metric", "strategy", "strategy_name"):  # categories in order of appearance (teaching order)
        out[key] = pd.Categorical(out[key], categories=list(out[key].unique()))  # unique(): order of appearance
    return out


def _check_metric(history: pd.DataFrame, metric: str) -> pd.DataFrame:
    names = {str(m) for m in history["metric"].unique()}  # unique() first: fast on big histories
    if metric not in names:
        raise ValueError(f"`metric` must be one of {sorted(names)} (got {metric!r}).")
    return history[history["metric"] == metric]


def values(history: pd.DataFrame, metric: str, strategy: str | None = None, seed: int | None = None) -> np.ndarray:
    """One metric as an array ``(chains, generations)`` (chains of every seed stacked).

    ``strategy`` is a label (``history.strategy``) and is required when the history holds several.
    """
    sub = _check_metric(history, metric)
    labels = [str(x) for x in sub["strategy"].unique()]  # order of appearance
    if strategy is None:
        if len(labels) > 1:
            raise ValueError(f"the history holds several strategies: pass `strategy=` one of {labels}.")
    else:
        if strategy not in labels:
            raise ValueError(f"`strategy` must be one of {labels} (got {strategy!r}).")
        sub = sub[sub["strategy"] == strategy]
    if seed is not None:
        sub = sub[sub["seed"] == seed]
    fast = _complete_grid(sub)
    if fast is not None:
        return fast
    wide = sub.pivot_table(index=["seed", "chain"], columns="generation", values="value", aggfunc="first",
                           observed=True)
    return wide.to_numpy()


def _complete_grid(sub: pd.DataFrame) -> np.ndarray | None:
    """``values`` without a pivot table when every (seed, chain) has each generation exactly once
    (what the engines produce); ``None`` otherwise. Same order as the pivot: rows by (seed, chain)."""
    gens, n = sub["generation"].to_numpy(), len(sub)
    ug = np.unique(gens)
    if not n or n % len(ug):
        return None
    seeds, chains = sub["seed"].to_numpy(), sub["chain"].to_numpy()
    order = np.lexsort((gens, chains, seeds))
    rows = (n // len(ug), len(ug))
    g2, s2, c2 = gens[order].reshape(rows), seeds[order].reshape(rows), chains[order].reshape(rows)
    if not (np.array_equal(g2, np.broadcast_to(ug, rows)) and np.all(s2 == s2[:, :1]) and np.all(c2 == c2[:, :1])):
        return None
    return sub["value"].to_numpy(dtype=float)[order].reshape(rows)


def paired_difference(history: pd.DataFrame, metric: str, strategy: str, baseline: str,
                      generation: int = -1) -> tuple[float, float]:
    """``strategy`` minus ``baseline`` on ``metric`` at one generation, chain by chain.

    For arms that share generation 0 chain by chain (as :func:`~collapse_kit.loop.run_generations` runs
    them), the paired difference cancels what the chains do not share. Returns ``(mean, standard error)``
    of the per-chain differences (standard error across chains; NaN with a single chain). ``generation``
    indexes the stored generations (``-1``: the last).
    """
    a, b = values(history, metric, strategy), values(history, metric, baseline)
    if a.shape != b.shape:
        raise ValueError(f"{strategy!r} and {baseline!r} must have the same chains and generations "
                         f"(got {a.shape} and {b.shape}).")
    if not -a.shape[1] <= generation < a.shape[1]:
        raise ValueError(f"`generation` must be in [{-a.shape[1]}, {a.shape[1] - 1}] (got {generation}).")
    d = a[:, generation] - b[:, generation]
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
    return float(d.mean()), float(se)


def summarize(history: pd.DataFrame, metric: str, by: Sequence[str] = ("strategy", "generation"),
              quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """Mean, standard deviation, standard error and quantiles of one metric per generation (and strategy)."""
    sub = _check_metric(history, metric)
    by = [b for b in by if b in sub.columns]
    grouped = sub.groupby(by, observed=True)["value"]
    out = grouped.agg(mean="mean", std="std", count="count")
    out["sem"] = out["std"] / np.sqrt(out["count"])
    for q in quantiles:
        out[f"q{q:g}"] = grouped.quantile(q)
    return out.reset_index()


def final(history: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each strategy's mean ± standard error of ``metric`` at the last generation."""
    s = summarize(history, metric)
    last = s.groupby("strategy", observed=True)["generation"].transform("max")
    return s[s["generation"] == last].reset_index(drop=True)
