"""Lesson 04: how much real data keeps a model from collapsing?

Four workflows of the literature, for the Gaussian of lesson 01 and a
two-component Gaussian mixture (a majority mode and a minority mode):

``replace``
    each generation trains only on the previous model's M samples (Shumailov et al. 2024);
``accumulate``
    real data and every synthetic batch so far (Gerstgrasser et al. 2024);
``accumulate_subsample``
    the same growing pool, but each generation trains on a draw of M items (Kazdan et al. 2024);
``real_fraction``
    a fraction λ of the M training items is real, either drawn from one fixed real set
    (``fresh_real=False``) or new each generation (``fresh_real=True``)
    (Alemohammad et al. 2024; Bertrand et al. 2024).

Everything is simulated for many chains at once. The Gaussian re-uses the exact
sufficient-statistic simulator of :mod:`collapse_kit.gaussian` wherever it applies
and draws explicit samples (vectorised across chains) for ``accumulate_subsample``;
the mixture draws explicit samples and refits by a few warm-started EM steps.

The collapse measure throughout is the **spread kept**: the fitted model's
variance divided by the real distribution's variance (1 = healthy, 0 = collapsed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._validate import check_choice, check_float, check_fraction, check_int, check_seed

MODELS = ("gaussian", "mixture")
MIX_STRATEGIES = ("replace", "accumulate", "accumulate_subsample", "real_fraction")

# The real mixture: a majority mode N(0, 1) with weight 0.8 and a minority mode N(3, 0.5²) with weight 0.2.
MIXTURE_TRUTH = {"weights": (0.8, 0.2), "means": (0.0, 3.0), "sds": (1.0, 0.5)}
MINORITY_THRESHOLD = 1.75  # "minority region": x above this point
VAR_FLOOR = 1e-12
EM_STEPS_FIRST = 40
EM_STEPS_WARM = 6


# --------------------------------------------------------------------------- the two models
def _mixture_truth_arrays(n_chains):
    w = np.tile(np.asarray(MIXTURE_TRUTH["weights"], float), (n_chains, 1))
    mu = np.tile(np.asarray(MIXTURE_TRUTH["means"], float), (n_chains, 1))
    var = np.tile(np.asarray(MIXTURE_TRUTH["sds"], float) ** 2, (n_chains, 1))
    return w, mu, var


def mixture_variance(w, mu, var):
    """Total variance of 1-D mixtures (arrays (..., K)): Σw(σ²+μ²) − (Σwμ)²."""
    m = (w * mu).sum(-1)
    return (w * (var + mu**2)).sum(-1) - m**2


def real_variance(model: str) -> float:
    """Variance of the real distribution of ``model`` (1 for the standard Gaussian)."""
    check_choice("model", model, MODELS)
    if model == "gaussian":
        return 1.0
    w, mu, var = _mixture_truth_arrays(1)
    return float(mixture_variance(w, mu, var)[0])


def real_minority_mass() -> float:
    """P(x > MINORITY_THRESHOLD) under the real mixture (the minority mass the models should keep)."""
    w, mu, var = _mixture_truth_arrays(1)
    return float(_minority_mass(w, mu, var)[0])


def _mixture_sample(rng, w, mu, var, k, temperature=1.0):
    """k draws per chain from mixtures with params (C, 2); spread scaled by temperature."""
    comp = (rng.random((w.shape[0], k)) < w[:, 1:2]).astype(np.intp)
    m = np.take_along_axis(mu, comp, axis=1)
    s = np.sqrt(np.take_along_axis(var, comp, axis=1))
    return m + temperature * s * rng.standard_normal((w.shape[0], k))


def _em(x, w, mu, var, steps):
    """A few EM steps for 2-component 1-D mixtures, one per chain: x (C, N), params (C, 2)."""
    n = x.shape[1]
    for _ in range(steps):
        lw = np.log(np.clip(w, 1e-300, None))
        lp0 = lw[:, :1] - 0.5 * np.log(var[:, :1]) - 0.5 * (x - mu[:, :1]) ** 2 / var[:, :1]
        lp1 = lw[:, 1:] - 0.5 * np.log(var[:, 1:]) - 0.5 * (x - mu[:, 1:]) ** 2 / var[:, 1:]
        with np.errstate(over="ignore"):
            r1 = 1.0 / (1.0 + np.exp(np.clip(lp0 - lp1, -700, 700)))
        r = (1.0 - r1, r1)
        nk = np.stack([ri.sum(1) for ri in r], axis=1)
        safe = np.maximum(nk, 1e-300)
        mu_new = np.stack([(ri * x).sum(1) for ri in r], axis=1) / safe
        mu = np.where(nk > 1e-9, mu_new, mu)  # an empty component keeps its place
        var_new = np.stack([(ri * (x - mu[:, k:k + 1]) ** 2).sum(1) for k, ri in enumerate(r)], axis=1) / safe
        var = np.where(nk > 1e-9, np.maximum(var_new, VAR_FLOOR), var)
        w = nk / n
    return w, mu, var


def subsample_indices(rng: np.random.Generator, n_chains: int, pool_size: int, k: int) -> np.ndarray:
    """``k`` distinct indices in ``range(pool_size)`` per chain, uniform over k-subsets: shape (n_chains, k).

    Small pools use random keys (cost ∝ pool size); large pools draw with
    replacement and redraw duplicates until none are left (cost ∝ k log k). Both
    treat every index alike, so every k-subset is equally likely.
    """
    if not 1 <= k <= pool_size:
        raise ValueError(f"`k` must be in [1, pool_size={pool_size}] (got {k}).")
    if pool_size < 4 * k:
        keys = rng.random((n_chains, pool_size))
        return np.argpartition(keys, k - 1, axis=1)[:, :k]
    idx = np.sort(rng.integers(0, pool_size, size=(n_chains, k)), axis=1)
    while True:
        dup = np.zeros_like(idx, dtype=bool)
        dup[:, 1:] = idx[:, 1:] == idx[:, :-1]
        n_dup = int(dup.sum())
        if not n_dup:
            return idx
        idx[dup] = rng.integers(0, pool_size, size=n_dup)
        idx.sort(axis=1)


def _gaussian_fit(x):
    return x.mean(axis=1), np.maximum(x.var(axis=1), 0.0)


# --------------------------------------------------------------------------- results
@dataclass
class MixChains:
    """Per-chain fitted quantities, arrays of shape (n_chains, generations + 1).

    Attributes
    ----------
    spread : fitted variance / real variance (the collapse measure; 1 = healthy).
    mean : fitted mean.
    quality : expected real log-density of the model's samples at its temperature
        (higher = samples look more "typical" of the real data).
    diversity : variance of the model's samples / real variance (= temperature² × spread).
    minority : probability the model puts above ``MINORITY_THRESHOLD`` (mixture only, else None).
    params : for the mixture, the fitted (weights, means, variances) of the last generation.
    """

    spread: np.ndarray
    mean: np.ndarray
    quality: np.ndarray
    diversity: np.ndarray
    minority: np.ndarray | None = None
    params: tuple | None = None
    settings: dict = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return self.spread.shape[0]

    @property
    def generations(self) -> int:
        return self.spread.shape[1] - 1

    @property
    def label(self) -> str:
        return self.settings.get("label", "")

    def metrics(self) -> dict:
        out = {"spread kept": self.spread, "mean": self.mean, "quality": self.quality, "diversity": self.diversity}
        if self.minority is not None:
            out["minority mass"] = self.minority
        return out

    def to_history(self, metrics=None, max_chains: int | None = None) -> pd.DataFrame:
        """Tidy history (generation, seed, metric, value, strategy, model); chain i is 'seed' i."""
        avail = self.metrics()
        metrics = list(avail) if metrics is None else list(metrics)
        n = self.n_chains if max_chains is None else min(int(max_chains), self.n_chains)
        gens = np.arange(self.generations + 1)
        frames = []
        for name in metrics:
            if name not in avail:
                raise ValueError(f"`metrics` entries must be in {sorted(avail)} (got {name!r}).")
            frames.append(pd.DataFrame({"generation": np.tile(gens, n), "seed": np.repeat(np.arange(n), len(gens)),
                                        "metric": name, "value": avail[name][:n].ravel()}))
        out = pd.concat(frames, ignore_index=True)
        out["strategy"] = self.label
        out["model"] = self.settings.get("model", "")
        return out


def strategy_label(strategy: str, real_fraction: float = 0.0, fresh_real: bool = False) -> str:
    """The label used in plots: ``replace`` ... or ``real fraction 0.1 (fresh)``."""
    if strategy == "real_fraction":
        return f"real fraction {real_fraction:g} ({'fresh' if fresh_real else 'fixed'})"
    return strategy


def effective_real_fraction(real_fraction: float, sample_size: int) -> float:
    """The real fraction actually used: round(λM)/M real items out of M (Python rounding)."""
    lam = check_fraction("real_fraction", real_fraction)
    m = check_int("sample_size", sample_size, low=2)
    return int(round(lam * m)) / m


def _gauss_quality(mean, var, temperature):
    """E[log N(x; 0, 1)] for x ~ N(mean, temperature² var)."""
    return -0.5 * np.log(2 * np.pi) - 0.5 * (mean**2 + temperature**2 * var)


_GH_T, _GH_W = np.polynomial.hermite.hermgauss(24)


def _mixture_logpdf_real(x):
    w, mu, var = (np.asarray(MIXTURE_TRUTH[k], float) for k in ("weights", "means", "sds"))
    var = var**2
    lp = np.log(w) - 0.5 * np.log(2 * np.pi * var) - 0.5 * (x[..., None] - mu) ** 2 / var
    top = lp.max(-1)
    return top + np.log(np.exp(lp - top[..., None]).sum(-1))


def _mixture_quality(w, mu, var, temperature):
    """E[log p_real(x)] for x from the fitted mixture at temperature (Gauss–Hermite, 24 nodes)."""
    s = temperature * np.sqrt(var)
    x = mu[..., None] + np.sqrt(2.0) * s[..., None] * _GH_T
    inner = (_mixture_logpdf_real(x) * _GH_W).sum(-1) / np.sqrt(np.pi)
    return (w * inner).sum(-1)


def _minority_mass(w, mu, var):
    from scipy.special import ndtr

    return (w * (1.0 - ndtr((MINORITY_THRESHOLD - mu) / np.sqrt(var)))).sum(-1)


# --------------------------------------------------------------------------- simulation
def _check_mix_args(model, strategy, n_chains, generations, sample_size, real_fraction, fresh_real,
                    temperature, seed):
    check_choice("model", model, MODELS)
    check_choice("strategy", strategy, MIX_STRATEGIES)
    c = check_int("n_chains", n_chains, low=1)
    g = check_int("generations", generations, low=1)
    m = check_int("sample_size", sample_size, low=2)
    lam = check_fraction("real_fraction", real_fraction)
    if strategy != "real_fraction" and lam != 0.0:
        raise ValueError(f"`real_fraction` only applies to strategy='real_fraction' "
                         f"(got strategy={strategy!r}, real_fraction={lam}).")
    if fresh_real and strategy != "real_fraction":
        raise ValueError("`fresh_real=True` only applies to strategy='real_fraction'.")
    if not isinstance(fresh_real, (bool, np.bool_)):
        raise TypeError(f"`fresh_real` must be True or False (got {fresh_real!r}).")
    tau = check_float("temperature", temperature, low=0.0, low_open=True)
    check_seed("seed", seed)
    return c, g, m, lam, tau


def _explicit_chains(model, strategy, c, generations, m, lam, fresh_real, tau, rng):
    """The generational loop with explicit samples, vectorised across chains.

    Returns per-generation fitted params: Gaussian (mean, var) arrays (C, G+1);
    mixture lists of (w, mu, var) arrays (C, 2).
    """
    if model == "gaussian":
        def draw_real(k):
            return rng.standard_normal((c, k))

        def fit(x, prev):
            return _gaussian_fit(x)

        def sample(p, k):
            return p[0][:, None] + tau * np.sqrt(p[1])[:, None] * rng.standard_normal((c, k))
    else:
        truth = _mixture_truth_arrays(c)

        def draw_real(k):
            return _mixture_sample(rng, *truth, k)

        def fit(x, prev):
            if prev is None:  # data-driven start: the lower and upper deciles of the training set
                lo, hi = np.quantile(x, [0.1, 0.9], axis=1)
                w0 = np.full((c, 2), 0.5)
                mu0 = np.stack([lo, hi], axis=1)
                v0 = np.repeat(np.maximum(x.var(axis=1), 1e-6)[:, None] / 4, 2, axis=1)
                return _em(x, w0, mu0, v0, EM_STEPS_FIRST)
            return _em(x, *prev, EM_STEPS_WARM)

        def sample(p, k):
            return _mixture_sample(rng, *p, k, temperature=tau)

    real = draw_real(m)
    params = [fit(real, None)]
    k_real = int(round(lam * m)) if strategy == "real_fraction" else 0
    k_syn = m - k_real
    pool = None
    n_pool = m
    if strategy in ("accumulate", "accumulate_subsample"):
        pool = np.empty((c, m * (generations + 1)))
        pool[:, :m] = real
    for _ in range(generations):
        prev = params[-1]
        if strategy == "replace":
            train = sample(prev, m)
        elif strategy in ("accumulate", "accumulate_subsample"):
            pool[:, n_pool:n_pool + m] = sample(prev, m)
            n_pool += m
            if strategy == "accumulate":
                train = pool[:, :n_pool]
            else:
                idx = subsample_indices(rng, c, n_pool, m)
                train = np.take_along_axis(pool[:, :n_pool], idx, axis=1)
        else:
            parts = []
            if k_syn:
                parts.append(sample(prev, k_syn))
            if k_real:
                if fresh_real:
                    parts.append(draw_real(k_real))
                elif k_real == m:
                    parts.append(real)
                else:
                    idx = subsample_indices(rng, c, m, k_real)
                    parts.append(np.take_along_axis(real, idx, axis=1))
            train = np.concatenate(parts, axis=1)
        params.append(fit(train, prev))
    return params


def simulate_mixing(model: str = "gaussian", strategy: str = "replace", *, n_chains: int = 200,
                    generations: int = 50, sample_size: int = 50, real_fraction: float = 0.0,
                    fresh_real: bool = False, temperature: float = 1.0, seed: int = 0,
                    method: str = "auto") -> MixChains:
    """Run one workflow for many chains of the Gaussian or the Gaussian mixture.

    Parameters
    ----------
    model : {"gaussian", "mixture"}
        ``"gaussian"``: N(0, 1) fitted by maximum likelihood (lesson 01).
        ``"mixture"``: the two-mode mixture :data:`MIXTURE_TRUTH` fitted by EM.
    strategy : {"replace", "accumulate", "accumulate_subsample", "real_fraction"}
    n_chains : int >= 1
    generations : int >= 1
        Generations after generation 0 (fitted on M real items).
    sample_size : int >= 2
        M: real items at generation 0, items sampled per generation, and the
        training-set size of every workflow except ``accumulate``.
    real_fraction : float in [0, 1]
        λ, only for ``strategy="real_fraction"``: round(λM) of the M items are real.
    fresh_real : bool
        Only for ``real_fraction``: new real items every generation instead of a
        draw from the fixed real set of generation 0.
    temperature : float > 0
        Samples are drawn with their spread multiplied by the temperature
        (below 1: sampling bias towards typical samples, Alemohammad et al. 2024).
    seed : int >= 0
    method : {"auto", "exact", "explicit"}
        For the Gaussian, ``"auto"`` uses the exact sufficient-statistic simulator
        (:func:`collapse_kit.gaussian.simulate_gaussian_chains`) where it applies
        and explicit samples for ``accumulate_subsample``. The mixture is always explicit.

    Returns
    -------
    MixChains
    """
    c, g, m, lam, tau = _check_mix_args(model, strategy, n_chains, generations, sample_size, real_fraction,
                                        fresh_real, temperature, seed)
    check_choice("method", method, ("auto", "exact", "explicit"))
    if method == "exact" and (model != "gaussian" or strategy == "accumulate_subsample"):
        raise ValueError("`method='exact'` exists only for the Gaussian with replace, accumulate or real_fraction.")
    settings = dict(model=model, strategy=strategy, n_chains=c, generations=g, sample_size=m, real_fraction=lam,
                    fresh_real=bool(fresh_real), temperature=tau, seed=seed,
                    effective_real_fraction=(int(round(lam * m)) / m if strategy == "real_fraction" else 0.0),
                    label=strategy_label(strategy, lam, bool(fresh_real)))
    use_exact = model == "gaussian" and strategy != "accumulate_subsample" and method != "explicit"
    if use_exact:
        from .gaussian import simulate_gaussian_chains

        ch = simulate_gaussian_chains(c, g, m, estimator="mle", strategy=strategy, real_fraction=lam,
                                      fresh_real=bool(fresh_real), temperature=tau, seed=seed)
        mean, var = ch.mean, ch.var
        settings["method"] = "exact"
        return MixChains(spread=var, mean=mean, quality=_gauss_quality(mean, var, tau), diversity=tau**2 * var,
                         settings=settings)
    rng = np.random.default_rng(seed)
    params = _explicit_chains(model, strategy, c, g, m, lam, bool(fresh_real), tau, rng)
    settings["method"] = "explicit"
    if model == "gaussian":
        mean = np.stack([p[0] for p in params], axis=1)
        var = np.stack([p[1] for p in params], axis=1)
        return MixChains(spread=var, mean=mean, quality=_gauss_quality(mean, var, tau), diversity=tau**2 * var,
                         settings=settings)
    w = np.stack([p[0] for p in params], axis=1)  # (C, G+1, 2)
    mu = np.stack([p[1] for p in params], axis=1)
    var = np.stack([p[2] for p in params], axis=1)
    v_real = real_variance("mixture")
    total = mixture_variance(w, mu, var)
    return MixChains(spread=total / v_real, mean=(w * mu).sum(-1), quality=_mixture_quality(w, mu, var, tau),
                     diversity=tau**2 * total / v_real, minority=_minority_mass(w, mu, var),
                     params=(w[:, -1], mu[:, -1], var[:, -1]), settings=settings)


# --------------------------------------------------------------------------- laws
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
    lam = check_fraction("real_fraction", real_fraction)
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


# --------------------------------------------------------------------------- comparisons
def compare_workflows(model: str = "gaussian", *, real_fraction: float = 0.1, n_chains: int = 200,
                      generations: int = 50, sample_size: int = 50, temperature: float = 1.0,
                      seed: int = 0) -> dict[str, MixChains]:
    """The four workflows (five runs: real fraction with fixed and with fresh real data),
    same model, same sizes and seed. Returns ``{label: MixChains}`` in a fixed order."""
    runs = [("replace", 0.0, False), ("accumulate", 0.0, False), ("accumulate_subsample", 0.0, False),
            ("real_fraction", real_fraction, False), ("real_fraction", real_fraction, True)]
    out = {}
    for strategy, lam, fresh in runs:
        res = simulate_mixing(model, strategy, n_chains=n_chains, generations=generations, sample_size=sample_size,
                              real_fraction=lam, fresh_real=fresh, temperature=temperature, seed=seed)
        out[res.label] = res
    return out


def history_from(results: dict[str, MixChains], metrics=None, max_chains: int | None = None) -> pd.DataFrame:
    """One tidy history from several runs (e.g. the output of :func:`compare_workflows`)."""
    return pd.concat([r.to_history(metrics, max_chains) for r in results.values()], ignore_index=True)


def plot_workflows(results: dict[str, MixChains], metric: str = "spread kept", *, ax=None, logy: bool = True,
                   title: str | None = None, floor: float = 1e-4):
    """Median (line) and 25–75% band across chains of one metric, one colour per workflow."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    first = next(iter(results.values()))
    for i, (label, res) in enumerate(results.items()):
        vals = res.metrics()
        if metric not in vals:
            raise ValueError(f"`metric` must be one of {sorted(vals)} (got {metric!r}).")
        v = vals[metric]
        gens = np.arange(v.shape[1])
        q25, q50, q75 = np.quantile(v, [0.25, 0.5, 0.75], axis=0)
        if logy:
            q25, q50, q75 = (np.maximum(q, floor) for q in (q25, q50, q75))
        col = colors[i % len(colors)]
        ax.fill_between(gens, q25, q75, color=col, alpha=0.18, linewidth=0)
        ax.plot(gens, q50, color=col, lw=2, label=label)
    if logy:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    if metric == "spread kept":
        ax.axhline(1.0, color="0.3", lw=0.8, ls=":")
    s = first.settings
    ax.set_xlabel("generation (0 = fitted on real data)")
    ax.set_ylabel(metric + (" (log scale)" if logy else ""))
    ax.set_title(title or f"{s['model']}: {metric}, M = {s['sample_size']}, {first.n_chains} chains "
                          f"(median and 25–75%)")
    ax.legend(fontsize=8)
    return ax


