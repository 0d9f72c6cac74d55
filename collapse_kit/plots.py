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

from .strategies import REAL_FRACTION

PALETTE = "colorblind"


def set_style(context: str = "notebook") -> None:
    """The course's plot style: seaborn ``whitegrid`` with a colour-blind palette."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    # constrained layout keeps titles and labels inside the figure and apart from each other
    matplotlib.rcParams.update({"figure.figsize": (7.5, 4.2), "figure.dpi": 90, "figure.constrained_layout.use": True,
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


def layout_problems(fig, *, tolerance: float = 1.0) -> list[str]:
    """Titles and axis labels of ``fig`` that overlap each other or fall outside the figure.

    Returns a list of sentences (empty when the layout is clean). Used by the test that
    renders every figure of every lesson.
    """
    if not hasattr(fig.canvas, "get_renderer"):  # a figure made without pyplot: draw it with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = []
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(("suptitle", fig._suptitle))
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison and not ax.get_title():
            continue
        for name, t in (("title", ax.title), ("left title", ax._left_title), ("right title", ax._right_title),
                        ("x label", ax.xaxis.label), ("y label", ax.yaxis.label)):
            texts.append((f"axes {i} {name}", t))
    boxes = []
    for name, t in texts:
        if not t.get_visible() or not t.get_text().strip():
            continue
        boxes.append((name, t.get_text(), t.get_window_extent(renderer)))
    problems = []
    W, H = fig.bbox.width, fig.bbox.height
    for name, text, bb in boxes:
        if bb.x0 < -tolerance or bb.y0 < -tolerance or bb.x1 > W + tolerance or bb.y1 > H + tolerance:
            problems.append(f"{name} {text!r} is cut off by the figure's edge")
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (na, ta, ba), (nb, tb, bb) = boxes[a], boxes[b]
            ox = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            oy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if ox > tolerance and oy > tolerance:
                problems.append(f"{na} {ta!r} overlaps {nb} {tb!r}")
    return problems


def loop_diagram(ax=None, highlight: str | None = None):
    """The course's picture of the generational loop and its four data strategies.

    Drawn from :data:`collapse_kit.strategies.WORKFLOWS` (labels and rules come from the strategy
    module itself). ``highlight`` is a strategy label to emphasise (e.g. in the lesson that
    introduces it). Returns the figure.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from .strategies import WORKFLOWS

    labels = [s.label for s in WORKFLOWS]
    if highlight is not None and highlight not in labels:
        raise ValueError(f"`highlight` must be one of {labels} (got {highlight!r}).")
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 5.0))
    fig = ax.figure
    ax.set_xlim(0, 11)
    ax.set_ylim(-0.2, 5.2)
    ax.axis("off")

    def box(x, y, w, h, text, fc="#eef3fb", ec="#3b6db3", weight="normal"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.08", fc=fc, ec=ec, lw=1.4))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9.5, weight=weight)

    def arrow(x0, y0, x1, y1, text="", curve=0.0):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, lw=1.3,
                                     color="#333333", connectionstyle=f"arc3,rad={curve}"))
        if text:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.17, text, ha="center", va="bottom", fontsize=8.5,
                    color="#333333")

    box(0.3, 3.3, 1.8, 0.8, "real data\n(N items)", fc="#e8f5e9", ec="#2e7d32", weight="bold")
    box(3.0, 3.3, 1.8, 0.8, "fit\nmodel g")
    box(5.7, 3.3, 1.8, 0.8, "sample\nM items per chain")
    box(8.4, 3.3, 2.3, 0.8, "data strategy\nbuilds training set g+1", fc="#fff3e0", ec="#ef6c00", weight="bold")
    arrow(2.1, 3.7, 3.0, 3.7, "g = 0")
    arrow(4.8, 3.7, 5.7, 3.7)
    arrow(7.5, 3.7, 8.4, 3.7)
    arrow(1.2, 4.1, 9.55, 4.1, "real items (accumulate, real fraction λ)", curve=-0.12)
    arrow(9.55, 3.3, 3.9, 3.3, curve=-0.18)
    ax.text(6.7, 2.58, "fit a fresh model again: g ← g + 1", ha="center", va="top", fontsize=8.5, color="#333333")
    ax.text(5.5, 2.0, "after every generation: metrics(context) → tidy history "
            "(generation, chain, seed, metric, value, strategy, ...)", ha="center", fontsize=9, color="#6a1b9a")
    y = 1.4
    ax.text(0.1, y + 0.2, "the four data strategies (collapse_kit.strategies):", fontsize=9.5, weight="bold")
    for lab, strat in zip(labels, WORKFLOWS):
        y -= 0.45
        strong = highlight is None or lab == highlight
        ax.text(0.3, y, lab, fontsize=9.5, weight="bold" if strong else "normal",
                color="#ef6c00" if strong else "0.45", va="center")
        ax.text(3.2, y, strat.rule, fontsize=9, color="black" if strong else "0.45", va="center")
    ax.set_title("the generational loop: every generational lesson runs collapse_kit.loop.run_generations",
                 fontsize=11)
    return fig


