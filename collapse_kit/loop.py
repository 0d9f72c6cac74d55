"""The generational loop: fit -> sample -> choose the next training set -> fit ...

Every lesson of the course is this loop with a different model::

    real data ─► fit ─► model₀ ─► sample ─► strategy(real, synthetic so far) ─► fit ─► model₁ ─► …

A *model* is any object with two methods (see :class:`GenerativeModel`) that work on
many independent **chains** at once: data have a leading chain axis,
``(n_chains, n_items, *item_shape)``::

    model.fit(data, rng)   -> model      # learn from each chain's data
    model.sample(n, rng)   -> data       # draw n new items per chain: (n_chains, n, *item_shape)

A *data strategy* (:class:`~collapse_kit.strategies.Strategy`: ``replace``,
``accumulate``, ``accumulate_subsample``, ``real_fraction`` λ fixed or fresh)
decides what each generation trains on. *Metrics* receive a :class:`Context`
and return one value per chain. :func:`run_generations` returns the tidy
history (:mod:`collapse_kit.history`) and, given a ``store``, saves every
generation as it completes and resumes an interrupted run (:mod:`collapse_kit.store`).

Randomness: generation ``g`` of strategy ``s`` in the batch ``seed`` draws from its own
stream, ``SeedSequence([seed, g, s.stream_key])`` (generation 0: ``[seed, 0, 0]``). Same seed,
same numbers, whether the run is done in one go or resumed, and whichever other strategies
run beside it.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from . import history as _history
from ._validate import check_float, check_int, check_seed
from .strategies import Strategy, make_strategy, strategy_list  # noqa: F401  (re-exported)

REAL_STREAM = zlib.crc32(b"real")
METRIC_STREAM = zlib.crc32(b"metric")


@runtime_checkable
class GenerativeModel(Protocol):
    """What the loop needs from a model (batched over chains)."""

    def fit(self, data: np.ndarray, rng: np.random.Generator) -> "GenerativeModel": ...

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray: ...


def generation_rng(seed: int, generation: int, strategy: Strategy | None = None) -> np.random.Generator:
    """The random stream of one generation (generation 0 is shared by every strategy)."""
    key = 0 if generation == 0 or strategy is None else strategy.stream_key
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(generation), key]))


@dataclass
class Context:
    """What metrics and hooks receive after each generation.

    Attributes
    ----------
    generation, seed : int
    strategy : Strategy
    model : the fitted model of this generation (``None`` for a generation restored from a store
        whose model cannot be reloaded)
    samples : array (n_chains, M, *item) this generation's samples
    train : array (n_chains, n_train, *item) what it was fitted on (``None`` when restored)
    real : array (n_chains, N, *item) the real data of each chain
    model0 : the generation-0 model of the same chains
    restored : bool, whether this generation was loaded from the store rather than computed
    folder : the generation's store folder, if a store is used
    """

    generation: int
    seed: int
    strategy: Strategy
    model: Any
    samples: np.ndarray
    train: np.ndarray | None
    real: np.ndarray
    model0: Any
    restored: bool = False
    folder: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return self.samples.shape[0]

    def rng(self, purpose: str = "metric") -> np.random.Generator:
        """A stream for a metric that needs randomness (independent of the loop's own streams)."""
        key = self.strategy.stream_key if self.generation else 0
        return np.random.default_rng(np.random.SeedSequence(
            [self.seed, self.generation, key, METRIC_STREAM, zlib.crc32(purpose.encode())]))


Metric = Callable[[Context], "float | np.ndarray | Mapping[str, float | np.ndarray]"]


def _evaluate(metrics: Mapping[str, Metric], ctx: Context) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    c = ctx.n_chains

    def as_chains(name, val):
        arr = np.asarray(val, dtype=float)
        if arr.ndim == 0:
            arr = np.full(c, float(arr))
        if arr.shape != (c,):
            raise ValueError(f"metric {name!r} must return one value per chain, shape ({c},) "
                             f"(got shape {arr.shape}).")
        return arr

    for name, fn in metrics.items():
        val = fn(ctx)
        if isinstance(val, Mapping):
            out.update({f"{name}.{k}" if name else k: as_chains(k, v) for k, v in val.items()})
        else:
            out[name] = as_chains(name, val)
    return out


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return [check_seed("seeds", seeds)]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("`seeds` must hold at least one seed (an int >= 0).")
    out = [check_seed("seeds", s) for s in seeds]
    if len(set(out)) != len(out):
        raise ValueError(f"`seeds` lists a seed twice ({out}).")
    return out


def memory_budget() -> float:
    """Bytes a run may hold in memory: ``COLLAPSE_KIT_MEMORY_GB`` (default 4 GiB)."""
    gb = os.environ.get("COLLAPSE_KIT_MEMORY_GB", "4")
    try:
        return check_float("COLLAPSE_KIT_MEMORY_GB", float(gb), low=0.0, low_open=True) * 2**30
    except (TypeError, ValueError):
        raise ValueError(f"COLLAPSE_KIT_MEMORY_GB must be a positive number of GiB (got {gb!r}).") from None


def estimate_bytes(strategies: list[Strategy], *, n_chains: int, real_size: int, sample_size: int, generations: int,
                   item_bytes: int) -> int:
    """Peak bytes of the data one batch of chains holds (real set, pool, training set, samples)."""
    worst = 0
    for s in strategies:
        kept = sample_size * (generations + 1) if s.keeps_pool else 2 * sample_size
        train = s.training_size(generations, real_size, sample_size)
        worst = max(worst, real_size + kept + train)
    return int(n_chains * worst * item_bytes)


def _check_memory(strategies, n_chains, real_size, m, generations, item_bytes, budget):
    need = estimate_bytes(strategies, n_chains=n_chains, real_size=real_size, sample_size=m,
                          generations=generations, item_bytes=item_bytes)
    if need > budget:
        fit = max(1, int(n_chains * budget / need))
        raise ValueError(
            f"this run would hold about {need / 2**30:.1f} GiB of data (n_chains={n_chains}, sample_size={m}, "
            f"generations={generations}, strategies={[s.label for s in strategies]}), more than the budget of "
            f"{budget / 2**30:.1f} GiB: use n_chains <= {fit}, or fewer generations or a smaller sample size "
            f"(or raise COLLAPSE_KIT_MEMORY_GB).")


def fit_and_sample(make_model, train, sample_size, rng):
    """Fit a fresh model to ``train`` and draw ``sample_size`` items per chain."""
    model = make_model()
    fitted = model.fit(train, rng)
    model = model if fitted is None else fitted
    return model, np.asarray(model.sample(sample_size, rng))


def next_generation(make_model, strategy, real, synthetic, sample_size, rng, real_sampler=None):
    """One turn of the loop, for every chain at once: the heart of :func:`run_generations`.

    The strategy builds the training set from the real data and the synthetic samples so far;
    a fresh model is fitted to it and samples the next generation's data.
    """
    train = strategy.training_set(real, synthetic, sample_size, rng, real_sampler)
    model, samples = fit_and_sample(make_model, train, sample_size, rng)
    return train, model, samples


def run_generations(make_model: Callable[[], Any], real=None, *, generations: int,
                    sample_size: int | None = None, strategies=Strategy(), real_fraction: float | None = None,
                    fresh_real: bool = False, real_sampler=None, real_size: int | None = None, n_chains: int = 1,
                    metrics: Mapping[str, Metric] | None = None, seeds: int | Iterable[int] = 0,
                    on_generation: Callable[[Context], None] | None = None, store=None, progress: bool = False,
                    labels: Mapping[str, Any] | None = None, memory_budget_bytes: float | None = None,
                    initial_items: int | None = None) -> pd.DataFrame:
    """Run the generational loop on a batch of chains and return its tidy history.

    Generation 0 fits a fresh model (``make_model()``) to each chain's real data and samples
    ``M = sample_size`` items per chain; for each strategy, generation ``g = 1 .. generations``
    fits a fresh model to the training set the strategy builds and samples again. Several
    strategies share generation 0 (same real data, same model₀, same samples).

    Parameters
    ----------
    make_model : callable() -> model
        A new, unfitted model with ``fit(data, rng)`` and ``sample(n, rng)`` on arrays with a
        leading chain axis (see :class:`GenerativeModel`).
    real : array (N, *item), optional
        One real data set shared by every chain. Leave it out and give ``real_sampler`` to draw
        each chain's own real set of ``real_size`` items at generation 0.
    generations : int >= 1
        Generations after generation 0.
    sample_size : int >= 1, optional
        M, the items each generation samples per chain (default: the real set's size).
    strategies : a strategy name, a :class:`Strategy`, or a list of them
        With one name, ``real_fraction`` and ``fresh_real`` complete it (see
        :func:`~collapse_kit.strategies.make_strategy`).
    real_sampler : callable(rng, n_chains, n) -> array (n_chains, n, *item), optional
        The real distribution: draws each chain's real set when ``real`` is not given, and the
        fresh real items of ``fresh_real`` strategies.
    real_size : int, optional
        N when the real sets are drawn by ``real_sampler`` (default: ``sample_size``).
    n_chains : int >= 1
        Independent chains per seed, run together as one batch.
    metrics : dict name -> callable(Context) -> value per chain (or a scalar, or a dict of them)
    seeds : int or iterable of ints
        One batch of ``n_chains`` chains per seed.
    on_generation : callable(Context), optional
        Called after each generation (to keep samples, save pictures ...).
    store : path or :class:`~collapse_kit.store.Store`, optional
        Save every generation as it completes; a re-run resumes where it stopped.
    progress : bool
        Show a progress bar.
    labels : dict, optional
        Constant columns for the history (e.g. ``{"M": 100}``).
    memory_budget_bytes : float, optional
        Refuse runs whose data would exceed this (default :func:`memory_budget`).
    initial_items : int in [1, N], optional
        Generation 0 fits on the first ``initial_items`` real items of each chain only (default: all);
        the strategies still see the whole real set (lesson 08: the pre-AI web, then human data that
        arrive year by year).

    Returns
    -------
    pandas.DataFrame
        The tidy history (see :mod:`collapse_kit.history`).
    """
    # ---- validate everything before any heavy work
    if not callable(make_model):
        raise TypeError("`make_model` must be a callable that returns a new model (e.g. `GaussianModel`).")
    generations = check_int("generations", generations, low=1)
    n_chains = check_int("n_chains", n_chains, low=1)
    if isinstance(strategies, (str, Strategy)):
        strats = [make_strategy(strategies, real_fraction, fresh_real)]
    else:
        if real_fraction is not None or fresh_real:
            raise ValueError("`real_fraction`/`fresh_real` complete a single strategy name; with a list, "
                             "pass Strategy objects instead.")
        strats = strategy_list(strategies)
    if real is None and real_sampler is None:
        raise ValueError("give the real data: `real` (an array, shared by all chains) or `real_sampler`.")
    if real is not None:
        real = np.asarray(real)
        if real.ndim == 0 or real.dtype == object:
            raise ValueError("`real` must be an array with the items along its first axis.")
        if real.dtype.kind in "fc" and not np.all(np.isfinite(real)):
            raise ValueError("`real` contains NaN or infinite values; remove or impute them first.")
        if len(real) < 1:
            raise ValueError("`real` must hold at least one item.")
        n_real = len(real)
    else:
        if not callable(real_sampler):
            raise TypeError("`real_sampler` must be a callable(rng, n_chains, n) -> array.")
        n_real = check_int("real_size", sample_size if real_size is None else real_size, low=1)
    m = check_int("sample_size", n_real if sample_size is None else sample_size, low=1)
    n_first = n_real if initial_items is None else check_int("initial_items", initial_items, low=1, high=n_real)
    if any(s.needs_real_sampler for s in strats) and real_sampler is None:
        raise ValueError("a `fresh_real=True` strategy needs `real_sampler(rng, n_chains, n)`, a function that "
                         "draws new real data.")
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not callable(fn):
            raise TypeError(f"metric {name!r} must be a callable(context) -> value per chain.")
    seed_list = _seed_list(seeds)
    budget = memory_budget() if memory_budget_bytes is None else float(memory_budget_bytes)
    if real is not None:
        item_bytes = real[:1].nbytes
        _check_memory(strats, n_chains, n_real, m, generations, item_bytes, budget)
    if store is not None:
        from .store import Store

        if not isinstance(store, Store):
            store = Store(store, describe=dict(n_chains=n_chains, sample_size=m,
                                               real_size=n_real, labels=dict(labels or {})))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(seed_list) * (1 + len(strats) * generations),
                   desc=f"generations ({', '.join(s.label for s in strats)})")

    records: list[tuple[int, int, int, str, np.ndarray]] = []  # (strategy index, generation, seed, metric, values)

    def record(si_list, g, seed, values):
        for name, vals in values.items():
            for si in si_list:
                records.append((si, g, seed, name, vals))

    def fit_sample(train, rng):
        model, samples = fit_and_sample(make_model, train, m, rng)
        if samples.shape[:2] != (n_chains, m):
            raise TypeError(f"{type(model).__name__}.sample({m}, rng) must return an array of shape "
                            f"(n_chains, {m}, ...) = ({n_chains}, {m}, ...); got shape {samples.shape}.")
        return model, samples

    for seed in seed_list:
        # ---- generation 0: every chain's real data, model₀, its samples (shared by all strategies)
        if real is None:
            real_c = np.asarray(real_sampler(np.random.default_rng(np.random.SeedSequence([seed, 0, REAL_STREAM])),
                                             n_chains, n_real))
            if real_c.shape[:2] != (n_chains, n_real):
                raise TypeError(f"`real_sampler(rng, {n_chains}, {n_real})` must return shape ({n_chains}, "
                                f"{n_real}, ...) (got {real_c.shape}).")
            _check_memory(strats, n_chains, n_real, m, generations, real_c[:1, :1].nbytes, budget)
        else:
            real_c = np.broadcast_to(real, (n_chains, *real.shape))
        saved = store.load(seed, 0) if store is not None else None
        model0 = None
        if saved is not None:
            samples0, values0 = saved["samples"], saved["metrics"]
            model0 = store.load_model(make_model(), seed, 0)
            if model0 is None:  # not saveable: refit deterministically from generation 0's own stream
                model0, _ = fit_sample(real_c[:, :n_first], generation_rng(seed, 0))
            ctx0 = Context(0, seed, strats[0], model0, samples0, real_c[:, :n_first], real_c, model0, restored=True,
                           folder=saved["folder"], extra=saved["extra"])
        else:
            model0, samples0 = fit_sample(real_c[:, :n_first], generation_rng(seed, 0))
            ctx0 = Context(0, seed, strats[0], model0, samples0, real_c[:, :n_first], real_c, model0)
            values0 = _evaluate(metrics, ctx0)
            if store is not None:
                ctx0.folder = store.save(seed, 0, None, samples=samples0, metrics=values0, model=model0,
                                         extra=ctx0.extra)
        record(range(len(strats)), 0, seed, values0)
        if on_generation is not None:
            for s in strats:
                ctx0.strategy = s
                on_generation(ctx0)
        if bar is not None:
            bar.update(1)
        # ---- generations 1..G of each strategy
        for si, strat in enumerate(strats):
            synthetic = [samples0]
            for g in range(1, generations + 1):
                saved = store.load(seed, g, strat) if store is not None else None
                if saved is not None:
                    samples, values = saved["samples"], saved["metrics"]
                    ctx = Context(g, seed, strat, None, samples, None, real_c, model0, restored=True,
                                  folder=saved["folder"], extra=saved["extra"])
                    if on_generation is not None:
                        ctx.model = store.load_model(make_model(), seed, g, strat)
                else:
                    train, model, samples = next_generation(make_model, strat, real_c, synthetic, m,
                                                            generation_rng(seed, g, strat), real_sampler)
                    if samples.shape[:2] != (n_chains, m):
                        raise TypeError(f"{type(model).__name__}.sample must return shape ({n_chains}, {m}, ...) "
                                        f"(got {samples.shape}).")
                    ctx = Context(g, seed, strat, model, samples, train, real_c, model0)
                    values = _evaluate(metrics, ctx)
                    if store is not None:
                        ctx.folder = store.save(seed, g, strat, samples=samples, metrics=values, model=model,
                                                extra=ctx.extra)
                record([si], g, seed, values)
                if on_generation is not None:
                    on_generation(ctx)
                synthetic = synthetic + [samples] if strat.keeps_pool else [samples]
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return _assemble(records, strats, n_chains, labels)