def temperature_tradeoff(temperatures=(0.7, 0.85, 1.0), *, model: str = "gaussian", strategy: str = "replace",
                         real_fraction: float = 0.0, fresh_real: bool = False, n_chains: int = 200,
                         generations: int = 30, sample_size: int = 100, seed: int = 0) -> pd.DataFrame:
    """Quality and diversity per generation for several sampling temperatures.

    Returns a table with columns ``temperature, generation, quality, diversity``
    (medians across chains). Quality is the expected real log-density of the
    samples (up: samples look typical), diversity their variance relative to
    the real variance (down: samples look alike).
    """
    temps = [check_float("temperatures", t, low=0.0, low_open=True) for t in np.atleast_1d(temperatures)]
    if not temps:
        raise ValueError("`temperatures` must hold at least one temperature > 0.")
    frames = []
    for tau in temps:
        r = simulate_mixing(model, strategy, n_chains=n_chains, generations=generations, sample_size=sample_size,
                            real_fraction=real_fraction, fresh_real=fresh_real, temperature=tau, seed=seed)
        frames.append(pd.DataFrame({"temperature": tau, "generation": np.arange(generations + 1),
                                    "quality": np.median(r.quality, axis=0),
                                    "diversity": np.median(r.diversity, axis=0)}))
    return pd.concat(frames, ignore_index=True)


