"""A 1-D Gaussian mixture in the generational loop: minority modes fade.

The "rare breed" story of Shumailov et al. (Nature 2024): when a population has a
majority and a rare minority, a model trained on samples of a model trained on samples ...
sees fewer and fewer of the minority until it is lost. The population is a
:class:`MixtureParams`; the model, :class:`GaussianMixtureModel`, fits a mixture by EM to
each chain's training data (batched over chains) and samples from it, so it runs in
:func:`collapse_kit.loop.run_generations` with any :class:`~collapse_kit.strategies.Strategy`.

Two measures of the minority, both per chain:

* :func:`minority_share` -- the share of a generation's *samples* that the real population's
  posterior assigns to its minority component (a fixed judge, the same in every generation);
* :func:`minority_mass` -- the fitted *weight* of the component nearest the minority's mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_array, check_float, check_int

_VAR_FLOOR = 1e-3
_LOG2PI = np.log(2 * np.pi)


def _log_normal(x, mean, var):
    return -0.5 * (_LOG2PI + np.log(var) + (x - mean) ** 2 / var)


def _draw(weights, means, sds, n, rng):
    """``n`` draws from each row's mixture: parameters (C, K) -> samples (C, n)."""
    c, k = weights.shape
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    comp = np.minimum((rng.random((c, n))[:, :, None] > cdf[:, None, :]).sum(axis=2), k - 1)
    out = rng.standard_normal((c, n))
    out *= np.take_along_axis(sds, comp, axis=1)
    out += np.take_along_axis(means, comp, axis=1)
    return out


@dataclass(frozen=True)
class MixtureParams:
    """A 1-D Gaussian mixture population (the "real" distribution of a lesson).

    Parameters
    ----------
    weights : tuple of K floats > 0 summing to 1
    means : tuple of K floats
    sds : tuple of K floats > 0 (standard deviations)
    """

    weights: tuple
    means: tuple
    sds: tuple

    def __post_init__(self):
        w = check_array("weights", self.weights, ndim=1)
        mu = check_array("means", self.means, ndim=1)
        sd = check_array("sds", self.sds, ndim=1)
        if not (w.size == mu.size == sd.size):
            raise ValueError(f"`weights`, `means` and `sds` must have the same length (got {w.size}, {mu.size}, "
                             f"{sd.size}).")
        if np.any(w <= 0) or not np.isclose(w.sum(), 1.0, atol=1e-6):
            raise ValueError(f"`weights` must be > 0 and sum to 1 (got {tuple(w)}).")
        if np.any(sd <= 0):
            raise ValueError(f"`sds` must be > 0 (got {tuple(sd)}).")
        for name, arr in (("weights", w / w.sum()), ("means", mu), ("sds", sd)):
            object.__setattr__(self, name, tuple(float(v) for v in arr))

    @property
    def minority(self) -> int:
        """Index of the smallest-weight component."""
        return int(np.argmin(self.weights))

    def _arrays(self, n_chains: int = 1):
        return tuple(np.tile(np.asarray(a, float), (n_chains, 1)) for a in (self.weights, self.means, self.sds))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws, shape ``(n,)``."""
        return _draw(*self._arrays(), check_int("n", n, low=1), rng)[0]

    def sampler(self):
        """This population as a ``real_sampler(rng, n_chains, n) -> (n_chains, n)`` for the loop."""
        def draw(rng, n_chains, n):
            return _draw(*self._arrays(check_int("n_chains", n_chains, low=1)), check_int("n", n, low=1), rng)
        return draw

    @property
    def variance(self) -> float:
        """The population's variance: ``Σ w (σ² + μ²) - (Σ w μ)²``."""
        w, mu, sd = (np.asarray(a, float) for a in (self.weights, self.means, self.sds))
        return float((w * (sd**2 + mu**2)).sum() - (w * mu).sum() ** 2)

    def best_gaussian_kl(self, n: int = 200_000, seed: int = 0) -> float:
        """KL(population ‖ its best single Gaussian), in nats: the Gaussian with the population's mean and
        variance, estimated on ``n`` seeded draws. A model that learned the modes must be well below it."""
        x = self.sample(check_int("n", n, low=2), np.random.default_rng(seed))
        mean, var = float(np.dot(self.weights, self.means)), self.variance
        return float(np.mean(np.log(self.pdf(x)) + 0.5 * np.log(2 * np.pi * var) + (x - mean) ** 2 / (2 * var)))

    def pdf(self, x) -> np.ndarray:
        """Density at ``x`` (any shape)."""
        x = np.asarray(x, dtype=float)[..., None]
        return (np.asarray(self.weights) * np.exp(_log_normal(x, np.asarray(self.means),
                                                              np.asarray(self.sds) ** 2))).sum(axis=-1)

    def posterior(self, x) -> np.ndarray:
        """Responsibilities ``P(component | x)``, shape ``(*x.shape, K)``."""
        x = np.asarray(x, dtype=float)[..., None]
        logp = np.log(self.weights) + _log_normal(x, np.asarray(self.means), np.asarray(self.sds) ** 2)
        logp -= logp.max(axis=-1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=-1, keepdims=True)


