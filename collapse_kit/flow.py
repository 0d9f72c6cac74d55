"""A small neural density model for 1-D data: a monotone normalizing flow (lesson 08).

The model maps data to a standard normal through a learned, strictly increasing function
(after standardising each chain's training data with its mean ``m`` and standard deviation ``s``)::

    u = (x - m) / s,      z = g(u) = a·u + b + Σ_k c_k · tanh(w_k · u + d_k),      z ~ N(0, 1)

with ``a, c_k, w_k > 0`` (softplus), so ``g' > 0`` and the density is exact (change of variables):
``log p(x) = log N(g(u); 0, 1) + log g'(u) - log s``. Training maximises it with Adam (mini-batches),
one network per chain, all chains at once (every parameter has a leading chain axis), in numpy
(the gradient is written out; no torch). Sampling
draws ``z ~ N(0, temperature²)`` and inverts ``g`` by bisection (``g`` is monotone, and
``|g(u) - a·u - b| ≤ Σ c_k`` brackets the root).

``temperature < 1`` is the "reduced temperature" of flow models (Kingma & Dhariwal, *Glow*, 2018):
samples concentrate where the density is high, trading diversity for typicality. It is the
sampling bias of Alemohammad et al.'s self-consuming loops (their λ; this course's λ is the real
fraction). Like every model of the course, :class:`FlowModel` has batched ``fit(data, rng)`` /
``sample(n, rng)`` and runs in :func:`collapse_kit.loop.run_generations` with any strategy.
"""
from __future__ import annotations

import numpy as np