def plot_tradeoff(table: pd.DataFrame, *, model: str = "gaussian", axes=None):
    """Two panels: quality and diversity per generation, one line per temperature."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    data = table.assign(temperature=table["temperature"].map(lambda t: f"τ = {t:g}"))
    sns.lineplot(data=data, x="generation", y="quality", hue="temperature", marker="o", markersize=3, ax=axes[0])
    axes[0].set_title(f"{model}: quality = E[log p_real(sample)] (higher is better)")
    sns.lineplot(data=data, x="generation", y="diversity", hue="temperature", marker="o", markersize=3, ax=axes[1])
    axes[1].set_yscale("log")
    axes[1].set_title(f"{model}: diversity = sample variance / real variance")
    for ax in axes:
        ax.set_xlabel("generation")
    return axes


# --------------------------------------------------------------------------- phase diagram
def phase_diagram(real_fractions=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5), sample_sizes=(2, 5, 10, 20, 50, 100), *,
                  model: str = "gaussian", fresh_real: bool = False, generations: int = 50, n_chains: int = 200,
                  temperature: float = 1.0, threshold: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """The spread kept after G generations over real fraction λ × sample size M.

    Returns a tidy table with columns ``real_fraction, sample_size,
    effective_real_fraction, spread`` (median over chains of σ²_G / σ²_0, the
    spread kept since generation 0, which was fitted on real data: so a small M's
    own estimation noise is not counted as collapse), ``spread_vs_real`` (median
    σ²_G / σ²_real), ``collapsed`` (fraction of chains below 1% of their
    generation-0 spread) and ``stable`` (median spread kept ≥ ``threshold``).
    """
    lams = [check_fraction("real_fractions", x) for x in np.atleast_1d(real_fractions)]
    ms = [check_int("sample_sizes", x, low=2) for x in np.atleast_1d(sample_sizes)]
    if not lams or not ms:
        raise ValueError("`real_fractions` and `sample_sizes` must each hold at least one value.")
    threshold = check_float("threshold", threshold, low=0.0, low_open=True)
    rows = []
    for m in ms:
        for lam in lams:
            strategy = "real_fraction" if lam > 0 else "replace"
            r = simulate_mixing(model, strategy, n_chains=n_chains, generations=generations, sample_size=m,
                                real_fraction=lam, fresh_real=fresh_real and lam > 0, temperature=temperature,
                                seed=seed)
            with np.errstate(divide="ignore", invalid="ignore"):
                kept = r.spread[:, -1] / r.spread[:, 0]
            kept = np.where(np.isfinite(kept), kept, 1.0)  # a chain with zero spread at generation 0 stays at 0
            med = float(np.median(kept))
            rows.append(dict(real_fraction=lam, sample_size=m, effective_real_fraction=round(lam * m) / m,
                             spread=med, spread_vs_real=float(np.median(r.spread[:, -1])),
                             collapsed=float(np.mean(kept < 0.01)), stable=med >= threshold))
    out = pd.DataFrame(rows)
    out.attrs.update(model=model, generations=generations, threshold=threshold, fresh_real=fresh_real,
                     n_chains=n_chains, temperature=temperature)
    return out


def plot_phase_diagram(table: pd.DataFrame, *, ax=None, threshold: float | None = None, title: str | None = None):
    """Seaborn heatmap of the spread kept; cells where training stays stable are outlined.

    A ``*`` marks cells where λM is not a whole number, so the real fraction
    actually used (round(λM)/M) differs from the column's λ.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Rectangle

    need = {"real_fraction", "sample_size", "spread", "effective_real_fraction"}
    if not need <= set(table.columns):
        raise ValueError(f"`table` must come from phase_diagram() (needs columns {sorted(need)}).")
    threshold = table.attrs.get("threshold", 0.9) if threshold is None else threshold
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.8))
    grid = table.pivot(index="sample_size", columns="real_fraction", values="spread").sort_index(ascending=False)
    eff = table.pivot(index="sample_size", columns="real_fraction",
                      values="effective_real_fraction").loc[grid.index, grid.columns]
    shown = grid.clip(upper=1.2)
    labels = np.empty(grid.shape, dtype=object)
    for i, m in enumerate(grid.index):
        for j, lam in enumerate(grid.columns):
            star = "*" if abs(eff.loc[m, lam] - lam) > 1e-9 else ""
            labels[i, j] = f"{grid.iloc[i, j]:.2f}{star}"
    sns.heatmap(shown, annot=labels, fmt="", cmap="rocket", vmin=0.0, vmax=1.2, ax=ax,
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
                          f"blue boxes: stable (≥ {threshold:g}); * = effective λ is round(λM)/M")
    return ax