# =========================================================================== figures by topic
# Each topic's figures live in its own section below (sections are edited independently;
# keep edits inside your section). Explorers (collapse_kit.explorers) are built from these.

# --------------------------------------------------------------------------- gaussian (lessons 00-01)
GAUSSIAN_FLOOR = 1e-12  # variances below this are drawn at the floor, and the plot says so


def gaussian_chains_figure(mean, var, *, strategy, sample_size: int, estimator: str = "mle", seed: int = 0,
                           title: str | None = None):
    """Fitted variance (log scale) and mean of many Gaussian chains per generation, side by side.

    ``mean`` and ``var`` are arrays (n_chains, generations + 1) (e.g. ``history.values(h, "variance")``);
    ``strategy`` is a :class:`~collapse_kit.strategies.Strategy`. Under a strategy without real data
    after generation 0 the E[σ²] law and the median approximation are drawn too. Returns the figure.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    from .gaussian import expected_variance, median_variance

    mean, var = np.asarray(mean, dtype=float), np.asarray(var, dtype=float)
    if var.ndim != 2 or mean.shape != var.shape:
        raise ValueError(f"`mean` and `var` must be arrays of the same shape (n_chains, generations + 1) "
                         f"(got {mean.shape} and {var.shape}).")
    generations = var.shape[1] - 1
    fig, (ax_v, ax_m) = plt.subplots(1, 2, figsize=(11, 4.0), layout="none")  # fixed margins: fast redraws
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.13, top=0.9, wspace=0.22)
    # at most ~200 plotted generations: finer than the screen resolves, and 5x faster to draw
    gens = np.unique(np.linspace(0, generations, min(generations + 1, 200)).astype(int))
    v, mu = var[:, gens], mean[:, gens]
    fan_chart(np.maximum(v, GAUSSIAN_FLOOR), ax=ax_v, label="median of chains", n_paths=5, seed=seed,
              generations=gens)
    ax_v.plot(gens, np.maximum(v.mean(axis=0), GAUSSIAN_FLOOR), color="tab:orange", lw=1.5, label="mean of chains")
    if not strategy.uses_real:
        closed_form(ax_v, gens, np.maximum(expected_variance(gens, sample_size, estimator), GAUSSIAN_FLOOR),
                    label="E[σ²] law", source="MLE bias" if estimator == "mle" else "martingale")
        closed_form(ax_v, gens, np.maximum(median_variance(gens, sample_size, estimator), GAUSSIAN_FLOOR),
                    style=":", label="median ≈ (CLT on log σ²)")
    ax_v.set_yscale("log")
    # plain "1e-04" tick labels: mathtext labels cost more to render than everything else in the figure
    ax_v.yaxis.set_major_locator(LogLocator(numticks=7))
    ax_v.yaxis.set_minor_locator(NullLocator())
    ax_v.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:.0e}" if x < 0.01 or x > 100 else f"{x:g}"))
    ax_v.set_xlabel("generation")
    ax_v.set_ylabel("fitted variance σ² (truth: 1)")
    k_real = strategy.k_real(sample_size)
    lam = f" ({k_real}/{sample_size} real)" if k_real else ""
    ax_v.set_title(title or f"variance · {strategy.label}{lam} · M={sample_size} · {estimator}")
    collapsed = float(np.mean(var[:, -1] < 1e-6))
    if collapsed > 0:
        annotate(ax_v, f"{collapsed:.0%} of chains collapsed\n(σ² < 1e-6 at generation {generations})",
                 loc="lower left")
    if np.any(var < GAUSSIAN_FLOOR):
        annotate(ax_v, f"values below {GAUSSIAN_FLOOR:g} drawn at {GAUSSIAN_FLOOR:g}", loc="upper right", color="0.3")
    ax_v.legend(fontsize=8, loc="center left")
    fan_chart(mu, ax=ax_m, label="median of chains", n_paths=5, seed=seed, generations=gens)
    ax_m.axhline(0.0, color="black", lw=0.8)
    ax_m.set_ylabel("fitted mean μ (truth: 0)")
    ax_m.set_title(f"mean · {var.shape[0]} chains")
    return fig


def plot_median_history(history: pd.DataFrame, metric: str, *, ax=None, logy: bool = False, title: str | None = None):
    """One line per strategy: the *median* over chains of ``metric`` per generation, with the 5–95%
    band across chains (the median is what a typical chain does; lessons 00-01 report it)."""
    from .history import summarize

    s = summarize(history, metric)
    ax = _ax(ax)
    for label, part in s.groupby("strategy", observed=True, sort=False):
        line, = ax.plot(part["generation"], part["q0.5"], lw=2, label=f"{label} (median)")
        ax.fill_between(part["generation"], part["q0.05"], part["q0.95"], color=line.get_color(), alpha=0.15,
                        linewidth=0)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"{pretty(metric)} (median over chains, 5–95% band)")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title or f"{pretty(metric)} per generation")
    ax.legend(fontsize=8)
    return ax


# --------------------------------------------------------------------------- discrete and mixtures (lesson 02)
def minority_lost(share, threshold: float = 0.01) -> np.ndarray:
    """Per generation, the fraction of chains whose minority share is below ``threshold``:
    ``share`` is an array (n_chains, generations + 1)."""
    return (np.asarray(share, dtype=float) < threshold).mean(axis=0)


def minority_figure(shares: dict, *, real_share: float, sample_size: int, threshold: float = 0.01, seed: int = 0):
    """The minority mode across generations: one fan chart of the minority share per strategy and,
    on the right, the fraction of chains that lost it (share < ``threshold``).

    ``shares`` maps a strategy label to an array (n_chains, generations + 1), e.g.
    ``history.values(h, "minority share", label)``. Returns the figure.
    """
    if not shares:
        raise ValueError("`shares` must hold at least one strategy's array.")
    n = len(shares)
    fig, axes = plt.subplots(1, n + 1, figsize=(4.2 * (n + 1), 3.8), squeeze=False)
    axes = axes[0]
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, share) in enumerate(shares.items()):
        share = np.asarray(share, dtype=float)
        ax = axes[i]
        fan_chart(share, ax=ax, n_paths=4, seed=seed, color=colors[i % len(colors)])
        ax.axhline(real_share, color="black", ls="--", lw=1, label=f"real share {real_share:g}")
        ax.set_ylim(-0.02, min(1.0, 3 * real_share + 0.1))
        ax.set_ylabel("minority share of samples")
        ax.set_title(f"{label} (M = {sample_size})")
        ax.legend(fontsize=8, loc="upper left")
        lost = minority_lost(share, threshold)
        axes[-1].plot(np.arange(share.shape[1]), lost, marker="o", ms=3, color=colors[i % len(colors)], label=label)
    axes[-1].set_ylim(-0.02, 1.02)
    axes[-1].set_xlabel("generation")
    axes[-1].set_ylabel("fraction of chains")
    axes[-1].set_title(f"minority lost (share < {threshold:.0%})")
    axes[-1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig



# --------------------------------------------------------------------------- images (lesson 03)
def image_grid(images, *, n_cols: int = 8, ax=None, title: str | None = None):
    """Show images ``(n, 64)`` as a grid of 8×8 digits on one axes (white gaps between them); return the axes."""
    x = np.asarray(images, dtype=float)
    if x.ndim != 2 or x.shape[1] != 64:
        raise ValueError(f"`images` must have shape (n, 64) (got {x.shape}).")
    if not isinstance(n_cols, (int, np.integer)) or n_cols < 1:
        raise ValueError(f"`n_cols` must be an int >= 1 (got {n_cols!r}).")
    n_rows = max(1, int(np.ceil(len(x) / n_cols)))
    canvas = np.zeros((n_rows * 9 - 1, n_cols * 9 - 1))
    for i, img in enumerate(x):
        r, c = divmod(i, n_cols)
        canvas[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = img.reshape(8, 8)
    ax = ax if ax is not None else plt.subplots(figsize=(n_cols * 0.45, n_rows * 0.45))[1]
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


#: the three curves of the image explorer: history metric -> axis title
IMAGE_PANELS = {"minority_share": "share of the rare digits 7–9", "recognised": "recognised by the judge",
                "latent_spread": "latent spread (generation-0 encoder)"}


def image_mix_figure(history: pd.DataFrame, strategy: str, samples: Sequence[np.ndarray], *,
                     baseline: str | None = None, real_minority: float | None = None, n_show: int = 16):
    """Lesson 03's mix-ratio figure: three metrics per generation (``strategy`` against ``baseline``,
    usually replace) and one row of ``samples[g]`` images per generation of ``strategy``.

    Returns ``(figure, {metric: values per generation of strategy})``.
    """
    from .history import values

    fig = plt.figure(figsize=(12, 3.2 + 0.42 * len(samples)))
    grid = fig.add_gridspec(2, 3, height_ratios=[3.2, 0.42 * len(samples)])
    result = {}
    for i, (metric, title) in enumerate(IMAGE_PANELS.items()):
        ax = fig.add_subplot(grid[0, i])
        for label, color in ((baseline, "0.55"), (strategy, "C0")):
            if label is None:
                continue
            v = values(history, metric, label).mean(axis=0)
            ax.plot(np.arange(len(v)), v, marker="o", ms=3, color=color, label=label)
            if label == strategy:
                result[metric] = v
        if metric == "minority_share" and real_minority is not None:
            ax.axhline(real_minority, color="black", ls="--", lw=1, label="real set (judged)")
        ax.set_xlabel("generation")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(bottom=0)
        if i == 0:
            ax.legend(fontsize=9)
    ax = fig.add_subplot(grid[1, :])
    image_grid(np.concatenate([np.asarray(s)[:n_show] for s in samples]), n_cols=n_show, ax=ax,
               title=f"samples of {strategy}: one row per generation (top: generation 0)")
    fig.tight_layout()
    return fig, result


# --------------------------------------------------------------------------- strategy comparisons and regression (lesson 04)

def plot_strategies(history: pd.DataFrame, metric: str, *, ax=None, logy: bool = True, floor: float = 1e-4,
                    title: str | None = None):
    """One line per strategy: the median chain of ``metric`` and its 25-75% band, from a tidy history."""
    from .history import values

    ax = _ax(ax)
    labels = list(dict.fromkeys(history.loc[history["metric"] == metric, "strategy"].astype(str)))
    if not labels:
        raise ValueError(f"`metric` must be one of {sorted(set(history['metric'].astype(str)))} (got {metric!r}).")
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, label in enumerate(labels):
        v = values(history, metric, label)
        q25, q50, q75 = np.quantile(v, [0.25, 0.5, 0.75], axis=0)
        if logy:
            q25, q50, q75 = (np.maximum(q, floor) for q in (q25, q50, q75))
        gens = np.arange(v.shape[1])
        ax.fill_between(gens, q25, q75, color=colors[i % len(colors)], alpha=0.18, linewidth=0)
        ax.plot(gens, q50, color=colors[i % len(colors)], lw=2, label=label)
    if logy:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    ax.set_xlabel("generation (0 = fitted on real data)")
    ax.set_ylabel(metric + (" (log scale)" if logy else ""))
    ax.set_title(title or f"{pretty(metric)} per generation (median chain and 25-75%)")
    ax.legend(fontsize=8)
    return ax


def plot_regression(table: pd.DataFrame, *, ax=None, bound: float | None = None, title: str | None = None):
    """Mean test error per strategy (points, ±2 s.e.) and the exact laws (dashed), from ``regression.law_table``."""
    ax = _ax(ax)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, sub) in enumerate(table.groupby("strategy", sort=False)):
        col = colors[i % len(colors)]
        ax.errorbar(sub["generation"], sub["mean"], yerr=2 * sub["sem"], fmt="o", ms=4, color=col, capsize=2,
                    label=f"{name}: simulation (±2 s.e.)")
        if sub["law"].notna().all():
            ax.plot(sub["generation"], sub["law"], "--", color=col, lw=1.5, label=f"{name}: exact law")
    if bound is not None:
        ax.axhline(bound, color="black", lw=1, ls=":", label="π²/6 bound (accumulate)")
    ax.set_xlabel("generation (0 = fitted on real labels)")
    ax.set_ylabel("excess test error ‖ŵ − w*‖²")
    ax.set_title(title or "Linear regression on its own labels")
    ax.legend(fontsize=8)
    return ax


def plot_tradeoff(history: pd.DataFrame, *, axes=None, model: str = ""):
    """Two panels from ``compare.temperature_tradeoff``: mean quality and mean diversity per generation,
    one line per temperature (band: 95% confidence interval of the mean)."""
    import seaborn as sns

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    data = history.assign(temperature=history["temperature"].map(lambda t: f"τ = {t:g}"))
    for ax, metric, text in ((axes[0], "quality", "quality: E[log p_real(sample)] (higher = more typical)"),
                             (axes[1], "diversity", "diversity: sample variance / real variance")):
        sns.lineplot(data=data[data["metric"] == metric], x="generation", y="value", hue="temperature",
                     errorbar=("se", 2), marker="o", markersize=3, ax=ax)
        ax.set_title(text, fontsize="small")
        ax.set_xlabel("generation")
        ax.set_ylabel(pretty(metric))
    axes[1].set_yscale("log")
    axes[0].figure.suptitle(f"{model} sampled at temperature τ".strip())
    axes[0].figure.subplots_adjust(wspace=0.25, top=0.85)
    return axes


def plot_phase_diagram(table: pd.DataFrame, *, ax=None, threshold: float | None = None, title: str | None = None):
    """Heatmap of the spread kept from ``compare.phase_diagram``; cells at or above ``threshold`` are
    outlined; ``*`` marks cells where λM is not whole (the real fraction used is round(λM)/M)."""
    import seaborn as sns
    from matplotlib.patches import Rectangle

    need = {REAL_FRACTION, "sample_size", "spread", "effective_real_fraction"}
    if not need <= set(table.columns):
        raise ValueError(f"`table` must come from phase_diagram() (needs columns {sorted(need)}).")
    threshold = table.attrs.get("threshold", 0.9) if threshold is None else threshold
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.8))
    grid = table.pivot(index="sample_size", columns=REAL_FRACTION, values="spread").sort_index(ascending=False)
    eff = table.pivot(index="sample_size", columns=REAL_FRACTION,
                      values="effective_real_fraction").loc[grid.index, grid.columns]
    labels = np.empty(grid.shape, dtype=object)
    for i, m in enumerate(grid.index):
        for j, lam in enumerate(grid.columns):
            labels[i, j] = f"{grid.iloc[i, j]:.2f}{'*' if abs(eff.loc[m, lam] - lam) > 1e-9 else ''}"
    sns.heatmap(grid.clip(upper=1.2), annot=labels, fmt="", cmap="rocket", vmin=0.0, vmax=1.2, ax=ax,
                cbar_kws={"label": "spread kept (median σ²_G / σ²_0)"}, annot_kws={"fontsize": 8})
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if grid.iloc[i, j] >= threshold:
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="deepskyblue", lw=2.5))
    ax.set_xticklabels([f"{x:g}" for x in grid.columns])
    ax.set_xlabel("real fraction λ")
    ax.set_ylabel("sample size M")
    a = table.attrs
    ax.set_title(title or f"{a.get('model', '')}: spread kept after {a.get('generations', '?')} generations "
                          f"({'fresh' if a.get('fresh_real') else 'fixed'} real data)\n"
                          f"blue boxes: median ≥ {threshold:g}; * = effective λ is round(λM)/M")
    return ax


def mix_figure(history: pd.DataFrame, final_models, pdf, *, title: str, notes=(), floor: float = 1e-4,
               temperature: float = 1.0, x_range=(-4.0, 6.0)):
    """The mix-ratio explorer's figure: left, the spread kept (median and bands across chains);
    right, the real density and the last generation's models of a few chains.
    ``final_models`` is a list of (weights, means, variances) per shown chain. Returns (figure, quantiles)."""
    from .history import values

    v = values(history, "spread kept")
    gens = np.arange(v.shape[1])
    q = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    shown = np.clip(q, floor, None)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.fill_between(gens, shown[0], shown[4], color="C0", alpha=0.15, linewidth=0, label="5–95% of chains")
    ax.fill_between(gens, shown[1], shown[3], color="C0", alpha=0.3, linewidth=0, label="25–75% of chains")
    ax.plot(gens, shown[2], color="C0", lw=2, label="median chain")
    ax.axhline(1.0, color="0.3", lw=0.8, ls=":", label="real spread")
    ax.set_yscale("log")
    ax.set_ylim(floor, float(np.clip(q[4].max() * 1.5, 2.0, 1e4)))
    ax.set_xlabel("generation (0 = fitted on real data)")
    ax.set_ylabel("spread kept σ² at generation g / real σ² (log)")
    ax.set_title(title, fontsize="small")
    if notes:
        annotate(ax, "\n".join(notes), loc="lower left")
    ax.legend(fontsize=9, loc="lower right", framealpha=0.8)
    x = np.linspace(*x_range, 240)
    p_real = pdf(x)
    ax2.plot(x, p_real, color="black", lw=2, label="real")
    dx, spikes = x[1] - x[0], []
    for i, (w, mu, var) in enumerate(final_models):
        sd = temperature * np.sqrt(np.maximum(var, 1e-300))
        wide = sd >= dx  # a component narrower than the grid is drawn as a spike (a collapsed mode)
        dens = (w[wide, None] * np.exp(-0.5 * ((x - mu[wide, None]) / sd[wide, None]) ** 2)
                / (np.sqrt(2 * np.pi) * sd[wide, None])).sum(0)
        ax2.plot(x, np.minimum(dens, 5 * p_real.max()), color="C1", lw=1, alpha=0.8,
                 label=f"last generation, {len(final_models)} chains" if i == 0 else None)
        spikes += [m for m, wk in zip(mu[~wide], w[~wide]) if wk > 0.01]
    if spikes:
        ax2.vlines(spikes, 0, 1.55 * p_real.max(), color="firebrick", lw=1.2, label="collapsed to a point")
    ax2.set_ylim(0, 1.6 * p_real.max())
    ax2.set_xlabel("x")
    ax2.set_title("final models vs the real density", fontsize="small")
    ax2.legend(fontsize=9, loc="upper right")
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.14, top=0.9, wspace=0.18)  # tight_layout costs ~100 ms
    return fig, q

# --------------------------------------------------------------------------- language models (lessons 05-06)
def finetune_generation(results, real_fraction: float, generation: int):
    """Lesson 06, one generation of one arm (the paper's Fig. 1 and Example 1).

    Left: per-sequence perplexity, under the generation-0 model, of that generation's training
    data against generation 0's real data. Right: the real-test perplexity of every arm and
    generation of the run, the chosen point circled. Below: the fixed prompt's continuation.
    A generation the arm did not run falls back to its last one (said on the plot).
    Returns ``(figure, {"generation", "median_ppl", "text"})``.
    """
    from .history import summarize

    ppl = results.ppl[results.ppl[REAL_FRACTION] == real_fraction]
    if ppl.empty:
        raise ValueError(f"`real_fraction` must be one of {sorted(set(results.ppl[REAL_FRACTION]))} "
                         f"(got {real_fraction!r}).")
    g = min(int(generation), int(ppl["generation"].max()))
    cur, ref = ppl[ppl["generation"] == g]["ppl"].to_numpy(), ppl[ppl["generation"] == 0]["ppl"].to_numpy()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.geomspace(max(1.0, min(cur.min(), ref.min()) * 0.9), max(cur.max(), ref.max()) * 1.1, 40)
    a.hist(ref, bins=bins, alpha=0.5, color="0.5", label="generation 0 (real blocks)")
    a.hist(cur, bins=bins, alpha=0.6, color="C3", label=f"generation {g}")
    a.set(xscale="log", xlabel="perplexity under the generation-0 model", ylabel="training sequences",
          title=f"λ = {real_fraction:g}: training data of generation {g}")
    a.legend()
    test = summarize(results.history, "test_ppl", by=(REAL_FRACTION, "generation"))
    for lam, sub in test.groupby(REAL_FRACTION):
        b.plot(sub["generation"], sub["mean"], "o-", label=f"λ = {lam:g}")
    row = test[(test[REAL_FRACTION] == real_fraction) & (test["generation"] == g)]
    b.plot(row["generation"], row["mean"], "o", ms=14, mfc="none", mec="k")
    b.set(xlabel="generation", ylabel="perplexity of real test text", title="real-test perplexity per generation")
    b.legend()
    if g != generation:
        annotate(b, f"generation {generation} not run for λ = {real_fraction:g}; showing {g}")
    ex = results.examples[(results.examples[REAL_FRACTION] == real_fraction) & (results.examples["generation"] == g)]
    text = ex["text"].iloc[0] if len(ex) else ""
    fig.text(0.01, -0.06, f"generation {g} continues the prompt: " + text.replace("\n", " ⏎ "), fontsize=9,
             family="monospace")
    fig.tight_layout()
    return fig, {"generation": g, "median_ppl": float(np.median(cur)), "text": text}


# --------------------------------------------------------------------------- web (lesson 08)
def web_figure(history: pd.DataFrame, *, title: str = "", axes=None):
    """Lesson 08: a :func:`~collapse_kit.web.run_web` history in two panels: the synthetic share of the web
    per year (a closed count), and each actor's model quality (W2² to the human data, mean over chains
    ± 2 standard errors) per year. Returns the figure."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    a, b = axes
    metric = history["metric"].astype(str).to_numpy()
    gen, val = history["generation"].to_numpy(), history["value"].to_numpy()

    def stats(name):  # per year: mean and 2 standard errors over chains (numpy: fast enough for an explorer)
        mask = metric == name
        years = np.unique(gen[mask])
        v = [val[mask & (gen == y)] for y in years]
        ok = np.array([np.isfinite(x).all() and len(x) > 1 for x in v])
        v = [x for x, k in zip(v, ok) if k]
        mean = np.array([x.mean() for x in v])
        se2 = np.array([2 * x.std(ddof=1) / np.sqrt(len(x)) for x in v])
        return years[ok], mean, mean - se2, mean + se2

    years, share, _, _ = stats("synthetic share")
    a.plot(years, share, "o-", color="C3")
    a.set(xlabel="year (generation)", ylabel="synthetic share of the web", ylim=(-0.02, 1.02),
          title="how much of the web is model output")
    actors = [m for m in dict.fromkeys(metric) if m.startswith("entrant.")]
    for i, name in enumerate(actors):
        years, mean, lo, hi = stats(name)
        b.plot(years, mean, "o-", color=f"C{i}", label=name.split(".", 1)[1])
        b.fill_between(years, lo, hi, color=f"C{i}", alpha=0.12)
    b.set(xlabel="year (generation)", ylabel="W2² to human data (lower: better)", yscale="log",
          title="model quality of each actor")
    b.legend(fontsize=8)
    if title:
        a.figure.suptitle(title, fontsize=10)
    return a.figure