#: The named populations of the course, each chosen on purpose.
POPULATIONS: dict[str, MixtureParams] = {
    # Lesson 02: a rare, well-separated minority (10%, four majority sds away, narrower). M = 100 real
    # draws all miss it with probability 0.9**100 ≈ 2.7e-5, yet refits lose it over generations; separated enough that the real posterior classifies a point almost surely.
    "rare_mode": MixtureParams((0.9, 0.1), (0.0, 4.0), (1.0, 0.7)),
    # Lesson 04 ('mixture' model): a 20% minority three sds away, overlapping the majority's tail,
    # so EM's estimates of the two modes interact and strategies differ in how much minority they keep.
    "two_modes": MixtureParams((0.8, 0.2), (0.0, 3.0), (1.0, 0.5)),
}


def population(name: str) -> MixtureParams:
    """A named population of :data:`POPULATIONS` (validated lookup)."""
    if name not in POPULATIONS:
        raise ValueError(f"`name` must be one of {', '.join(map(repr, POPULATIONS))} (got {name!r}).")
    return POPULATIONS[name]


class GaussianMixtureModel:
    """A 1-D Gaussian mixture per chain, fitted by EM, batched over chains (the loop's model protocol).

    Data have shape ``(n_chains, n)``. EM starts from a few k-means steps (the first mean at the
    median, each next one at the point farthest from the others; then a tiny jitter from ``rng``) and runs
    until the log-likelihood of that chain changes by less than ``tol`` (relative) or ``n_iter``
    iterations; a variance floor of 1e-3 keeps a component that lost its points from degenerating.
    Components are sorted by mean. After ``fit``, ``weights_``, ``means_`` and ``vars_`` have shape
    ``(n_chains, K)``.

    Parameters
    ----------
    n_components : int >= 1
    n_iter : int >= 1, maximum EM iterations
    temperature : float > 0
        Samples are drawn with each component's standard deviation times ``temperature``
        (this scales the spread; a language model's temperature divides its logits).
    tol : float >= 0, relative change of the log-likelihood that stops a chain's EM
    """

    def __init__(self, n_components: int = 2, n_iter: int = 60, temperature: float = 1.0, tol: float = 1e-6):
        self.n_components = check_int("n_components", n_components, low=1)
        self.n_iter = check_int("n_iter", n_iter, low=1)
        self.temperature = check_float("temperature", temperature, low=0.0, low_open=True)
        self.tol = check_float("tol", tol, low=0.0)
        self.weights_ = self.means_ = self.vars_ = None

    def fit(self, data, rng: np.random.Generator) -> "GaussianMixtureModel":
        x = check_array("data", data, ndim=2)
        if x.shape[1] < 2:
            raise ValueError(f"`data` must have shape (n_chains, n >= 2) (got {x.shape}).")
        c, n = x.shape
        k = self.n_components
        means = np.empty((c, k))
        means[:, 0] = np.median(x, axis=1)
        gap = np.abs(x - means[:, :1])
        for j in range(1, k):  # farthest-first: each new mean at the point farthest from the others
            means[:, j] = x[np.arange(c), gap.argmax(axis=1)]
            gap = np.minimum(gap, np.abs(x - means[:, j:j + 1]))
        for _ in range(10):  # a few k-means steps give EM a start near the modes
            near = np.abs(x[:, None, :] - means[:, :, None]).argmin(axis=1)
            hot = near[:, None, :] == np.arange(k)[None, :, None]
            nk = hot.sum(axis=2)
            means = np.where(nk > 0, (hot * x[:, None, :]).sum(axis=2) / np.maximum(nk, 1), means)
        dev = np.where(hot, x[:, None, :] - means[:, :, None], 0.0)
        var = np.maximum(np.where(nk > 1, (dev**2).sum(axis=2) / np.maximum(nk, 1), x.var(axis=1)[:, None]),
                         _VAR_FLOOR)
        weights = np.maximum(nk, 1) / np.maximum(nk, 1).sum(axis=1, keepdims=True)
        means = means + 1e-3 * rng.standard_normal((c, k))
        prev = np.full(c, -np.inf)
        active = np.arange(c)
        for _ in range(self.n_iter):  # layout (chain, component, item): reductions run along the items
            xx = x[active, None, :]
            w, mu, v = weights[active, :, None], means[active, :, None], var[active, :, None]
            logp = np.log(np.maximum(w, 1e-300)) - 0.5 * (_LOG2PI + np.log(v)) - (xx - mu) ** 2 / (2 * v)
            mx = logp.max(axis=1, keepdims=True)
            resp = np.exp(logp - mx)
            tot = resp.sum(axis=1, keepdims=True)
            ll = (np.log(tot) + mx).sum(axis=(1, 2))
            resp /= tot
            nk = resp.sum(axis=2) + 1e-12
            mu = (resp * xx).sum(axis=2) / nk
            weights[active] = nk / n
            means[active] = mu
            var[active] = np.maximum((resp * (xx - mu[:, :, None]) ** 2).sum(axis=2) / nk, _VAR_FLOOR)
            done = np.abs(ll - prev[active]) <= self.tol * np.abs(ll)
            prev[active] = ll
            active = active[~done]
            if not active.size:
                break
        order = np.argsort(means, axis=1)
        self.weights_, self.means_, self.vars_ = (np.take_along_axis(a, order, axis=1) for a in (weights, means, var))
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws per chain, shape ``(n_chains, n)``."""
        if self.weights_ is None:
            raise RuntimeError("call fit() before sample().")
        return _draw(self.weights_, self.means_, self.temperature * np.sqrt(self.vars_), check_int("n", n, low=1),
                     rng)

    def __repr__(self) -> str:
        fitted = "" if self.weights_ is None else f", {len(self.weights_)} chains"
        return f"GaussianMixtureModel(n_components={self.n_components}, temperature={self.temperature:g}{fitted})"


def _check_population(population):
    if not isinstance(population, MixtureParams):
        raise TypeError(f"`population` must be a MixtureParams (got {type(population).__name__}).")
    return population


def minority_share(samples, population: MixtureParams) -> np.ndarray:
    """Per chain, the share of ``samples`` (n_chains, n) whose posterior under the real
    ``population`` favours its minority component (> 1/2). Shape ``(n_chains,)``."""
    pop = _check_population(population)
    x = check_array("samples", samples, ndim=2)
    return (pop.posterior(x)[..., pop.minority] > 0.5).mean(axis=1)


def minority_mass(model: GaussianMixtureModel, population: MixtureParams) -> np.ndarray:
    """Per chain, the fitted weight of the component whose mean is nearest the population's
    minority mean. Shape ``(n_chains,)``."""
    pop = _check_population(population)
    if getattr(model, "weights_", None) is None:
        raise ValueError("`model` must be a fitted GaussianMixtureModel.")
    idx = np.argmin(np.abs(model.means_ - pop.means[pop.minority]), axis=1)
    return np.take_along_axis(model.weights_, idx[:, None], axis=1)[:, 0]


def loop_metrics(population: MixtureParams) -> dict:
    """Metrics for :func:`~collapse_kit.loop.run_generations` with a :class:`GaussianMixtureModel`:
    ``minority share`` (of the samples, judged by the real posterior) and ``minority weight``
    (the fitted weight nearest the minority)."""
    pop = _check_population(population)
    return {"minority share": lambda c: minority_share(c.samples, pop),
            "minority weight": lambda c: minority_mass(c.model, pop)}


def prob_minority_absent(minority_share: float, sample_size: int) -> float:
    """Probability that ``M`` draws contain no minority point at all: ``(1 - w)**M``."""
    w = check_float("minority_share", minority_share, low=0.0, high=1.0)
    return float((1 - w) ** check_int("sample_size", sample_size, low=1))