from ._validate import check_float, check_int


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _check_work_memory(n_chains: int, n: int, n_units: int, name: str) -> None:
    """Refuse, before allocating, a call whose (chains, items, units) work arrays exceed the memory budget."""
    from .loop import memory_budget

    need = 6 * 8 * n_chains * n * n_units            # about six float64 arrays of shape (chains, items, units)
    if need > memory_budget():
        fits = max(1, int(memory_budget() // (6 * 8 * n_chains * n_units)))
        raise ValueError(f"`{name}` = {n:,} items for {n_chains:,} chains needs about {need / 2**30:.1f} GiB of work "
                         f"arrays, over the memory budget of {memory_budget() / 2**30:.1f} GiB "
                         f"(COLLAPSE_KIT_MEMORY_GB): use `{name}` <= {fits:,} or fewer chains.")


class FlowModel:
    """A monotone 1-D normalizing flow per chain; the loop's batched neural density model.

    Parameters
    ----------
    n_units : int >= 1, tanh units of the flow (more units: more complex shapes, e.g. several modes)
    steps : int >= 1, Adam steps per fit
    batch_size : int >= 2, items per step (a fresh random mini-batch per chain when the training set is
        larger; full batch otherwise), so a growing training set does not make a fit slower
    lr : float > 0, Adam learning rate
    temperature : float > 0, sampling temperature: ``z ~ N(0, temperature²)`` (1: the fitted density)

    Notes
    -----
    ``fit(data (n_chains, N), rng)`` trains all chains at once from initial weights drawn from ``rng``
    (same seed, same numbers). ``log_density(x)`` evaluates each chain's fitted density on
    ``x (n_chains, n)``; ``sample(n, rng)`` returns ``(n_chains, n)``.
    """

    def __init__(self, n_units: int = 8, steps: int = 300, lr: float = 0.05, temperature: float = 1.0,
                 batch_size: int = 512):
        self.n_units = check_int("n_units", n_units, low=1)
        self.steps = check_int("steps", steps, low=1)
        self.lr = check_float("lr", lr, low=0.0, low_open=True)
        self.temperature = check_float("temperature", temperature, low=0.0, low_open=True)
        self.batch_size = check_int("batch_size", batch_size, low=2)
        self.params_: dict | None = None    # per chain: location m, scale s, and the flow's a, b, c, w, d

    def __repr__(self) -> str:
        return (f"FlowModel(n_units={self.n_units}, steps={self.steps}, lr={self.lr}, "
                f"temperature={self.temperature})")

    # ------------------------------------------------------------------ the flow
    @staticmethod
    def _g(u, a, b, c, w, d):
        """``g(u)`` and ``g'(u)`` for ``u (C, n)`` and per-chain parameters (C,) / (C, K)."""
        t = np.tanh(w[:, None, :] * u[:, :, None] + d[:, None, :])            # (C, n, K)
        g = a[:, None] * u + b[:, None] + (c[:, None, :] * t).sum(-1)
        dg = a[:, None] + (c[:, None, :] * w[:, None, :] * (1 - t * t)).sum(-1)
        return g, dg

    def loss_and_grad(self, theta, u):
        """Mean negative log-likelihood per chain (up to constants) and its gradient in the raw parameters.

        ``theta (C, 3K + 2)`` holds each chain's unconstrained ``[a, b, c_1..K, w_1..K, d_1..K]`` (``a, c, w``
        through softplus); ``u (C, n)`` the standardised data. Returns ``(loss (C,), grad (C, 3K + 2))``.
        The derivatives are written out by hand (a unit test checks them against finite differences), so the
        flow needs numpy only.
        """
        k = self.n_units
        ra, b, rc, rw, d = theta[:, 0], theta[:, 1], theta[:, 2:2 + k], theta[:, 2 + k:2 + 2 * k], theta[:, 2 + 2 * k:]
        a, c, w = _softplus(ra) + 1e-3, _softplus(rc), _softplus(rw)
        uu = u[:, :, None]
        t = np.tanh(w[:, None, :] * uu + d[:, None, :])                     # (C, n, K)
        s = 1 - t * t
        g = a[:, None] * u + b[:, None] + (c[:, None, :] * t).sum(-1)
        dg = a[:, None] + (c[:, None, :] * w[:, None, :] * s).sum(-1)
        loss = (0.5 * g * g - np.log(dg)).mean(axis=1)
        n = u.shape[1]
        e, r = g / n, 1.0 / (dg * n)                                         # dL/dg and -dL/dg' per item
        er, rr = e[:, :, None], r[:, :, None]
        grad = np.empty_like(theta)
        grad[:, 0] = ((e * u).sum(1) - r.sum(1)) * _sigmoid(ra)
        grad[:, 1] = e.sum(1)
        grad[:, 2:2 + k] = ((er * t).sum(1) - (rr * w[:, None, :] * s).sum(1)) * _sigmoid(rc)
        cs = c[:, None, :] * s
        grad[:, 2 + k:2 + 2 * k] = ((er * cs * uu).sum(1)
                                     - (rr * cs * (1 - 2 * w[:, None, :] * t * uu)).sum(1)) * _sigmoid(rw)
        grad[:, 2 + 2 * k:] = (er * cs).sum(1) + (rr * cs * 2 * w[:, None, :] * t).sum(1)
        return loss, grad

    def fit(self, data, rng: np.random.Generator) -> "FlowModel":
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] < 2:
            raise ValueError(f"`data` must have shape (n_chains, n >= 2) (got {x.shape}).")
        if not np.isfinite(x).all():
            raise ValueError("`data` must be finite.")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"`rng` must be a numpy Generator (got {type(rng).__name__}).")
        n_chains, k = x.shape[0], self.n_units
        _check_work_memory(n_chains, min(x.shape[1], self.batch_size), k, "batch_size")
        m = x.mean(axis=1)
        s = np.maximum(x.std(axis=1), 1e-6)
        u = (x - m[:, None]) / s[:, None]
        theta = rng.standard_normal((n_chains, 3 * k + 2)) * np.r_[0.1, 0.1, [0.1] * k, [0.5] * k, [1.0] * k]
        theta[:, 0] += 0.5
        theta[:, 2:2 + k] -= 2.0
        m1, m2 = np.zeros_like(theta), np.zeros_like(theta)                 # Adam, element-wise: every chain
        rows = np.arange(n_chains)[:, None]
        for step in range(1, self.steps + 1):                               # trains exactly as it would alone
            batch = u if u.shape[1] <= self.batch_size else u[rows, rng.integers(0, u.shape[1], (n_chains, self.batch_size))]
            _, grad = self.loss_and_grad(theta, batch)
            m1 = 0.9 * m1 + 0.1 * grad
            m2 = 0.999 * m2 + 0.001 * grad * grad
            theta -= self.lr * (m1 / (1 - 0.9**step)) / (np.sqrt(m2 / (1 - 0.999**step)) + 1e-8)
        self.theta_ = theta
        self.params_ = {"m": m, "s": s, "a": _softplus(theta[:, 0]) + 1e-3, "b": theta[:, 1],
                        "c": _softplus(theta[:, 2:2 + k]), "w": _softplus(theta[:, 2 + k:2 + 2 * k]),
                        "d": theta[:, 2 + 2 * k:]}
        return self

    def _check_fitted(self) -> dict:
        if self.params_ is None:
            raise RuntimeError("call fit() before using the flow.")
        return self.params_

    def log_density(self, x) -> np.ndarray:
        """Each chain's fitted log-density at ``x (n_chains, n)`` (exact, by the change of variables)."""
        p = self._check_fitted()
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[0] != len(p["m"]):
            raise ValueError(f"`x` must have shape ({len(p['m'])}, n) (got {x.shape}).")
        u = (x - p["m"][:, None]) / p["s"][:, None]
        g, dg = self._g(u, p["a"], p["b"], p["c"], p["w"], p["d"])
        return -0.5 * (np.log(2 * np.pi) + g * g) + np.log(dg) - np.log(p["s"])[:, None]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws per chain, ``(n_chains, n)``: ``z ~ N(0, temperature²)``, then ``u = g⁻¹(z)``.

        ``g`` is increasing and ``|g(u) - a·u - b| ≤ Σ c_k``, so the root lies in a known bracket: ``g`` is
        tabulated on 2,049 points across it, inverted by linear interpolation, and polished by three Newton
        steps (``g' > 0``), kept inside the bracket.
        """
        p = self._check_fitted()
        n = check_int("n", n, low=1)
        _check_work_memory(len(p["m"]), max(n, 2049), self.n_units, "n")
        a, b, c, w, d = p["a"], p["b"], p["c"], p["w"], p["d"]
        z = self.temperature * rng.standard_normal((len(a), n))
        spread = c.sum(axis=1)[:, None]
        lo = ((z.min(axis=1, keepdims=True) - b[:, None] - spread) / a[:, None])
        hi = ((z.max(axis=1, keepdims=True) - b[:, None] + spread) / a[:, None])
        grid = lo + (hi - lo) * np.linspace(0.0, 1.0, 2049)[None, :]
        table = self._g(grid, a, b, c, w, d)[0]
        u = np.stack([np.interp(zc, tc, gc) for zc, tc, gc in zip(z, table, grid)])
        for _ in range(3):
            g, dg = self._g(u, a, b, c, w, d)
            u = np.clip(u - (g - z) / dg, lo, hi)
        return p["m"][:, None] + p["s"][:, None] * u

    def at_temperature(self, temperature: float) -> "FlowModel":
        """The same fitted flow, sampling at another ``temperature`` (a shallow copy: no refit)."""
        import copy

        out = copy.copy(self)
        out.temperature = check_float("temperature", temperature, low=0.0, low_open=True)
        return out


def loop_metrics(population, n_eval: int = 2000) -> dict:
    """Metrics of a fitted :class:`FlowModel` for :func:`~collapse_kit.loop.run_generations`, against a
    known 1-D population (e.g. :func:`collapse_kit.mixture.population`), per chain:

    * ``variance / real variance`` -- the variance of ``n_eval`` draws from the *fitted density*
      (temperature 1, whatever the sampling temperature of the loop) over the population's variance;
    * ``KL(real ‖ model)`` -- the mean of ``log p_real(x) - log p_model(x)`` over ``n_eval`` fresh real
      draws ``x``: a Monte-Carlo estimate of the Kullback-Leibler divergence in nats (0 for a perfect fit).

    Draws come from the context's own random streams (``ctx.rng``), so the loop's numbers do not change.
    """
    n_eval = check_int("n_eval", n_eval, low=2)
    true_var = population.variance
    draw = population.sampler()

    def variance(ctx):
        return ctx.model.at_temperature(1.0).sample(n_eval, ctx.rng("variance")).var(axis=1) / true_var

    def kl(ctx):
        x = draw(ctx.rng("kl"), ctx.n_chains, n_eval)
        return (np.log(population.pdf(x)) - ctx.model.log_density(x)).mean(axis=1)

    return {"variance / real variance": variance, "KL(real ‖ model)": kl}
