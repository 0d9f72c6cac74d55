"""A 1-D Gaussian mixture in the generational loop: minority modes fade.

The "dog breeds" story of Shumailov et al. (Nature 2024): if a population has
a majority and a rare minority (a rare breed), a model trained on samples of
a model trained on samples ... sees fewer and fewer of the minority until it
is lost. Here the population is a two-component Gaussian mixture (e.g. 90/10);
each generation fits a mixture by EM to its training data and samples ``M``
new points.

We measure the *minority share* of a generation's samples with a fixed judge,
the real mixture's posterior: a sample counts as minority when the real
mixture says it more likely came from the minority component. (So the share
is measured the same way in every generation, whatever the refitted
components do.)

* :func:`fit_gmm_batch` — EM for many independent 1-D data sets at once.
* :class:`GaussianMixture1D` — ``fit(data, rng)`` / ``sample(n, rng)`` for
  :func:`collapse_kit.loop.run_generations`.
* :func:`simulate_minority` — many chains at once (vectorised EM), same tidy
  history as the loop, strategies ``replace`` and ``accumulate``.
* :func:`minority_explorer` — the widget: minority share, sample size, strategy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_array, check_choice, check_rng, check_float, check_int, check_probabilities

MIXTURE_STRATEGIES = ("replace", "accumulate")
_VAR_FLOOR = 1e-3
_LOG2PI = np.log(2 * np.pi)




def _log_normal(x, mean, var):
    return -0.5 * (_LOG2PI + np.log(var) + (x - mean) ** 2 / var)


@dataclass(frozen=True)
class MixtureParams:
    """Weights, means and variances of a 1-D Gaussian mixture (validated)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def __post_init__(self):
        w = check_probabilities("weights", self.weights, atol=1e-6)
        mu = check_array("means", self.means, ndim=1)
        var = check_array("variances", self.variances, ndim=1)
        if not (w.size == mu.size == var.size):
            raise ValueError(f"`weights`, `means` and `variances` must have the same length "
                             f"(got {w.size}, {mu.size}, {var.size}).")
        if np.any(var <= 0):
            raise ValueError("`variances` must be > 0.")
        object.__setattr__(self, "weights", w / w.sum())
        object.__setattr__(self, "means", mu)
        object.__setattr__(self, "variances", var)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = check_int("n", n, low=1)
        comp = rng.choice(self.weights.size, size=n, p=self.weights)
        return rng.normal(self.means[comp], np.sqrt(self.variances[comp]))

    def posterior(self, x) -> np.ndarray:
        """Responsibilities ``P(component | x)``, shape (len(x), K)."""
        x = np.asarray(x, dtype=float)[..., None]
        logp = np.log(np.maximum(self.weights, 1e-300)) + _log_normal(x, self.means, self.variances)
        logp -= logp.max(axis=-1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=-1, keepdims=True)

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)[..., None]
        return (self.weights * np.exp(_log_normal(x, self.means, self.variances))).sum(axis=-1)


def real_mixture(minority_share: float = 0.1, *, separation: float = 4.0, minority_sd: float = 0.7) -> MixtureParams:
    """The course's population: majority N(0, 1) and minority N(separation, minority_sd²).

    Parameters
    ----------
    minority_share : float in (0, 1)
        Weight of the minority component (0.1 = a 90/10 mixture).
    """
    w = check_float("minority_share", minority_share, low=0.0, high=1.0, low_open=True, high_open=True)
    sep = check_float("separation", separation, low=0.0, low_open=True)
    sd = check_float("minority_sd", minority_sd, low=0.0, low_open=True)
    return MixtureParams(np.array([1 - w, w]), np.array([0.0, sep]), np.array([1.0, sd * sd]))


