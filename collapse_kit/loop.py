"""The generational loop: fit -> sample -> choose the next training set -> fit ...

Every lesson of the course is this loop with a different model::

    real data ─► fit ─► model₀ ─► sample ─► strategy(real, synthetic so far) ─► fit ─► model₁ ─► …

A *model* is any object with two methods (see :class:`GenerativeModel`)::

    model.fit(data, rng)   -> model      # learn from data (array or list, first axis = items)
    model.sample(n, rng)   -> data       # draw n new items

A *data strategy* (:class:`Strategy`) decides what generation ``g >= 1`` trains on:

``replace``
    only the ``M`` samples of generation ``g - 1`` (Shumailov et al. 2024).
``accumulate``
    all real data plus every synthetic batch so far (Gerstgrasser et al. 2024).
``accumulate_subsample``
    the same growing pool, but each generation trains on a fixed-size draw of
    ``M`` items from it (Kazdan et al. 2024).
``real_fraction``
    a fraction λ of the ``M`` training items is real, the rest comes from
    generation ``g - 1``; the real items are re-drawn from the fixed real set or,
    with ``fresh_real=True``, freshly sampled each generation (Bertrand et al.
    2024; Alemohammad et al. 2024). λ = 0 is ``replace``.

:func:`run_generations` returns the history as a tidy ``pandas.DataFrame``
with one row per generation × seed × metric.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from ._validate import check_choice, check_fraction, check_int, check_seed

STRATEGIES = ("replace", "accumulate", "accumulate_subsample", "real_fraction")
HISTORY_COLUMNS = ["generation", "seed", "metric", "value"]


@runtime_checkable
class GenerativeModel(Protocol):
    """What the loop needs from a model."""

    def fit(self, data: Any, rng: np.random.Generator) -> "GenerativeModel": ...

    def sample(self, n: int, rng: np.random.Generator) -> Any: ...


# --------------------------------------------------------------------------- data helpers
def n_items(data) -> int:
    """Number of items in a data set (length of the first axis)."""
    return len(data)


def take(data, idx):
    """Items ``idx`` of an array (fancy indexing) or of a list."""
    idx = np.asarray(idx, dtype=int)
    if isinstance(data, np.ndarray):
        return data[idx]
    return [data[i] for i in idx]


def concat(parts: Sequence):
    """Concatenate data sets along the first axis (arrays) or as one list."""
    parts = [p for p in parts if n_items(p) > 0] or list(parts[:1])
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts, axis=0)
    out: list = []
    for p in parts:
        out.extend(list(p))
    return out


def _check_data(name: str, data):
    if isinstance(data, np.ndarray):
        if data.ndim == 0:
            raise ValueError(f"`{name}` must have at least one dimension (got a scalar array).")
        if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
            raise ValueError(f"`{name}` contains NaN or infinite values; remove or impute them first.")
        if data.dtype.kind not in "biufcUS":
            raise TypeError(f"`{name}` must hold numbers (got dtype {data.dtype}).")
    elif isinstance(data, (list, tuple)):
        pass
    else:
        raise TypeError(f"`{name}` must be a numpy array or a list (got {type(data).__name__}).")
    if n_items(data) < 2:
        raise ValueError(f"`{name}` must hold at least 2 items (got {n_items(data)}).")
    return data


# --------------------------------------------------------------------------- strategies
@dataclass(frozen=True)
class Strategy:
    """A data strategy: what each generation after the first trains on.

    Parameters
    ----------
    name : {"replace", "accumulate", "accumulate_subsample", "real_fraction"}
    real_fraction : float in [0, 1]
        Only for ``"real_fraction"``: the fraction λ of each training set that is real.
    fresh_real : bool
        Only for ``"real_fraction"``: draw new real items every generation
        (needs a ``real_sampler``) instead of re-using the fixed real set.
    """

    name: str = "replace"
    real_fraction: float = 0.0
    fresh_real: bool = False

    def __post_init__(self):
        check_choice("strategy", self.name, STRATEGIES)
        object.__setattr__(self, "real_fraction", check_fraction("real_fraction", self.real_fraction))
        if self.name != "real_fraction" and self.real_fraction not in (0.0,):
            raise ValueError(f"`real_fraction` only applies to strategy='real_fraction' "
                             f"(got strategy={self.name!r}, real_fraction={self.real_fraction}).")
        if self.fresh_real and self.name != "real_fraction":
            raise ValueError("`fresh_real=True` only applies to strategy='real_fraction'.")

    @property
    def label(self) -> str:
        """A short human-readable name used in plots and history tables."""
        if self.name == "real_fraction":
            kind = "fresh" if self.fresh_real else "fixed"
            return f"real fraction {self.real_fraction:g} ({kind})"
        return self.name

    def training_set(self, real, synthetic: Sequence, sample_size: int, rng: np.random.Generator,
                     real_sampler: Callable[[int, np.random.Generator], Any] | None = None):
        """The training data of the next generation.

        Parameters
        ----------
        real : array or list
            The real data set (what generation 0 trained on).
        synthetic : list of data sets
            The samples of generations 0, 1, ..., g-1, oldest first (at least one).
        sample_size : int
            M, the size of each synthetic batch and of a non-accumulating training set.
        rng : numpy Generator
        real_sampler : callable(n, rng) -> data, optional
            Source of fresh real items, required when ``fresh_real=True``.
        """
        if not synthetic:
            raise ValueError("`synthetic` must hold at least one generation's samples.")
        m = check_int("sample_size", sample_size, low=2)
        latest = synthetic[-1]
        if self.name == "replace":
            return latest
        if self.name == "accumulate":
            return concat([real, *synthetic])
        if self.name == "accumulate_subsample":
            pool = concat([real, *synthetic])
            size = n_items(pool)
            idx = rng.choice(size, size=min(m, size), replace=False)
            return take(pool, idx)
        # real_fraction
        k_real = int(round(self.real_fraction * m))
        k_syn = m - k_real
        parts = []
        if k_real:
            if self.fresh_real:
                if real_sampler is None:
                    raise ValueError("`fresh_real=True` needs a `real_sampler(n, rng)` that draws new real data.")
                parts.append(real_sampler(k_real, rng))
            else:
                n_real = n_items(real)
                idx = rng.choice(n_real, size=k_real, replace=k_real > n_real)
                parts.append(take(real, idx))
        if k_syn:
            n_lat = n_items(latest)
            idx = rng.choice(n_lat, size=k_syn, replace=k_syn > n_lat)
            parts.append(take(latest, idx))
        return concat(parts)


def make_strategy(strategy: str | Strategy = "replace", real_fraction: float | None = None,
                  fresh_real: bool = False) -> Strategy:
    """Build a :class:`Strategy` from a name (or pass one through).

    ``make_strategy("real_fraction", 0.1)`` keeps 10% real data each generation;
    ``make_strategy(real_fraction=0.1)`` means the same.
    """
    if isinstance(strategy, Strategy):
        if real_fraction is not None or fresh_real:
            raise ValueError("pass either a Strategy object or `real_fraction`/`fresh_real`, not both.")
        return strategy
    if not isinstance(strategy, str):
        raise TypeError(f"`strategy` must be a name or a Strategy (got {type(strategy).__name__}).")
    if real_fraction is not None and strategy == "replace":
        strategy = "real_fraction"
    return Strategy(strategy, 0.0 if real_fraction is None else real_fraction, fresh_real)


# --------------------------------------------------------------------------- the loop
Metric = Callable[[Any, Any], "float | Mapping[str, float]"]


def _evaluate(metrics: Mapping[str, Metric], model, samples) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, fn in metrics.items():
        val = fn(model, samples)
        if isinstance(val, Mapping):
            out.update({f"{name}.{k}" if k else name: float(v) for k, v in val.items()})
        else:
            out[name] = float(val)
    return out


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return [check_seed("seeds", seeds)]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("`seeds` must hold at least one seed (an int >= 0).")
    return [check_seed("seeds", s) for s in seeds]


def run_generations(make_model: Callable[[], Any], real_data, *, generations: int,
                    sample_size: int | None = None, strategy: str | Strategy = "replace",
                    real_fraction: float | None = None, fresh_real: bool = False,
                    real_sampler: Callable[[int, np.random.Generator], Any] | None = None,
                    metrics: Mapping[str, Metric] | None = None, seeds: int | Iterable[int] = 0,
                    on_generation: Callable[..., None] | None = None, progress: bool = False,
                    labels: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run the generational loop and return its history.

    Generation 0 fits a fresh model (``make_model()``) to ``real_data`` and samples
    ``sample_size`` items; generation ``g = 1 .. generations`` fits a fresh model to
    the training set the strategy builds and samples again.

    Parameters
    ----------
    make_model : callable() -> model
        Returns a new, unfitted model with ``fit(data, rng)`` and ``sample(n, rng)``.
    real_data : numpy array or list
        The real data set; at least 2 items, no NaN.
    generations : int >= 1
        Number of generations after generation 0 (the history has ``generations + 1``).
    sample_size : int >= 2, optional
        M, the number of items each generation samples (default: ``len(real_data)``).
    strategy, real_fraction, fresh_real :
        See :class:`Strategy` and :func:`make_strategy`.
    real_sampler : callable(n, rng), optional
        Fresh real data for ``fresh_real=True``.
    metrics : dict name -> callable(model, samples) -> float (or dict of floats)
        Scored after every generation on the fitted model and its samples.
    seeds : int or iterable of ints
        One independent chain per seed; same seed, same numbers.
    on_generation : callable(generation=, seed=, model=, samples=, train=), optional
        Called after each generation (to keep models, save checkpoints, plot...).
    progress : bool
        Show a ``tqdm`` progress bar.
    labels : dict, optional
        Extra constant columns for the history (e.g. ``{"M": 100}``).

    Returns
    -------
    pandas.DataFrame
        Tidy history: columns ``generation, seed, metric, value, strategy`` (+ labels).
    """
    if not callable(make_model):
        raise TypeError("`make_model` must be a callable that returns a new model (e.g. `lambda: GaussianModel()`).")
    real_data = _check_data("real_data", real_data)
    generations = check_int("generations", generations, low=1)
    m = check_int("sample_size", n_items(real_data) if sample_size is None else sample_size, low=2)
    strat = make_strategy(strategy, real_fraction, fresh_real)
    if strat.fresh_real and strat.real_fraction > 0 and real_sampler is None:
        raise ValueError("`fresh_real=True` needs `real_sampler(n, rng)`, a function that draws new real data.")
    metrics = dict(metrics or {})
    seed_list = _seed_list(seeds)

    rows: list[tuple] = []
    total = len(seed_list) * (generations + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"generations ({strat.label})")
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        synthetic: list = []
        train = real_data
        for g in range(generations + 1):
            if g > 0:
                train = strat.training_set(real_data, synthetic, m, rng, real_sampler)
            model = make_model()
            fitted = model.fit(train, rng)
            model = model if fitted is None else fitted
            samples = model.sample(m, rng)
            synthetic.append(samples)
            for name, value in _evaluate(metrics, model, samples).items():
                rows.append((g, seed, name, value))
            if on_generation is not None:
                on_generation(generation=g, seed=seed, model=model, samples=samples, train=train)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    history["strategy"] = strat.label
    for key, value in (labels or {}).items():
        history[key] = value
    return history


def summarize(history: pd.DataFrame, metric: str, by: Sequence[str] = ("generation",),
              quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """Mean, standard error and quantiles of one metric per generation (and other keys)."""
    if metric not in set(history["metric"]):
        raise ValueError(f"`metric` must be one of {sorted(set(history['metric']))} (got {metric!r}).")
    sub = history[history["metric"] == metric]
    grouped = sub.groupby(list(by))["value"]
    out = grouped.agg(mean="mean", std="std", count="count")
    out["sem"] = out["std"] / np.sqrt(out["count"])
    for q in quantiles:
        out[f"q{q:g}"] = grouped.quantile(q)
    return out.reset_index()
