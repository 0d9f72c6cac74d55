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
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ._validate import check_fraction, check_int

NAMES = ("replace", "accumulate", "accumulate_subsample", "real_fraction")
#: The name of the real fraction λ: the last strategy's name, its parameter, and the history column that
#: every table, plot and explorer reads λ from. Other modules use this constant, never the string.
REAL_FRACTION = NAMES[3]

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
    def rule(self) -> str:
        """One sentence saying what generation g >= 1 trains on (the loop diagram prints it)."""
        return {"replace": "train on the last generation's M samples only",
                "accumulate": "all real data + every synthetic sample so far (grows by M each generation)",
                "accumulate_subsample": "M items drawn from that growing pool",
                "real_fraction": "round(λM) real items + the rest from the last samples (λ = real fraction;\n"
                                 "real items re-drawn from the fixed real set, or fresh each generation)",
                }.get(self.name, "")

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


# --------------------------------------------------------------------------- the web as a training set (lesson 08)
@dataclass(frozen=True)
class WebCrawl(Strategy):
    """Train each year on a crawl of a shared web that fills up with model output (lesson 08).

    Generation ``g`` is *year* ``g``. Items carry a date: the real set ``real`` holds the whole human web
    of every year, in order (the first ``human_start`` items are the pre-AI web, dated 0; then
    ``human_per_year`` items dated 1, 2, ...); the model of year ``j`` posts the first
    ``round(adoption[j] * M)`` of its ``M`` samples, dated ``j + 1``. The web of year ``g`` holds every item
    dated ``<= g`` that is younger than ``memory`` years; the training set is a uniform crawl of
    ``crawl_size`` items from it. The rule is stateless: it reads the year from ``len(synthetic)``.
    Run it with ``run_generations(..., real_size=WebCrawl.real_size(generations),
    initial_items=human_start)`` so that generation 0 trains on the pre-AI web only.

    Parameters
    ----------
    human_start : int >= 2
        Human items on the web before any model exists (year 0).
    human_per_year : int >= 0
        Human items added each year.
    adoption : float in [0, 1] or tuple of them
        Share of each year's model output that is posted (``adoption[j]`` for year ``j``; the last value
        repeats). ``logistic_adoption`` in :mod:`collapse_kit.web` builds a rising schedule.
    crawl_size : int >= 1 or None
        Items per crawl (``None``: the whole web, or all of it when it is smaller).
    memory : int >= 1 or None
        Years an item stays on the web (``None``: forever, an accumulating web; 1: only this year's content).
    cutoff : int >= 0 or None
        Provenance filter by date: keep only items dated ``<= cutoff`` (0: the pre-AI web).
    tag_accuracy : float in [0, 1] or None
        Provenance filter by tags: keep ``round(q H)`` of the ``H`` human items and ``round((1 - q) S)`` of
        the ``S`` synthetic ones (a tagger right with probability ``q``), chosen at random each crawl.
    title : str
        Label in plots and tables (default: built from the parameters).
    """

    name: str = field(default="web_crawl", init=False)
    real_fraction: float = field(default=0.0, init=False)
    fresh_real: bool = field(default=False, init=False)
    human_start: int = 100
    human_per_year: int = 0
    adoption: Any = 1.0
    crawl_size: int | None = None
    memory: int | None = None
    cutoff: int | None = None
    tag_accuracy: float | None = None
    title: str = ""

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("human_start", check_int("human_start", self.human_start, low=2))
        set_("human_per_year", check_int("human_per_year", self.human_per_year, low=0))
        adoption = self.adoption if isinstance(self.adoption, (tuple, list, np.ndarray)) else (self.adoption,)
        if not len(adoption):
            raise ValueError("`adoption` must hold at least one share in [0, 1].")
        set_("adoption", tuple(check_fraction("adoption", a) for a in adoption))
        for key, low in (("crawl_size", 1), ("memory", 1), ("cutoff", 0)):
            if getattr(self, key) is not None:
                set_(key, check_int(key, getattr(self, key), low=low))
        if self.tag_accuracy is not None:
            set_("tag_accuracy", check_fraction("tag_accuracy", self.tag_accuracy))
        if not isinstance(self.title, str):
            raise TypeError(f"`title` must be a string (got {type(self.title).__name__}).")

    # ------------------------------------------------------------------ descriptions
    def _params(self) -> tuple:
        return (self.human_start, self.human_per_year, self.adoption, self.crawl_size, self.memory, self.cutoff,
                self.tag_accuracy)

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        bits = [f"+{self.human_per_year}/yr", f"crawl {self.crawl_size or 'all'}",
                f"memory {self.memory or '∞'}"]
        if self.cutoff is not None:
            bits.append(f"cutoff {self.cutoff}")
        if self.tag_accuracy is not None:
            bits.append(f"tags {self.tag_accuracy:g}")
        return "web (" + ", ".join(bits) + ")"

    @property
    def key(self) -> str:
        return f"web-{zlib.crc32(repr(self._params()).encode()):08x}"

    def columns(self) -> dict:
        return {"strategy": self.label, "strategy_name": self.name, "real_fraction": np.nan, "fresh_real": False}

    uses_real = property(lambda self: True, doc="Crawls contain human items.")
    needs_real_sampler = property(lambda self: False)
    keeps_pool = property(lambda self: True, doc="The web keeps (some of) every year's output.")

    def k_real(self, sample_size: int) -> int:
        """0: a crawl has no fixed number of human items (see :meth:`pool_counts`)."""
        check_int("sample_size", sample_size, low=1)
        return 0

    def real_size(self, generations: int) -> int:
        """Human items the web needs for ``generations`` years: ``human_start + generations * human_per_year``."""
        return self.human_start + check_int("generations", generations, low=0) * self.human_per_year

    def adoption_at(self, year: int) -> float:
        return self.adoption[min(year, len(self.adoption) - 1)]

    # ------------------------------------------------------------------ closed counts
    def _window(self, year: int) -> tuple[int, int]:
        """Dates (first, last) of the items this crawler can use in ``year``."""
        first = 0 if self.memory is None else max(0, year - self.memory + 1)
        last = year if self.cutoff is None else min(year, self.cutoff)
        return first, last

    def _human_range(self, year: int) -> tuple[int, int]:
        first, last = self._window(year)
        if last < first:
            return 0, 0
        lo = 0 if first == 0 else self.human_start + (first - 1) * self.human_per_year
        return lo, self.human_start + last * self.human_per_year

    def _posted(self, year: int, sample_size: int) -> list[tuple[int, int]]:
        """(model year j, items posted) of the synthetic batches this crawler can use in ``year``."""
        first, last = self._window(year)
        return [(j, int(round(self.adoption_at(j) * sample_size))) for j in range(max(first - 1, 0), last)
                if j + 1 >= first]

    def pool_counts(self, generation: int, sample_size: int, filtered: bool = True) -> tuple[int, int]:
        """(human, synthetic) items in the web of year ``generation`` (after this crawler's provenance
        filters when ``filtered``). A closed count, no randomness."""
        g = check_int("generation", generation, low=0)
        m = check_int("sample_size", sample_size, low=1)
        web = self if filtered else dataclasses.replace(self, cutoff=None, tag_accuracy=None)
        lo, hi = web._human_range(g)
        human, synth = hi - lo, sum(n for _, n in web._posted(g, m))
        if filtered and self.tag_accuracy is not None:
            human, synth = int(round(self.tag_accuracy * human)), int(round((1 - self.tag_accuracy) * synth))
        return human, synth

    def synthetic_share(self, generation: int, sample_size: int, filtered: bool = True) -> float:
        """Synthetic share of the (filtered) web of year ``generation``."""
        h, s = self.pool_counts(generation, sample_size, filtered)
        return s / (h + s) if h + s else float("nan")

    def training_size(self, generation: int, real_size: int, sample_size: int) -> int:
        if generation == 0:
            return self.human_start
        pool = sum(self.pool_counts(generation, sample_size))
        return pool if self.crawl_size is None else min(pool, self.crawl_size)

    # ------------------------------------------------------------------ the rule
    def training_set(self, real, synthetic, sample_size, rng, real_sampler=None):
        """The crawl of year ``len(synthetic)`` for every chain (``synthetic``: every year's samples so far)."""
        if not len(synthetic):
            raise ValueError("`synthetic` must hold at least one year's samples.")
        m = check_int("sample_size", sample_size, low=1)
        year = len(synthetic)
        lo, hi = self._human_range(year)
        if real.shape[1] < self.human_start + year * self.human_per_year:
            raise ValueError(f"year {year} needs {self.real_size(year)} human items per chain (real has "
                             f"{real.shape[1]}): pass real_size=web.real_size(generations) to run_generations.")
        human = real[:, lo:hi]
        synth = [synthetic[j][:, :n] for j, n in self._posted(year, m) if n]
        if self.tag_accuracy is not None:
            h, s = self.pool_counts(year, m)
            human = subset(human, h, rng) if human.shape[1] else human
            synth = [subset(np.concatenate(synth, axis=1), s, rng)] if synth else []
        pool = np.concatenate([human, *synth], axis=1) if synth else human
        if pool.shape[1] == 0:
            raise ValueError(f"the crawl of year {year} is empty: the filters keep no item (cutoff={self.cutoff}, "
                             f"memory={self.memory}, tag_accuracy={self.tag_accuracy}).")
        return pool if self.crawl_size is None or self.crawl_size >= pool.shape[1] else subset(
            pool, self.crawl_size, rng)