# --------------------------------------------------------------------------- EM, vectorised over data sets
def fit_gmm_batch(x, n_components: int = 2, *, n_iter: int = 60, rng: np.random.Generator | None = None,
                  seed: int | None = 0, tol: float = 1e-6, init=None):
    """EM for a 1-D Gaussian mixture on each row of ``x`` (shape (B, n)), all at once.

    Initialisation: means at evenly spaced quantiles of each row (plus a tiny
    random jitter from ``rng``), equal weights, the row's variance; or
    ``init = (weights, means, variances)`` (each (B, n_components)) to warm-start
    from a previous fit. A variance floor of 1e-3 keeps a component that lost its
    points from degenerating.

    Returns
    -------
    weights, means, variances : arrays of shape (B, n_components), components
        sorted by mean.
    """
    x = check_array("x", x, ndim=(1, 2), min_len=1)
    if x.ndim == 1:
        x = x[None, :]
    k = check_int("n_components", n_components, low=1)
    n_iter = check_int("n_iter", n_iter, low=1)
    if x.shape[1] < 2:
        raise ValueError(f"`x` must hold at least 2 points per data set (got {x.shape[1]}).")
    rng = check_rng(seed, rng)
    b, n = x.shape
    if init is None:
        qs = (np.arange(k) + 0.5) / k
        means = np.quantile(x, qs, axis=1).T + 1e-3 * rng.standard_normal((b, k))
        var = np.maximum(np.broadcast_to(x.var(axis=1, keepdims=True), (b, k)).copy(), _VAR_FLOOR)
        weights = np.full((b, k), 1.0 / k)
    else:
        weights, means, var = (np.array(a, dtype=float).reshape(b, k) for a in init)
        weights = np.maximum(weights, 1e-3)
        weights /= weights.sum(axis=1, keepdims=True)
    xx = x[:, :, None]
    prev = -np.inf
    for _ in range(n_iter):
        logp = np.log(np.maximum(weights, 1e-300))[:, None, :] + _log_normal(xx, means[:, None, :], var[:, None, :])
        mx = logp.max(axis=2, keepdims=True)
        resp = np.exp(logp - mx)
        tot = resp.sum(axis=2, keepdims=True)
        ll = float((np.log(tot) + mx).sum())
        resp /= tot
        nk = resp.sum(axis=1) + 1e-12
        weights = nk / n
        means = (resp * xx).sum(axis=1) / nk
        var = np.maximum((resp * (xx - means[:, None, :]) ** 2).sum(axis=1) / nk, _VAR_FLOOR)
        if abs(ll - prev) <= tol * abs(ll):
            break
        prev = ll
    order = np.argsort(means, axis=1)
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    return take(weights), take(means), take(var)


def _sample_batch(weights, means, var, n: int, rng: np.random.Generator) -> np.ndarray:
    b, k = weights.shape
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    comp = (rng.random((b, n))[:, :, None] > cdf[:, None, :]).sum(axis=2)
    comp = np.minimum(comp, k - 1)
    mu = np.take_along_axis(means, comp, axis=1)
    sd = np.sqrt(np.take_along_axis(var, comp, axis=1))
    return rng.normal(mu, sd)


class GaussianMixture1D:
    """A 1-D Gaussian mixture fitted by EM, following the loop protocol.

    Parameters
    ----------
    n_components : int >= 1
    n_iter : int >= 1, EM iterations

    Attributes (after ``fit``)
    --------------------------
    params_ : MixtureParams
    """

    def __init__(self, n_components: int = 2, n_iter: int = 60):
        self.n_components = check_int("n_components", n_components, low=1)
        self.n_iter = check_int("n_iter", n_iter, low=1)
        self.params_: MixtureParams | None = None

    def fit(self, data, rng: np.random.Generator | None = None) -> "GaussianMixture1D":
        x = check_array("data", data, ndim=1, min_len=2)
        w, mu, var = fit_gmm_batch(x[None, :], self.n_components, n_iter=self.n_iter, rng=check_rng(0, rng))
        self.params_ = MixtureParams(w[0], mu[0], var[0])
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.params_ is None:
            raise RuntimeError("call fit() before sample().")
        return self.params_.sample(n, rng)


def minority_share(samples, real: MixtureParams, minority: int = -1) -> float:
    """Share of ``samples`` that the real mixture assigns to its minority component
    (posterior > 1/2). ``minority`` is the component's index (default: the last)."""
    post = real.posterior(np.asarray(samples, dtype=float))
    return float((post[..., minority] > 0.5).mean())


# --------------------------------------------------------------------------- many chains at once
@dataclass
class MixtureRun:
    """Result of :func:`simulate_minority`: a tidy ``history`` (metric
    ``minority_share``: the share of each generation's samples that the real
    mixture assigns to its minority) and the settings."""

    history: pd.DataFrame
    real: MixtureParams
    sample_size: int
    generations: int
    strategy: str
    last_samples: np.ndarray

    def values(self, metric: str = "minority_share") -> np.ndarray:
        sub = self.history[self.history["metric"] == metric]
        if sub.empty:
            raise ValueError(f"`metric` must be one of {sorted(set(self.history['metric']))} (got {metric!r}).")
        return sub.pivot(index="seed", columns="generation", values="value").to_numpy()

    def lost_fraction(self, threshold: float = 0.01) -> np.ndarray:
        """Per generation, the fraction of chains whose minority share is below ``threshold``."""
        return (self.values("minority_share") < threshold).mean(axis=0)


