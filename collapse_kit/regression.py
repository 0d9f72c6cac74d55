"""Lesson 04: linear regression trained on its own predictions, where the laws are exact.

The setting of Gerstgrasser et al. (2024, "Is model collapse inevitable?", §3)
and Dohmatob et al. (2024, "Model collapse demystified"): a design matrix
``X`` of ``T`` rows with ``d`` standard-normal features (drawn once per chain
and kept), a true weight vector ``w*`` and label noise of variance ``σ²``.

* Generation 0 fits ordinary least squares to real labels ``y = X w* + ε``.
* Generation g ≥ 1 gets *synthetic* labels from the previous fit,
  ``y_g = X ŵ_{g-1} + ε_g``, and fits again on

  ``replace``
      only the newest labels;
  ``accumulate``
      the real data and every synthetic data set so far (X stacked g+1 times);
  ``accumulate_subsample``
      ``T`` rows drawn without replacement from that growing pool (Kazdan et al. 2024).

The excess test error of a fit on fresh ``x ~ N(0, I_d)`` is ``‖ŵ − w*‖²``.
With ``n = g + 1`` fits, the laws are (Gerstgrasser et al. 2024, Theorems 1 and 2)

.. math::
    E_{replace} = \\frac{σ^2 d}{T-d-1}\\, n, \\qquad
    E_{accumulate} = \\frac{σ^2 d}{T-d-1} \\sum_{i=1}^{n} \\frac{1}{i^2}
        \\le \\frac{π^2}{6}\\frac{σ^2 d}{T-d-1}.

The simulation below really draws the labels and really solves the least-squares
problem, for many chains at once (batched over a leading chain axis).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._validate import check_choice, check_float, check_int, check_seed

REGRESSION_STRATEGIES = ("replace", "accumulate", "accumulate_subsample")


def _check_dims(n_features, n_samples):
    d = check_int("n_features", n_features, low=1)
    t = check_int("n_samples", n_samples, low=1)
    if t < d + 2:
        raise ValueError(f"`n_samples` (T) must be at least n_features + 2 = {d + 2} so that the "
                         f"law's denominator T - d - 1 is positive (got T={t}, d={d}).")
    return d, t


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


@dataclass
class RegressionChains:
    """Excess test errors ‖ŵ_g − w*‖² of many chains: array of shape (n_chains, generations + 1)."""

    error: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return self.error.shape[0]

    @property
    def generations(self) -> int:
        return self.error.shape[1] - 1

    def mean(self) -> np.ndarray:
        return self.error.mean(axis=0)

    def sem(self) -> np.ndarray:
        """Monte-Carlo standard error of :meth:`mean`, per generation."""
        if self.n_chains < 2:
            return np.full(self.generations + 1, np.inf)
        return self.error.std(axis=0, ddof=1) / np.sqrt(self.n_chains)

    def law(self) -> np.ndarray | None:
        """The exact expected error per generation, or None where no closed form is known."""
        s = self.settings
        gens = np.arange(self.generations + 1)
        if s["strategy"] == "replace":
            return replace_law(gens, s["n_features"], s["n_samples"], s["noise"])
        if s["strategy"] == "accumulate":
            return accumulate_law(gens, s["n_features"], s["n_samples"], s["noise"])
        return None

    def z_scores(self) -> np.ndarray:
        """(simulated mean − law) / standard error, per generation (needs a law)."""
        law = self.law()
        if law is None:
            raise ValueError(f"no closed form for strategy {self.settings['strategy']!r}.")
        return (self.mean() - law) / self.sem()

    def to_history(self) -> pd.DataFrame:
        """Tidy history (generation, seed, metric, value, strategy); chain i is 'seed' i."""
        n, g1 = self.error.shape
        return pd.DataFrame({"generation": np.tile(np.arange(g1), n), "seed": np.repeat(np.arange(n), g1),
                             "metric": "test error", "value": self.error.ravel(),
                             "strategy": self.settings["strategy"]})


def _solve(xtx, xty):
    """Batched least squares from normal equations; pseudo-inverse if a draw is singular."""
    try:
        return np.linalg.solve(xtx, xty[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("cij,cj->ci", np.linalg.pinv(xtx), xty)


def simulate_regression(n_chains: int = 1000, generations: int = 10, *, n_samples: int = 50,
                        n_features: int = 10, noise: float = 1.0, strategy: str = "replace",
                        seed: int = 0) -> RegressionChains:
    """Simulate the generational least-squares loop for many chains at once.

    Parameters
    ----------
    n_chains : int >= 1
        Independent chains (each with its own design X, true weights and noise).
    generations : int >= 1
        Generations after generation 0 (fitted on real labels).
    n_samples : int >= n_features + 2
        T, rows of the design matrix (and size of every training set for
        ``replace`` and ``accumulate_subsample``).
    n_features : int >= 1
        d, number of features.
    noise : float > 0
        σ, the standard deviation of the label noise.
    strategy : {"replace", "accumulate", "accumulate_subsample"}
    seed : int >= 0

    Returns
    -------
    RegressionChains
        ``.error`` of shape (n_chains, generations + 1), ``.law()``, ``.z_scores()``.
    """
    c = check_int("n_chains", n_chains, low=1)
    generations = check_int("generations", generations, low=1)
    d, t = _check_dims(n_features, n_samples)
    sigma = check_float("noise", noise, low=0.0, low_open=True)
    check_choice("strategy", strategy, REGRESSION_STRATEGIES)
    rng = np.random.default_rng(check_seed("seed", seed))

    X = rng.standard_normal((c, t, d))
    w_star = rng.standard_normal((c, d)) / np.sqrt(d)
    xtx = np.einsum("cti,ctj->cij", X, X)
    errors = np.empty((c, generations + 1))

    y = np.einsum("ctd,cd->ct", X, w_star) + sigma * rng.standard_normal((c, t))
    label_sum = y.copy()
    pool_y = [y]
    w = _solve(xtx, np.einsum("ctd,ct->cd", X, y))
    errors[:, 0] = ((w - w_star) ** 2).sum(axis=1)
    for g in range(1, generations + 1):
        y = np.einsum("ctd,cd->ct", X, w) + sigma * rng.standard_normal((c, t))
        if strategy == "replace":
            w = _solve(xtx, np.einsum("ctd,ct->cd", X, y))
        elif strategy == "accumulate":
            # least squares on X stacked g+1 times = least squares on X with the mean labels
            label_sum += y
            w = _solve(xtx, np.einsum("ctd,ct->cd", X, label_sum / (g + 1)))
        else:  # accumulate_subsample: T rows drawn without replacement from the (g+1)·T pool
            pool_y.append(y)
            n_pool = (g + 1) * t
            keys = rng.random((c, n_pool))
            pick = np.argpartition(keys, t - 1, axis=1)[:, :t]
            rows = pick % t
            xs = np.take_along_axis(X, rows[..., None], axis=1)
            ys = np.take_along_axis(np.concatenate(pool_y, axis=1), pick, axis=1)
            w = _solve(np.einsum("cti,ctj->cij", xs, xs), np.einsum("ctd,ct->cd", xs, ys))
        errors[:, g] = ((w - w_star) ** 2).sum(axis=1)
    settings = dict(strategy=strategy, n_samples=t, n_features=d, noise=sigma, seed=seed)
    return RegressionChains(errors, settings)


def compare_regression(strategies=REGRESSION_STRATEGIES, **kwargs) -> pd.DataFrame:
    """Per generation and strategy: simulated mean error, its standard error and the law.

    Keyword arguments go to :func:`simulate_regression` (the same seed is used for
    every strategy, so the chains share their designs and generation-0 fits).
    """
    frames = []
    for s in strategies:
        sim = simulate_regression(strategy=s, **kwargs)
        law = sim.law()
        frames.append(pd.DataFrame({"generation": np.arange(sim.generations + 1), "strategy": s,
                                    "mean": sim.mean(), "sem": sim.sem(),
                                    "law": np.full(sim.generations + 1, np.nan) if law is None else law}))
    return pd.concat(frames, ignore_index=True)


def plot_regression(table: pd.DataFrame, *, ax=None, bound: float | None = None, title: str | None = None):
    """Simulated mean error (points with ±2 s.e. bars) and the exact laws (dashed lines)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, sub) in enumerate(table.groupby("strategy", sort=False)):
        col = colors[i % len(colors)]
        ax.errorbar(sub["generation"], sub["mean"], yerr=2 * sub["sem"], fmt="o", ms=4, color=col,
                    capsize=2, label=f"{name}: simulation (±2 s.e.)")
        if sub["law"].notna().all():
            ax.plot(sub["generation"], sub["law"], "--", color=col, lw=1.5, label=f"{name}: exact law")
    if bound is not None:
        ax.axhline(bound, color="black", lw=1, ls=":", label="π²/6 bound (accumulate)")
    ax.set_xlabel("generation (0 = fitted on real labels)")
    ax.set_ylabel("excess test error ‖ŵ − w*‖²")
    ax.set_title(title or "Linear regression on its own labels")
    ax.legend(fontsize=8)
    return ax