# --------------------------------------------------------------------------- the explorer
EXPLORER_WORK_BUDGET = 4e7  # mixture EM point-updates per redraw (about 1 s on a loaded core)
EXPLORER_MIN_CHAINS = 16


def mixture_work(strategy: str, n_chains: int, sample_size: int, generations: int) -> float:
    """EM point-updates needed by the mixture simulation (the cost that matters for it):
    the training sets hold M items per generation, or (g+1)·M for ``accumulate``."""
    g, m = generations, sample_size
    items = m * (g + 1) * (g + 2) / 2 if strategy == "accumulate" else m * (g + 1)
    return float(n_chains) * items * EM_STEPS_WARM


def explorer_chains(model: str, strategy: str, n_chains: int, sample_size: int, generations: int,
                    budget: float = EXPLORER_WORK_BUDGET) -> int:
    """Chains the explorer can afford: ``n_chains``, halved (down to 16) while the mixture's
    work exceeds ``budget``. Raises ``ValueError`` (shown as a message by the explorer)
    when even 16 chains are too slow to stay interactive."""
    if model != "mixture":
        return n_chains
    c = n_chains
    while c > EXPLORER_MIN_CHAINS and mixture_work(strategy, c, sample_size, generations) > budget:
        c = max(EXPLORER_MIN_CHAINS, c // 2)
    work = mixture_work(strategy, c, sample_size, generations)
    if work > budget:
        seconds = work / EXPLORER_WORK_BUDGET
        raise ValueError(f"the mixture with '{strategy}', M = {sample_size} and {generations} generations "
                         f"refits on up to {sample_size * (generations + 1):,} items per chain: about "
                         f"{seconds:.0f}× too slow to redraw interactively. Lower `sample size M` or "
                         f"`generations`, or pick the Gaussian model (exact and fast).")
    return c


def _draw_explorer(*, model, strategy, real_fraction, fresh_real, sample_size, generations, temperature,
                   n_chains, seed, floor=1e-4, extra_notes=()):
    """Build the explorer's figure; returns (figure, result dict). Pure function of its inputs."""
    import matplotlib.pyplot as plt

    uses_lam = strategy == "real_fraction"
    res = simulate_mixing(model, strategy, n_chains=n_chains, generations=generations, sample_size=sample_size,
                          real_fraction=real_fraction if uses_lam else 0.0, fresh_real=bool(fresh_real) and uses_lam,
                          temperature=temperature, seed=seed)
    spread = res.spread
    gens = np.arange(spread.shape[1])
    q = np.quantile(spread, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    shown = np.clip(q, floor, None)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.fill_between(gens, shown[0], shown[4], color="C0", alpha=0.15, linewidth=0, label="5–95% of chains")
    ax.fill_between(gens, shown[1], shown[3], color="C0", alpha=0.3, linewidth=0, label="25–75% of chains")
    ax.plot(gens, shown[2], color="C0", lw=2, label="median chain")
    ax.axhline(1.0, color="0.3", lw=0.8, ls=":", label="real spread")
    ax.set_yscale("log")
    top = float(np.clip(q[4].max() * 1.5, 2.0, 1e4))
    ax.set_ylim(floor, top)
    ax.set_xlabel("generation (0 = fitted on real data)")
    ax.set_ylabel("spread kept σ²_g / σ²_real (log)")
    eff = effective_real_fraction(real_fraction, sample_size) if uses_lam else 0.0
    kind = ("fresh" if fresh_real else "fixed") + " real data"
    what = f"{strategy}, λ = {eff:.3g} ({kind})" if uses_lam else strategy
    ax.set_title(f"{model}: {what}, M = {sample_size}, τ = {temperature:g}")
    notes = list(extra_notes)
    if uses_lam and abs(eff - real_fraction) > 1e-9:
        notes.append(f"λM = {real_fraction * sample_size:.3g} is not whole: using "
                     f"{int(round(eff * sample_size))} real of {sample_size} (λ = {eff:.3g})")
    if not uses_lam:
        notes.append(f"λ is not used by '{strategy}' (only by 'real_fraction')")
    elif eff == 0:
        notes.append("no real items: this is 'replace'")
    elif eff == 1:
        notes.append("λ = 1: every generation trains on real data only")
    final_med = float(q[2, -1])
    collapsed = final_med < 1e-2
    if final_med < floor:
        notes.append(f"collapsed: median spread {final_med:.1e} is below the plot's floor {floor:g}")
    elif collapsed:
        notes.append(f"collapsed: the median chain kept {final_med:.1%} of the spread")
    if q[4].max() * 1.5 > 1e4:
        notes.append("spread explodes (τ > 1): clipped at 10⁴")
    if notes:
        ax.text(0.02, 0.03, "\n".join(notes), transform=ax.transAxes, fontsize=8, va="bottom", ha="left",
                color="firebrick", bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="firebrick", alpha=0.9))
    ax.legend(fontsize=7, loc="lower right", framealpha=0.8)

    # right: the real density and the final models of a few chains
    x = np.linspace(-4, 6, 240) if model == "mixture" else np.linspace(-4, 4, 240)
    if model == "mixture":
        p_real = np.exp(_mixture_logpdf_real(x))
    else:
        p_real = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    ax2.plot(x, p_real, color="black", lw=2, label="real")
    n_show = min(5, res.n_chains)
    dx = x[1] - x[0]
    spikes = []
    for i in range(n_show):
        if model == "mixture":
            w, mu, var = (a[i] for a in res.params)
        else:
            w, mu, var = np.ones(1), res.mean[i, -1:], res.spread[i, -1:]
        sd = temperature * np.sqrt(np.maximum(var, 1e-300))
        wide = sd >= dx  # a component narrower than the grid is drawn as a spike (a collapsed mode)
        dens = (w[wide, None] * np.exp(-0.5 * ((x - mu[wide, None]) / sd[wide, None]) ** 2)
                / (np.sqrt(2 * np.pi) * sd[wide, None])).sum(0)
        ax2.plot(x, np.minimum(dens, 5 * p_real.max()), color="C1", lw=1, alpha=0.8,
                 label=f"generation {generations}, {n_show} chains" if i == 0 else None)
        spikes += [m for m, ok, wk in zip(mu[~wide], wide[~wide], w[~wide]) if wk > 0.01]
    if spikes:
        ax2.vlines(spikes, 0, 1.55 * p_real.max(), color="firebrick", lw=1.2, label="collapsed to a point")
    ax2.set_ylim(0, 1.6 * p_real.max())
    ax2.set_xlabel("x")
    ax2.set_title("final models vs the real density")
    ax2.legend(fontsize=7, loc="upper right")
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.14, top=0.9, wspace=0.18)  # tight_layout costs ~100 ms
    result = dict(generations=gens, median=q[2], q05=q[0], q95=q[4], final_median=final_med, collapsed=collapsed,
                  effective_real_fraction=eff, notes=notes, label=res.label)
    return fig, result