# --------------------------------------------------------------------------- defences (lesson 07)
def coordination_figure(history: pd.DataFrame, *, title: str = "", axes=None):
    """Lesson 07: a :func:`~collapse_kit.defences.coordination_run` history in two panels: the synthetic
    share of each arm's training set, and W2² to the real distribution (mean over chains ± 2 standard
    errors). Plain numpy and matplotlib, so an explorer redraws it quickly."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    metric, arm = history["metric"].astype(str).to_numpy(), history["strategy"].astype(str).to_numpy()
    gen, val = history["generation"].to_numpy(), history["value"].to_numpy()
    for ax, name, ylabel in ((axes[0], "synthetic share", "synthetic share of the training set"),
                             (axes[1], "W2²", "W2² to the real distribution")):
        for i, label in enumerate(dict.fromkeys(arm)):
            mask = (metric == name) & (arm == label)
            gens = np.unique(gen[mask])
            v = [val[mask & (gen == g)] for g in gens]
            mean = np.array([x.mean() for x in v])
            se2 = np.array([2 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0 for x in v])
            ax.plot(gens, mean, "o-", ms=3, color=f"C{i}", label=label)
            ax.fill_between(gens, mean - se2, mean + se2, color=f"C{i}", alpha=0.15)
        ax.set(xlabel="generation", ylabel=ylabel, title=f"{ylabel} (mean ± 2 s.e.)")
    axes[1].set_yscale("log")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=9)
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes[0].figure


def detector_figure(scores_real, scores_synthetic, threshold: float, *, score_name: str = "score", axes=None):
    """Lesson 07: a detector's ROC curve with the operating point of ``threshold``, and both score
    histograms with the threshold (flag when score ≥ threshold)."""
    from .defences import auc, roc

    r, s = np.asarray(scores_real, float), np.asarray(scores_synthetic, float)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    _, fpr, tpr = roc(r, s)
    a, b = axes
    a.plot(fpr, tpr, color="C0", label=f"AUC = {auc(r, s):.3f}")
    a.plot([0, 1], [0, 1], ls=":", color="0.5", label="chance")
    a.plot([(r >= threshold).mean()], [(s >= threshold).mean()], "o", color="C3", label="threshold")
    a.set(xlabel="false-positive rate (real flagged)", ylabel="true-positive rate (synthetic flagged)",
          title="ROC curve", xlim=(-0.01, 1.01), ylim=(-0.01, 1.01))
    a.legend(fontsize=8, loc="lower right")
    bins = np.histogram_bin_edges(np.concatenate([r, s]), bins=40)
    b.hist(r, bins=bins, alpha=0.5, density=True, label="real", color="C0")
    b.hist(s, bins=bins, alpha=0.5, density=True, label="synthetic", color="C1")
    b.axvline(threshold, color="C3", ls="--", label="threshold")
    b.set(xlabel=score_name, ylabel="density", title="scores (flag at or above the threshold)")
    b.legend(fontsize=8)
    return a.figure
