"""Data strategies: what each generation after the first trains on.

This module is the only place in the package that knows the strategies by name.
Every model, every lesson and every engine (the batched loop and the exact
Gaussian fast path) takes a :class:`Strategy` object and asks it for the next
training set, its label and its number of real items.

Data are numpy arrays with a leading **chain axis**: ``(n_chains, n_items, *item_shape)``.
One call builds the training sets of all chains at once.

``replace``
    only the ``M`` samples of generation ``g - 1`` (Shumailov et al. 2024).
``accumulate``
    all real items plus every synthetic *sample* so far (Gerstgrasser et al. 2024):
    the training set grows by ``M`` items per generation.
``accumulate_subsample``
    the same growing pool, but each generation trains on a fresh draw of ``M``
    items from it, without replacement (Kazdan et al. 2024).
``real_fraction``
    ``k_real = round(λM)`` items are real and ``M - k_real`` come from generation
    ``g - 1``. With ``fresh_real=False`` the real items are re-drawn each
    generation from the fixed real set; with ``fresh_real=True`` they are new
    draws from the real distribution (Bertrand et al. 2024; Alemohammad et al.
    2024). λ is the course's *real fraction*; λ = 0 trains on synthetic data only,
    exactly like ``replace``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ._validate import check_fraction, check_int

NAMES = ("replace", "accumulate", "accumulate_subsample", "real_fraction")

#: the signature of a source of real data: ``source(rng, n_chains, n) -> array (n_chains, n, *item)``
RealSampler = Callable[[np.random.Generator, int, int], np.ndarray]


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False (got {value!r} of type {type(value).__name__}).")
    return bool(value)


@dataclass(frozen=True)
class Strategy:
    """A data strategy (see the module docstring for the four names).

    Parameters
    ----------
    name : {"replace", "accumulate", "accumulate_subsample", "real_fraction"}
    real_fraction : float in [0, 1]
        Only for ``"real_fraction"``: λ, the fraction of each training set that is real.
    fresh_real : bool
        Only for ``"real_fraction"``: draw new real items every generation instead of
        re-drawing them from the fixed real set.

    Examples
    --------
    >>> Strategy("real_fraction", 0.1).k_real(100)
    10
    >>> Strategy("accumulate").label
    'accumulate'
    """

    name: str = "replace"
    real_fraction: float = 0.0
    fresh_real: bool = False

    def __post_init__(self):
        if self.name not in NAMES:
            raise ValueError(f"`strategy` must be one of {', '.join(map(repr, NAMES))} (got {self.name!r}).")
        object.__setattr__(self, "real_fraction", check_fraction("real_fraction", self.real_fraction))
        object.__setattr__(self, "fresh_real", _check_bool("fresh_real", self.fresh_real))
        if self.name != "real_fraction" and self.real_fraction != 0.0:
            raise ValueError(f"`real_fraction` only applies to strategy='real_fraction' "
                             f"(got strategy={self.name!r}, real_fraction={self.real_fraction}).")
        if self.fresh_real and self.name != "real_fraction":
            raise ValueError(f"`fresh_real=True` only applies to strategy='real_fraction' (got {self.name!r}).")

    # ------------------------------------------------------------------ descriptions
    @property
    def label(self) -> str:
        """Human-readable, unique name: used in plots, history tables and explorers."""
        if self.name == "real_fraction":
            return f"real fraction {self.real_fraction:g} ({'fresh' if self.fresh_real else 'fixed'})"
        return self.name.replace("_", "-")

    @property
    def key(self) -> str:
        """A stable, file-name-safe identifier (run folders, random streams)."""
        if self.name == "real_fraction":
            return f"lambda={self.real_fraction:g}-{'fresh' if self.fresh_real else 'fixed'}"
        return self.name

    @property
    def stream_key(self) -> int:
        """A 32-bit number that names this strategy's random streams (stable across runs and machines)."""
        return zlib.crc32(self.key.encode())

    def columns(self) -> dict:
        """The history columns that describe this strategy (one meaning each)."""
        return {"strategy": self.label, "strategy_name": self.name,
                "real_fraction": self.real_fraction if self.name == "real_fraction" else
                (0.0 if self.name == "replace" else np.nan),
                "fresh_real": self.fresh_real}

    @property
    def uses_real(self) -> bool:
        """Whether training sets after generation 0 contain real items."""
        return self.name in ("accumulate", "accumulate_subsample") or (
            self.name == "real_fraction" and self.real_fraction > 0)

    @property
    def needs_real_sampler(self) -> bool:
        return self.name == "real_fraction" and self.fresh_real and self.real_fraction > 0

    @property
    def keeps_pool(self) -> bool:
        """Whether the strategy needs every earlier generation's samples (the growing pool)."""
        return self.name in ("accumulate", "accumulate_subsample")

    def k_real(self, sample_size: int) -> int:
        """Number of real items in a training set of ``M`` items: ``round(λM)`` (0 if no λ)."""
        m = check_int("sample_size", sample_size, low=1)
        return int(round(self.real_fraction * m)) if self.name == "real_fraction" else 0

    def effective_real_fraction(self, sample_size: int) -> float:
        """The real fraction actually used, ``round(λM)/M`` (λ = 0.05 with M = 10 keeps 0 real items)."""
        return self.k_real(sample_size) / check_int("sample_size", sample_size, low=1)

    def training_size(self, generation: int, real_size: int, sample_size: int) -> int:
        """How many items generation ``generation`` trains on."""
        if generation == 0:
            return real_size
        if self.name == "accumulate":
            return real_size + generation * sample_size
        return sample_size

    # ------------------------------------------------------------------ the rule itself
    def training_set(self, real: np.ndarray, synthetic: Sequence[np.ndarray], sample_size: int,
                     rng: np.random.Generator, real_sampler: RealSampler | None = None) -> np.ndarray:
        """The training sets of the next generation, for every chain at once.

        Parameters
        ----------
        real : array (n_chains, N, *item)
            Each chain's real data set (what generation 0 trained on).
        synthetic : list of arrays (n_chains, M, *item)
            The samples of generations 0, 1, ..., g-1, oldest first (at least one). Strategies
            that do not keep the pool only read the last one.
        sample_size : int
            M, the size of each synthetic batch and of a non-accumulating training set.
        rng : numpy Generator
        real_sampler : callable(rng, n_chains, n) -> array, optional
            Source of fresh real items, required when ``fresh_real=True``.

        Returns
        -------
        array (n_chains, n_train, *item)
        """
        if not len(synthetic):
            raise ValueError("`synthetic` must hold at least one generation's samples.")
        m = check_int("sample_size", sample_size, low=1)
        latest = synthetic[-1]
        n_chains = latest.shape[0]
        if self.name == "replace":
            return latest
        if self.name == "accumulate":
            return np.concatenate([real, *synthetic], axis=1)
        if self.name == "accumulate_subsample":
            return subset(np.concatenate([real, *synthetic], axis=1), m, rng)
        k_real = self.k_real(m)
        parts = []
        if m - k_real:
            parts.append(latest if latest.shape[1] == m - k_real else subset(latest, m - k_real, rng))
        if k_real:
            if self.fresh_real:
                if real_sampler is None:
                    raise ValueError("`fresh_real=True` needs a `real_sampler(rng, n_chains, n)` that draws new "
                                     "real data (pass `real_sampler=` to run_generations).")
                parts.append(np.asarray(real_sampler(rng, n_chains, k_real)))
            else:
                parts.append(subset(real, k_real, rng))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def make_strategy(strategy: "str | Strategy" = "replace", real_fraction: float | None = None,
                  fresh_real: bool = False) -> Strategy:
    """Build a :class:`Strategy` from a name (or pass one through).

    ``make_strategy("real_fraction", 0.1)`` and ``make_strategy(real_fraction=0.1)`` both keep 10%
    real data each generation.
    """
    if isinstance(strategy, Strategy):
        if real_fraction is not None or fresh_real:
            raise ValueError("pass either a Strategy object or `real_fraction`/`fresh_real`, not both.")
        return strategy
    if not isinstance(strategy, str):
        raise TypeError(f"`strategy` must be a name in {NAMES} or a Strategy (got {type(strategy).__name__}).")
    if real_fraction is not None and strategy == "replace":
        strategy = "real_fraction"
    return Strategy(strategy, 0.0 if real_fraction is None else real_fraction, fresh_real)