def mix_explorer(*, model: str = "gaussian", strategy: str = "real_fraction", real_fraction: float = 0.1,
                 fresh_real: bool = False, sample_size: int = 50, generations: int = 50, temperature: float = 1.0,
                 n_chains: int | None = None, seed: int = 0, auto_draw: bool = True):
    """The mix-ratio explorer: sliders for λ, M, generations and temperature; choice of
    workflow, model and fresh vs fixed real data. Returns a
    :class:`collapse_kit.widgets.Explorer` (display it, or ``display(explorer.ui)``).

    ``n_chains`` (default 200 for the Gaussian, 64 for the mixture) is fixed when the explorer is built.
    """
    from .widgets import Explorer, dropdown, float_slider, int_slider, toggle

    check_choice("model", model, MODELS)
    check_choice("strategy", strategy, MIX_STRATEGIES)
    check_fraction("real_fraction", real_fraction)
    check_int("sample_size", sample_size, low=2, high=500)
    check_int("generations", generations, low=1, high=200)
    check_float("temperature", temperature, low=0.5, high=1.5)
    seed = check_seed("seed", seed)
    chains = {"gaussian": 200, "mixture": 64}
    if n_chains is not None:
        n = check_int("n_chains", n_chains, low=1)
        chains = {"gaussian": n, "mixture": n}
    controls = {
        "real_fraction": float_slider("real fraction λ", real_fraction, 0.0, 1.0, step=0.05),
        "sample_size": int_slider("sample size M", sample_size, 2, 500),
        "generations": int_slider("generations", generations, 1, 200),
        "temperature": float_slider("temperature τ", temperature, 0.5, 1.5, step=0.05),
        "strategy": dropdown("workflow", MIX_STRATEGIES, strategy),
        "fresh_real": _checkbox("fresh real data each generation", bool(fresh_real)),
        "model": toggle("model", MODELS, model),
    }

    def draw(**v):
        want = chains[v["model"]]
        c = explorer_chains(v["model"], v["strategy"], want, v["sample_size"], v["generations"])
        extra = [f"{c} chains instead of {want} to stay interactive"] if c < want else []
        return _draw_explorer(n_chains=c, seed=seed, extra_notes=extra, **v)

    return Explorer(controls, draw, title="Mix-ratio explorer: how much real data keeps the model alive?",
                    auto_draw=auto_draw)


def _checkbox(description: str, value: bool):
    """A ``Checkbox`` (same API in ipywidgets 7.7 and 8)."""
    import ipywidgets as W

    return W.Checkbox(value=value, description=description, indent=False)
