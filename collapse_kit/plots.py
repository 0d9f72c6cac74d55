"""Plots shared by every lesson: one seaborn style, history plots, fan charts.

All functions draw on a matplotlib ``Axes`` (created if not given) and return
it, so a notebook can add a title or a closed-form line on top.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PALETTE = "colorblind"


def set_style(context: str = "notebook") -> None:
    """The course's plot style: seaborn ``whitegrid`` with a colour-blind palette."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    matplotlib.rcParams.update({"figure.figsize": (7.5, 4.2), "figure.dpi": 90,
                                "axes.titlesize": "medium", "axes.titleweight": "bold"})


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_history(history: pd.DataFrame, metric: str, *, hue: str | None = "strategy", ax=None,
                 title: str | None = None, logy: bool = False, errorbar=("pi", 90)):
    """Plot one metric of a tidy history against the generation.

    One line per strategy (``hue``): the mean over chains and seeds; the band is the 5–95%
    interval across chains (``errorbar=("pi", 90)``) or any seaborn errorbar spec.
    """
    import seaborn as sns
    from matplotlib.ticker import MaxNLocator

    names = set(history["metric"].astype(str))
    if metric not in names:
        raise ValueError(f"`metric` must be one of {sorted(names)} (got {metric!r}).")
    ax = _ax(ax)
    data = history[history["metric"] == metric].copy()
    if hue is not None and (hue not in data.columns or data[hue].nunique() <= 1):
        hue = None
    if hue is not None and isinstance(data[hue].dtype, pd.CategoricalDtype):
        data[hue] = data[hue].cat.remove_unused_categories()
    sns.lineplot(data=data, x="generation", y="value", hue=hue, errorbar=errorbar, marker="o",
                 markersize=4, ax=ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")
    ax.set_ylabel(pretty(metric))
    if logy:
        ax.set_yscale("log")
    ax.set_title(title or f"{pretty(metric)} per generation")
    return ax


def pretty(name: str) -> str:
    """A metric or column name as a label: underscores become spaces (``distinct_2`` -> ``distinct 2``)."""
    return str(name).replace("_", " ")


def fan_chart(values, *, ax=None, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
              color: str | None = None, label: str = "median", n_paths: int = 0, seed: int = 0,
              generations=None):
    """A fan chart of many chains: shaded quantile bands per generation, the median, and a
    few individual chains.

    Parameters
    ----------
    values : array of shape (n_chains, n_generations)
    quantiles : symmetric quantiles; pairs form the bands, 0.5 the line.
    n_paths : number of individual chains to draw thinly on top.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(f"`values` must have shape (n_chains, n_generations) (got {values.shape}).")
    ax = _ax(ax)
    gens = np.arange(values.shape[1]) if generations is None else np.asarray(generations)
    qs = sorted(quantiles)
    qv = np.quantile(values, qs, axis=0)
    color = color or matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]
    n_band = len(qs) // 2
    for i in range(n_band):
        lo, hi = qv[i], qv[len(qs) - 1 - i]
        ax.fill_between(gens, lo, hi, color=color, alpha=0.15 + 0.15 * i, linewidth=0,
                        label=f"{qs[i]:.0%}–{qs[len(qs) - 1 - i]:.0%} of chains")
    if 0.5 in qs:
        ax.plot(gens, qv[qs.index(0.5)], color=color, lw=2, label=label)
    if n_paths:
        rng = np.random.default_rng(seed)
        idx = rng.choice(values.shape[0], size=min(n_paths, values.shape[0]), replace=False)
        for j, i in enumerate(idx):
            ax.plot(gens, values[i], color="0.35", lw=0.6, alpha=0.7,
                    label="single chains" if j == 0 else None)
    ax.set_xlabel("generation")
    return ax


def closed_form(ax, x, y, *, label: str, source: str | None = None, style: str = "--", color="black", **kw):
    """Draw a closed-form law over a simulation, labelled with its source."""
    text = f"{label} ({source})" if source else label
    ax.plot(x, y, style, color=color, lw=1.8, label=text, **kw)
    return ax


def annotate(ax, text: str, *, loc: str = "upper right", color: str = "firebrick") -> None:
    """A boxed note inside the axes (e.g. "collapsed: all variance lost")."""
    xs = {"upper right": (0.98, 0.95, "right", "top"), "upper left": (0.02, 0.95, "left", "top"),
          "lower right": (0.98, 0.05, "right", "bottom"), "lower left": (0.02, 0.05, "left", "bottom"),
          "center": (0.5, 0.5, "center", "center")}
    if loc not in xs:
        raise ValueError(f"`loc` must be one of {sorted(xs)} (got {loc!r}).")
    x, y, ha, va = xs[loc]
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, color=color, fontsize=9,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec=color, alpha=0.9))


# =========================================================================== figures by topic
# Each topic's figures live in its own section below (sections are edited independently;
# keep edits inside your section). Explorers (collapse_kit.explorers) are built from these.

# --------------------------------------------------------------------------- gaussian (lessons 00-01)

# --------------------------------------------------------------------------- discrete and mixtures (lesson 02)

# --------------------------------------------------------------------------- images (lesson 03)

# --------------------------------------------------------------------------- strategy comparisons and regression (lesson 04)

# --------------------------------------------------------------------------- language models (lessons 05-06)
