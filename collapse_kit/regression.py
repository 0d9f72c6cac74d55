"""Lesson 04: linear regression trained on its own predictions, where the laws are exact.

The setting of Gerstgrasser et al. (2024, "Is model collapse inevitable?", §3) and Dohmatob et al.
(2024, "Model collapse demystified"): each chain has a fixed design ``X`` of ``T`` rows with ``d``
standard-normal features (drawn once and kept), a true weight vector ``w*`` and label noise of
variance ``σ²``. An *item* is a row ``(x, y)``, so data have shape ``(n_chains, n_items, d + 1)``
and :class:`RegressionModel` plugs into :func:`collapse_kit.loop.run_generations`:

* ``fit`` solves least squares on its training rows, per chain (one batched solve);
* ``sample(n)`` relabels the fixed design rows with the fitted weights plus fresh noise,
  ``y = x·ŵ + ε``. ``n = T`` gives the design once (the papers' setting); ``n = kT`` stacks ``k``
  copies; any other ``n`` takes ``n mod T`` further rows at random.

The strategies are those of :mod:`collapse_kit.strategies`: ``accumulate`` stacks the real rows
and every relabelled copy of the design, which is the papers' setting. The excess test error of a
fit on fresh ``x ~ N(0, I_d)`` is ``‖ŵ − w*‖²``. With ``n = g + 1`` fits (Gerstgrasser et al. 2024,
Theorems 1 and 2):

.. math::
    E_{replace} = \\frac{σ^2 d}{T-d-1}\\, n, \\qquad
    E_{accumulate} = \\frac{σ^2 d}{T-d-1} \\sum_{i=1}^{n} \\frac{1}{i^2}
        \\le \\frac{π^2}{6}\\frac{σ^2 d}{T-d-1}.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_float, check_int, check_seed
from .history import summarize
from .strategies import WORKFLOWS

REPLACE, ACCUMULATE = WORKFLOWS[:2]


def _check_dims(n_features, n_samples):
    d = check_int("n_features", n_features, low=1)
    t = check_int("n_samples", n_samples, low=1)
    if t < d + 2:
        raise ValueError(f"`n_samples` (T) must be at least n_features + 2 = {d + 2} so that the "
                         f"law's denominator T - d - 1 is positive (got T={t}, d={d}).")
    return d, t


# --------------------------------------------------------------------------- closed forms
def ols_error_unit(n_features: int, n_samples: int, noise: float = 1.0) -> float:
    """σ²d/(T−d−1): the expected excess test error of one least-squares fit on real data
    (E[(XᵀX)⁻¹] = I/(T−d−1) for Gaussian rows)."""
    d, t = _check_dims(n_features, n_samples)
    noise = check_float("noise", noise, low=0.0, low_open=True)
    return noise**2 * d / (t - d - 1)


def _fits(generation) -> np.ndarray:
    g = np.asarray(generation, dtype=float)
    if np.any(g < 0) or np.any(g != np.floor(g)):
        raise ValueError("`generation` must hold whole numbers >= 0.")
    return g + 1.0


def replace_law(generation, n_features: int, n_samples: int, noise: float = 1.0):
    """Expected excess test error under ``replace``: σ²d/(T−d−1)·n with n = generation + 1
    (Gerstgrasser et al. 2024, Theorem 1; Dohmatob et al. 2024). Grows without bound."""
    return ols_error_unit(n_features, n_samples, noise) * _fits(generation)


def accumulate_law(generation, n_features: int, n_samples: int, noise: float = 1.0):
    """Expected excess test error under ``accumulate``: σ²d/(T−d−1)·Σ_{i=1}^{n} 1/i²
    (Gerstgrasser et al. 2024, Theorem 2). Bounded by :func:`accumulate_bound`."""
    n = _fits(generation)
    harmonic2 = np.cumsum(1.0 / np.arange(1, int(np.max(n)) + 1) ** 2)
    return ols_error_unit(n_features, n_samples, noise) * harmonic2[n.astype(int) - 1]


def accumulate_bound(n_features: int, n_samples: int, noise: float = 1.0) -> float:
    """(π²/6)·σ²d/(T−d−1): the limit of :func:`accumulate_law` as generations → ∞."""
    return np.pi**2 / 6 * ols_error_unit(n_features, n_samples, noise)


#: the strategies (by label) whose expected error has a closed form here
LAWS = {REPLACE.label: replace_law, ACCUMULATE.label: accumulate_law}


# --------------------------------------------------------------------------- the model
def _solve(xtx, xty):
    """Batched least squares from normal equations; pseudo-inverse if a system is singular."""
    try:
        return np.linalg.solve(xtx, xty[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("cij,cj->ci", np.linalg.pinv(xtx), xty)


class RegressionModel:
    """Least squares on a fixed design, for many chains at once (the loop's model protocol).

    Parameters
    ----------
    design : array (n_chains, T, d)
        Each chain's fixed design rows; ``sample`` relabels them.
    noise : float > 0
        σ, the standard deviation of the label noise added by ``sample``.

    After ``fit``, ``w_`` has shape ``(n_chains, d)``.
    """

    def __init__(self, design, noise: float = 1.0):
        x = np.asarray(design, dtype=float)
        if x.ndim != 3 or x.shape[1] < x.shape[2]:
            raise ValueError(f"`design` must have shape (n_chains, T, d) with T >= d (got {x.shape}).")
        self.design = x
        self.noise = check_float("noise", noise, low=0.0, low_open=True)
        self.w_: np.ndarray | None = None

    def fit(self, data, rng=None) -> "RegressionModel":
        data = np.asarray(data, dtype=float)
        c, _, d = self.design.shape
        if data.ndim != 3 or data.shape[0] != c or data.shape[2] != d + 1:
            raise ValueError(f"`data` must have shape (n_chains={c}, n_items, d + 1 = {d + 1}) (got {data.shape}).")
        x, y = data[..., :d], data[..., d]
        xt = x.transpose(0, 2, 1)
        self.w_ = _solve(xt @ x, (xt @ y[..., None])[..., 0])
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` rows per chain: the design (tiled ``n // T`` times, plus ``n mod T`` random rows)
        relabelled as ``x·ŵ + noise``."""
        if self.w_ is None:
            raise RuntimeError("call fit() before sample().")
        n = check_int("n", n, low=1)
        x = design_rows(self.design, n, rng)
        y = np.einsum("cnd,cd->cn", x, self.w_) + self.noise * rng.standard_normal(x.shape[:2])
        return np.concatenate([x, y[..., None]], axis=2)


def design_rows(design: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of each chain's design: ``n // T`` full copies, then ``n mod T`` distinct random rows."""
    c, t, _ = design.shape
    reps, extra = divmod(n, t)
    parts = [design] * reps
    if extra:
        idx = np.argpartition(rng.random((c, t)), extra - 1, axis=1)[:, :extra]
        parts.append(np.take_along_axis(design, idx[..., None], axis=1))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


@dataclass(frozen=True)
class LinearProblem:
    """The real world of one batch of chains: designs, true weights, noise.

    Use with :func:`collapse_kit.loop.run_generations`::

        p = linear_problem(n_chains=1000, n_samples=50, n_features=10)
        run_generations(p.make_model, real_sampler=p.real_sampler, real_size=p.n_samples,
                        n_chains=p.n_chains, metrics=p.metrics(), generations=10, strategies=WORKFLOWS)
    """

    design: np.ndarray
    w_star: np.ndarray
    noise: float

    @property
    def n_chains(self) -> int:
        return self.design.shape[0]

    @property
    def n_samples(self) -> int:
        return self.design.shape[1]

    @property
    def n_features(self) -> int:
        return self.design.shape[2]

    def make_model(self) -> RegressionModel:
        return RegressionModel(self.design, self.noise)

    def real_sampler(self, rng: np.random.Generator, n_chains: int, n: int) -> np.ndarray:
        """Real rows: the design with real labels ``x·w* + noise`` (fresh noise at every call)."""
        if n_chains != self.n_chains:
            raise ValueError(f"`n_chains` must be {self.n_chains}, the chains this problem was drawn for "
                             f"(got {n_chains}).")
        x = design_rows(self.design, check_int("n", n, low=1), rng)
        y = np.einsum("cnd,cd->cn", x, self.w_star) + self.noise * rng.standard_normal(x.shape[:2])
        return np.concatenate([x, y[..., None]], axis=2)

    def metrics(self) -> dict:
        """``test error``: the excess test error ‖ŵ − w*‖² of each chain's fit."""
        return {"test error": lambda ctx: ((ctx.model.w_ - self.w_star) ** 2).sum(axis=1)}


def linear_problem(n_chains: int = 1000, *, n_samples: int = 50, n_features: int = 10, noise: float = 1.0,
                   seed: int = 0) -> LinearProblem:
    """Draw ``n_chains`` designs ``X ~ N(0, 1)^{T×d}`` and true weights ``w* ~ N(0, I/d)`` (seeded)."""
    c = check_int("n_chains", n_chains, low=1)
    d, t = _check_dims(n_features, n_samples)
    sigma = check_float("noise", noise, low=0.0, low_open=True)
    rng = np.random.default_rng(np.random.SeedSequence([check_seed("seed", seed), 0xD51]))
    return LinearProblem(rng.standard_normal((c, t, d)), rng.standard_normal((c, d)) / np.sqrt(d), sigma)


def compare_regression(strategies=WORKFLOWS[:3], *, n_chains: int = 1000, generations: int = 10,
                       n_samples: int = 50, n_features: int = 10, noise: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """The regression chains of several strategies through the generic comparison
    (:func:`collapse_kit.compare.compare_strategies`): a tidy history of ``test error``.
    Every strategy shares the designs, generation 0 and its samples."""
    from .compare import compare_strategies

    p = linear_problem(n_chains, n_samples=n_samples, n_features=n_features, noise=noise, seed=seed)
    return compare_strategies(p.make_model, real_sampler=p.real_sampler, real_size=p.n_samples, strategies=strategies,
                              generations=generations, n_chains=p.n_chains, metrics=p.metrics(), seed=seed,
                              labels={"T": p.n_samples, "d": p.n_features, "noise": p.noise})


def law_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and generation: mean test error, its standard error, the law (NaN where none)
    and ``z = (mean − law) / sem``. ``history`` comes from :func:`compare_regression`."""
    if not {"T", "d", "noise"} <= set(history.columns):
        raise ValueError("`history` must come from compare_regression() (needs the T, d and noise columns).")
    t, d, noise = (history[k].iloc[0] for k in ("T", "d", "noise"))
    out = summarize(history, "test error", quantiles=())
    out["strategy"] = out["strategy"].astype(str)
    out["law"] = np.nan
    for label, law in LAWS.items():
        rows = out["strategy"] == label
        if rows.any():
            out.loc[rows, "law"] = law(out.loc[rows, "generation"].to_numpy(), int(d), int(t), float(noise))
    out["z"] = (out["mean"] - out["law"]) / out["sem"]
    return out