def strategy_list(strategies: "str | Strategy | Iterable[str | Strategy]") -> list[Strategy]:
    """One or several strategies as a list of :class:`Strategy` (names are accepted), no duplicates."""
    if isinstance(strategies, (str, Strategy)):
        strategies = [strategies]
    out = [make_strategy(s) for s in strategies]
    if not out:
        raise ValueError("`strategies` must name at least one strategy.")
    keys = [s.key for s in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"`strategies` lists the same strategy twice ({keys}).")
    return out


def real_fraction_grid(real_fractions: Iterable[float], fresh_real: bool = False) -> list[Strategy]:
    """The strategies ``real_fraction=λ`` for each λ of a grid (λ = 0 included as is)."""
    return [Strategy("real_fraction", lam, fresh_real) for lam in real_fractions]


#: the four strategies compared in lessons 01-04, in teaching order
WORKFLOWS = (Strategy("replace"), Strategy("accumulate"), Strategy("accumulate_subsample"),
             Strategy("real_fraction", 0.1))


# --------------------------------------------------------------------------- subset draws
def subset(data: np.ndarray, k: int, rng: np.random.Generator, *, replace: bool | None = None) -> np.ndarray:
    """``k`` items of every chain, drawn uniformly without replacement (with replacement if ``k > N``).

    ``data`` has shape ``(n_chains, N, *item)``; the result ``(n_chains, k, *item)``. Each chain
    gets its own draw.
    """
    data = np.asarray(data)
    if data.ndim < 2:
        raise ValueError(f"`data` must have shape (n_chains, n_items, ...) (got shape {data.shape}).")
    c, n = data.shape[:2]
    k = check_int("k", k, low=0)
    if replace is None:
        replace = k > n
    if n == 0:
        raise ValueError("cannot draw items from an empty data set.")
    if replace:
        idx = rng.integers(0, n, size=(c, k))
    elif k > n:
        raise ValueError(f"`k` must be <= {n} to draw without replacement (got {k}).")
    elif k == n:
        return data
    elif c == 1:
        idx = rng.choice(n, size=k, replace=False)[None]
    else:
        idx = np.argpartition(rng.random((c, n)), k - 1, axis=1)[:, :k] if k else np.zeros((c, 0), int)
    return data[np.arange(c)[:, None], idx]