def simulate_minority(minority_share: float = 0.1, *, sample_size: int = 100, generations: int = 50,
                      n_chains: int = 100, strategy: str = "replace", n_components: int = 2,
                      n_iter: int = 40, separation: float = 4.0, seed: int | None = 0,
                      rng: np.random.Generator | None = None) -> MixtureRun:
    """Run many chains of "fit a GMM by EM, sample M, refit" at once.

    Generation 0 fits ``M`` real points drawn from :func:`real_mixture`; later
    generations train on the previous samples (``replace``) or on the real
    points plus all samples so far (``accumulate``). Each chain starts from its
    own real sample. Every ``replace`` fit starts EM afresh (quantile
    initialisation); an ``accumulate`` fit warm-starts from the previous
    generation's fit (its training set only grew), with ``n_iter // 4`` iterations,
    to keep the growing training sets affordable.
    """
    real = real_mixture(minority_share, separation=separation)
    m = check_int("sample_size", sample_size, low=2)
    generations = check_int("generations", generations, low=1)
    n_chains = check_int("n_chains", n_chains, low=1)
    strategy = check_choice("strategy", strategy, MIXTURE_STRATEGIES)
    rng = check_rng(seed, rng)
    real_x = _sample_batch(np.broadcast_to(real.weights, (n_chains, 2)), np.broadcast_to(real.means, (n_chains, 2)),
                           np.broadcast_to(real.variances, (n_chains, 2)), m, rng)
    train = real_x
    rows = []
    chains = np.arange(n_chains)
    samples = real_x
    fit = None
    for g in range(generations + 1):
        if strategy == "accumulate" and fit is not None:
            fit = fit_gmm_batch(train, n_components, n_iter=max(1, n_iter // 4), rng=rng, init=fit)
        else:
            fit = fit_gmm_batch(train, n_components, n_iter=n_iter, rng=rng)
        samples = _sample_batch(*fit, m, rng)
        share = (real.posterior(samples)[..., -1] > 0.5).mean(axis=1)
        rows.append(pd.DataFrame({"generation": g, "seed": chains, "metric": "minority_share", "value": share}))
        train = samples if strategy == "replace" else np.concatenate([train, samples], axis=1)
    history = pd.concat(rows, ignore_index=True)
    history["strategy"] = strategy
    return MixtureRun(history, real, m, generations, strategy, samples)


def prob_minority_absent(minority_share: float, sample_size: int) -> float:
    """Probability that ``M`` draws contain no minority point at all: ``(1 - w)**M``."""
    w = check_float("minority_share", minority_share, low=0.0, high=1.0)
    m = check_int("sample_size", sample_size, low=1)
    return float((1 - w) ** m)


# --------------------------------------------------------------------------- the explorer
def minority_explorer(*, n_chains: int = 30, generations: int = 25, seed: int = 0):
    """An :class:`collapse_kit.widgets.Explorer` for the minority mode.

    Controls: minority share (0.02–0.5), sample size M (20–300), strategy
    (replace / accumulate). The figure shows the minority share of every chain
    per generation (fan chart) and, on the right, the fraction of chains in which
    the minority is lost (share < 1%). ``last_result`` holds the :class:`MixtureRun`.
    """
    import matplotlib.pyplot as plt

    from .plots import annotate, fan_chart
    from .widgets import Explorer, float_slider, int_slider, toggle

    n_chains = check_int("n_chains", n_chains, low=1)
    generations = check_int("generations", generations, low=1)

    def draw(minority_share, sample_size, strategy):
        run = simulate_minority(minority_share, sample_size=sample_size, generations=generations,
                                n_chains=n_chains, strategy=strategy, seed=seed)
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2, 1]})
        fan_chart(run.values("minority_share"), ax=ax, n_paths=5, seed=seed)
        ax.axhline(minority_share, color="black", ls="--", lw=1, label="real share")
        ax.set_ylim(-0.02, min(1.0, 3 * minority_share + 0.1))
        ax.set_ylabel("minority share of samples")
        ax.set_title(f"minority share per generation ({strategy}, M = {sample_size})")
        ax.legend(fontsize=8, loc="upper right")
        lost = run.lost_fraction()
        ax2.plot(np.arange(generations + 1), lost, marker="o", ms=3)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_xlabel("generation")
        ax2.set_ylabel("fraction of chains")
        ax2.set_title("minority lost (share < 1%)")
        if lost[-1] >= 0.999:
            annotate(ax2, "collapsed: lost in every chain", loc="lower right")
        fig.tight_layout()
        return fig, run

    controls = {
        "minority_share": float_slider("minority share", 0.1, 0.02, 0.5, 0.01),
        "sample_size": int_slider("sample size M", 100, 20, 300, 10),
        "strategy": toggle("strategy", MIXTURE_STRATEGIES),
    }
    return Explorer(controls, draw, title="A minority mode across generations")