def _assemble(records, strats, n_chains, labels) -> pd.DataFrame:
    frames = []
    chain = np.arange(n_chains)
    for si, strat in enumerate(strats):
        mine = [r for r in records if r[0] == si]
        if not mine:
            continue
        names = list(dict.fromkeys(r[3] for r in mine))
        code = {n: i for i, n in enumerate(names)}
        k = len(mine)
        frame = pd.DataFrame({
            "generation": np.repeat(np.array([r[1] for r in mine], dtype=np.int64), n_chains),
            "chain": np.tile(chain, k),
            "seed": np.repeat(np.array([r[2] for r in mine], dtype=np.int64), n_chains),
            "metric": pd.Categorical.from_codes(np.repeat([code[r[3]] for r in mine], n_chains), names),
            "value": np.concatenate([r[4] for r in mine]) if k else np.zeros(0),
        })
        frames.append(_history.finish(frame, strat, labels))
    if not frames:
        cols = _history.COLUMNS + list(labels or {})
        return pd.DataFrame(columns=cols)
    out = frames[0] if len(frames) == 1 else _history.concat(frames)
    return out.sort_values(["strategy", "seed", "generation", "metric", "chain"], kind="stable",
                           ignore_index=True) if len(frames) > 1 else out


# kept here for convenience: ``from collapse_kit.loop import summarize``
summarize = _history.summarize
