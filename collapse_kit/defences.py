"""Lesson 07: defences against model collapse, as building blocks of the one loop.

A defence changes *what the next generation trains on*, so here it is a data strategy:
:class:`Filtered` wraps any :class:`~collapse_kit.strategies.Strategy` and removes the items a
*detector* flags from the training set that strategy builds. The loop
(:func:`collapse_kit.loop.run_generations`) runs the filtered strategy unchanged; there is no
second driver. Flagged items are replaced by copies of randomly chosen kept items of the same
chain (the collector keeps collecting until its training set is full again), so every chain
keeps its training-set size; when nothing is flagged the training set is exactly the wrapped
strategy's.

Detectors (``detector(items, rng) -> bool array (n_chains, n_items)``, True = flagged):

* :func:`provenance_detector`: for the fast loop. Items carry their provenance (real or
  synthetic) in a last column (:class:`MarkedModel`, :func:`marked_source`); a synthetic item
  is flagged with probability ``share·TPR + (1 − share)·FPR`` (a share of providers watermark,
  the watermark detector catches a watermarked text with probability TPR) and a real one with
  probability FPR. The rates come from :func:`detection_rate` (the z-test's binomial law).
* :func:`verifier_detector`: Yi et al. (ICLR 2026): in linear regression a verifier keeps a
  synthetic row ``(x, y)`` when its label is close to what the verifier itself believes,
  ``|y − x·θ_c| ≤ τ``; ``θ_c`` is the verifier's *knowledge center*.
* text: :func:`collapse_kit.watermark.text_detector` (the green-list z-test on token blocks).

Without a watermark: :func:`roc` and :func:`auc` score a likelihood detector (real vs
generated items by their log-likelihood under a reference model).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from ._validate import check_float, check_fraction, check_int, check_seed
from .strategies import WORKFLOWS, Strategy, real_fraction_grid

REPLACE = WORKFLOWS[0]

REAL, SYNTHETIC = 0.0, 1.0  # provenance codes in the last column of a marked item
_TAG = re.compile(r"^[A-Za-z0-9_.=+-]{1,40}$")

Detector = Callable[[np.ndarray, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------- filtering as a strategy
@dataclass(frozen=True)
class Filtered(Strategy):
    """A strategy whose training sets lose the items a detector flags.

    Build it with :meth:`wrap`. The label, key and random streams name the filter
    (``tag``), so several filters of the same strategy run side by side in one call of
    :func:`~collapse_kit.loop.run_generations` and share generation 0.

    Parameters
    ----------
    detector : callable(items, rng) -> bool array (n_chains, n_items)
        True marks an item to remove.
    tag : str
        A short, file-name-safe name of the filter (letters, digits, ``_.=+-``).
    train_size : int, optional
        Train on this many items per chain: kept items first, in random order (a collector
        who scrapes a large web and keeps ``train_size`` unflagged items). Default: the wrapped
        strategy's training-set size, flagged items replaced by copies of kept ones.
    """

    detector: Detector | None = None
    tag: str = "filtered"
    train_size: int | None = None

    def __post_init__(self):
        super().__post_init__()
        if not callable(self.detector):
            raise TypeError("`detector` must be a callable(items, rng) -> bool array (n_chains, n_items).")
        if not isinstance(self.tag, str) or not _TAG.match(self.tag):
            raise ValueError(f"`tag` must be 1-40 letters, digits or _.=+- (got {self.tag!r}).")
        if self.train_size is not None:
            check_int("train_size", self.train_size, low=1)

    @classmethod
    def wrap(cls, strategy: Strategy, detector: Detector, tag: str = "filtered",
             train_size: int | None = None) -> "Filtered":
        """Filter the training sets of ``strategy`` with ``detector`` (see the class for ``train_size``)."""
        if not isinstance(strategy, Strategy) or isinstance(strategy, Filtered):
            raise TypeError("`strategy` must be a plain Strategy (filter once, with one detector).")
        return cls(strategy.name, strategy.real_fraction, strategy.fresh_real, detector=detector, tag=tag,
                   train_size=train_size)

    @property
    def base(self) -> Strategy:
        """The wrapped strategy."""
        return Strategy(self.name, self.real_fraction, self.fresh_real)

    @property
    def label(self) -> str:
        return f"{self.base.label} + {self.tag}"

    @property
    def key(self) -> str:
        return f"{self.base.key}+{self.tag}"

    def columns(self) -> dict:
        return {**self.base.columns(), "strategy": self.label}

    def training_set(self, real, synthetic, sample_size, rng, real_sampler=None):
        """The wrapped strategy's training sets with flagged items replaced by copies of kept ones."""
        train = self.base.training_set(real, synthetic, sample_size, rng, real_sampler)
        flagged = np.asarray(self.detector(train, rng), dtype=bool)
        if self.train_size is not None:
            if self.train_size > train.shape[1]:
                raise ValueError(f"`train_size` must be <= the wrapped strategy's training-set size "
                                 f"{train.shape[1]} (got {self.train_size}).")
            order = np.argsort(rng.random(flagged.shape) + flagged, axis=1)[:, :self.train_size]  # kept first
            train, flagged = np.take_along_axis(train, order.reshape(order.shape + (1,) * (train.ndim - 2)),
                                                axis=1), np.take_along_axis(flagged, order, axis=1)
        return drop_flagged(train, flagged, rng)

    def training_size(self, generation: int, real_size: int, sample_size: int) -> int:
        full = self.base.training_size(generation, real_size, sample_size)
        return full if generation == 0 or self.train_size is None else self.train_size


def drop_flagged(items: np.ndarray, flagged, rng: np.random.Generator) -> np.ndarray:
    """Replace every flagged item of a chain by a copy of a uniformly chosen kept item of that chain.

    A chain whose items are all flagged keeps them (there is nothing else to train on).
    ``flagged`` has shape ``(n_chains, n_items)``; the result has the shape of ``items``.
    """
    flagged = np.asarray(flagged, dtype=bool)
    if flagged.shape != items.shape[:2]:
        raise ValueError(f"the detector must return one flag per item, shape {items.shape[:2]} "
                         f"(got {flagged.shape}).")
    if not flagged.any():
        return items
    c, n = flagged.shape
    n_kept = n - flagged.sum(axis=1)
    kept_first = np.argsort(flagged, axis=1, kind="stable")  # kept items' indices first, in order
    pick = np.minimum((rng.random((c, n)) * n_kept[:, None]).astype(int), np.maximum(n_kept - 1, 0)[:, None])
    source = np.take_along_axis(kept_first, pick, axis=1)
    idx = np.where(flagged & (n_kept > 0)[:, None], source, np.arange(n)[None, :])
    return items[np.arange(c)[:, None], idx]


# --------------------------------------------------------------------------- provenance (fast loop)
class MarkedModel:
    """Wrap a model of scalar items so its samples carry their provenance in a last column.

    Data have shape ``(n_chains, n_items, 2)``: column 0 the item, column 1 its provenance
    (:data:`REAL` = 0 or :data:`SYNTHETIC` = 1). ``fit`` fits the inner model to column 0;
    ``sample`` marks every sample synthetic. The fitted inner model is ``.inner``.
    """

    def __init__(self, inner):
        if not (hasattr(inner, "fit") and hasattr(inner, "sample")):
            raise TypeError("`inner` must be a model with fit(data, rng) and sample(n, rng).")
        self.inner = inner

    def fit(self, data, rng=None) -> "MarkedModel":
        data = np.asarray(data, dtype=float)
        if data.ndim != 3 or data.shape[2] != 2:
            raise ValueError(f"`data` must have shape (n_chains, n_items, 2) (got {data.shape}).")
        fitted = self.inner.fit(data[..., 0], rng)
        self.inner = self.inner if fitted is None else fitted
        return self

    def sample(self, n: int, rng) -> np.ndarray:
        x = np.asarray(self.inner.sample(n, rng), dtype=float)
        return np.stack([x, np.full_like(x, SYNTHETIC)], axis=-1)


def marked_source(real_sampler):
    """A ``real_sampler`` whose items are marked :data:`REAL` (for :class:`MarkedModel`)."""
    if not callable(real_sampler):
        raise TypeError("`real_sampler` must be a callable(rng, n_chains, n) -> array (n_chains, n).")

    def draw(rng, n_chains, n):
        x = np.asarray(real_sampler(rng, n_chains, n), dtype=float)
        return np.stack([x, np.full_like(x, REAL)], axis=-1)

    return draw


def flag_nothing(items, rng=None) -> np.ndarray:
    """The detector of the no-filter arm: flags no item."""
    return np.zeros(np.asarray(items).shape[:2], dtype=bool)


def provenance_detector(share: float, tpr: float, fpr: float) -> Detector:
    """Flag synthetic items with probability ``share·tpr + (1 − share)·fpr`` and real ones with ``fpr``.

    Parameters
    ----------
    share : float in [0, 1]
        Share of providers (of synthetic items) that carry a watermark.
    tpr : float in [0, 1]
        Detection rate on watermarked items (see :func:`detection_rate`).
    fpr : float in [0, 1]
        False-positive rate: unwatermarked items (real or synthetic) flagged by chance.
    """
    share, tpr, fpr = (check_fraction(k, v) for k, v in (("share", share), ("tpr", tpr), ("fpr", fpr)))
    p_synth = share * tpr + (1 - share) * fpr

    def detect(items, rng):
        synthetic = np.asarray(items)[..., -1] == SYNTHETIC
        return rng.random(synthetic.shape) < np.where(synthetic, p_synth, fpr)

    return detect


def kept_synthetic_share(human_share: float, share: float, tpr: float, fpr: float) -> float:
    """The synthetic share of what a filter keeps from a web with ``human_share`` human items, when a share
    ``share`` of the synthetic items is watermarked (caught with probability ``tpr``) and every unwatermarked
    item is flagged with probability ``fpr``: ``(1−λ)(1−q) / ((1−λ)(1−q) + λ(1−fpr))``, ``q = share·tpr +
    (1−share)·fpr``. The expected synthetic share of a :func:`coordination_run` arm's training set."""
    lam = check_fraction("human_share", human_share)
    q = check_fraction("share", share) * check_fraction("tpr", tpr) + (1 - share) * check_fraction("fpr", fpr)
    synth, human = (1 - lam) * (1 - q), lam * (1 - fpr)
    return float(synth / (synth + human)) if synth + human > 0 else float("nan")


def synthetic_share(ctx) -> np.ndarray:
    """Metric: the share of each chain's training set that is synthetic (generation 0: 0)."""
    train = ctx.real if ctx.train is None and ctx.generation == 0 else ctx.train
    if train is None:
        return np.full(ctx.n_chains, np.nan)
    return (np.asarray(train)[..., -1] == SYNTHETIC).mean(axis=1)


def coordination_metrics(mu0: float = 0.0, sigma0: float = 1.0) -> dict:
    """Metrics for a :class:`MarkedModel` around a Gaussian: ``W2²`` to N(mu0, sigma0²), the fitted
    ``variance`` and the ``synthetic share`` of the training set."""
    from .gaussian import w2_squared

    return {"W2²": lambda c: w2_squared(c.model.inner.mu_, c.model.inner.sigma2_, mu0, sigma0),
            "variance": lambda c: c.model.inner.sigma2_,
            "synthetic share": synthetic_share}


def coordination_run(shares=(0.0, 0.5, 0.9, 1.0), *, tpr: float = 0.95, fpr: float = 0.0,
                     human_share: float = 0.2, sample_size: int = 200, train_size: int = 40, generations: int = 30,
                     n_chains: int = 500, seed: int = 0):
    """The coordination experiment on the fast loop (a Gaussian per chain).

    The "web" of each generation holds ``sample_size`` items: ``human_share`` of them fresh real
    items, the rest the previous model's samples (a fresh real fraction ``human_share``,
    built with :func:`~collapse_kit.strategies.real_fraction_grid`). A collector trains the next model on ``train_size`` items of it: one arm
    takes them at random (no filter), then one :class:`Filtered` arm per share of watermarking
    providers keeps unflagged items first. All arms share generation 0 (one call of
    :func:`~collapse_kit.loop.run_generations`).
    """
    from .gaussian import GaussianModel, normal_source
    from .loop import run_generations

    shares = [check_fraction("shares", s) for s in np.atleast_1d(shares)]
    if not shares:
        raise ValueError("`shares` must hold at least one share in [0, 1].")
    tpr, fpr = check_fraction("tpr", tpr), check_fraction("fpr", fpr)
    web = real_fraction_grid([check_fraction("human_share", human_share)], fresh_real=True)[0]
    n = check_int("train_size", train_size, low=2)
    arms = [Filtered.wrap(web, flag_nothing, "no-filter", n)] + [
        Filtered.wrap(web, provenance_detector(p, tpr, fpr), f"watermark-share={p:g}", n) for p in shares]
    return run_generations(lambda: MarkedModel(GaussianModel()), real_sampler=marked_source(normal_source()),
                           sample_size=check_int("sample_size", sample_size, low=2),
                           generations=check_int("generations", generations, low=1),
                           strategies=arms, n_chains=check_int("n_chains", n_chains, low=1),
                           metrics=coordination_metrics(), seeds=check_seed("seed", seed),
                           labels={"tpr": tpr, "fpr": fpr})


# --------------------------------------------------------------------------- watermark detection theory
def green_probability(gamma: float, delta: float) -> float:
    """Probability that a watermarked token is green when the model's next-token distribution is
    spread evenly (maximal entropy): ``γe^δ / (γe^δ + 1 − γ)`` (Kirchenbauer et al. 2023, §4; lower
    entropy gives less). ``δ = 0``: γ."""
    gamma = check_float("gamma", gamma, low=0, high=1, low_open=True, high_open=True)
    delta = check_float("delta", delta, low=0)
    a = np.exp(delta)
    return float(gamma * a / (gamma * a + 1 - gamma))


def attacked_green_probability(green: float, gamma: float, substitution: float, context_width: int = 4) -> float:
    """Green probability after a share ``substitution`` = ε of tokens is replaced at random.

    A position keeps its watermark only if neither it nor the ``h`` tokens before it (which seed its
    green list) was replaced, probability ``(1 − ε)^(h+1)``; otherwise it is green with probability γ."""
    green = check_fraction("green", green)
    gamma = check_float("gamma", gamma, low=0, high=1, low_open=True, high_open=True)
    h = check_int("context_width", context_width, low=1)
    keep = (1 - check_fraction("substitution", substitution)) ** (h + 1)
    return keep * green + (1 - keep) * gamma


def z_threshold_count(n_tokens, gamma: float, z: float):
    """The smallest green count a text of ``n_tokens`` needs to reach z-score ``z``."""
    t = np.asarray(n_tokens, dtype=float)
    return np.ceil(gamma * t + z * np.sqrt(t * gamma * (1 - gamma)) - 1e-9)


def detection_rate(n_tokens, gamma: float, green: float, z: float = 4.0):
    """P(z-score ≥ ``z``) for a text of ``n_tokens`` whose tokens are green with probability
    ``green``, each independently: the exact binomial tail. With ``green = γ`` this is the
    false-positive rate (close to the normal tail ``1 − Φ(z)`` for long texts)."""
    gamma = check_float("gamma", gamma, low=0, high=1, low_open=True, high_open=True)
    green = check_fraction("green", green)
    z = check_float("z", z)
    t = np.asarray(n_tokens)
    if np.any(t < 1):
        raise ValueError("`n_tokens` must be >= 1.")
    return stats.binom.sf(z_threshold_count(t, gamma, z) - 1, t, green)


# --------------------------------------------------------------------------- detection without a watermark
def roc(scores_real, scores_synthetic):
    """ROC curve of "flag when score ≥ threshold" (higher score = more likely synthetic).

    Returns ``(thresholds, fpr, tpr)``: for each threshold (descending, starting at +inf) the share
    of real items flagged (false positives) and of synthetic items flagged (true positives)."""
    r, s = np.asarray(scores_real, float).ravel(), np.asarray(scores_synthetic, float).ravel()
    if not len(r) or not len(s):
        raise ValueError("`scores_real` and `scores_synthetic` must each hold at least one score.")
    th = np.concatenate([[np.inf], np.unique(np.concatenate([r, s]))[::-1]])
    fpr = (r[None, :] >= th[:, None]).mean(axis=1)
    tpr = (s[None, :] >= th[:, None]).mean(axis=1)
    return th, fpr, tpr


def auc(scores_real, scores_synthetic) -> float:
    """Area under the ROC curve = P(a synthetic item scores above a real one) (ties count half)."""
    r, s = np.asarray(scores_real, float).ravel(), np.asarray(scores_synthetic, float).ravel()
    if not len(r) or not len(s):
        raise ValueError("`scores_real` and `scores_synthetic` must each hold at least one score.")
    u = stats.mannwhitneyu(s, r, alternative="two-sided").statistic
    return float(u / (len(r) * len(s)))


def threshold_for_fpr(scores_real, budget: float) -> float:
    """The lowest threshold whose false-positive rate on ``scores_real`` stays within ``budget``."""
    budget = check_fraction("budget", budget)
    r = np.asarray(scores_real, float).ravel()
    if not len(r):
        raise ValueError("`scores_real` must hold at least one score.")
    th = np.concatenate([[np.inf], np.unique(r)[::-1]])
    ok = np.nonzero((r[None, :] >= th[:, None]).mean(axis=1) <= budget)[0]
    return float(th[ok[-1]])


def likelihood_detector(model, threshold: float, direction: float = 1.0) -> Detector:
    """A detector for token blocks ``(n_chains, n, T)``: flag a block when ``direction × (its mean
    log-likelihood per token under the reference ``model``)`` is at least ``threshold``
    (``direction = +1``: flag text that is unusually likely; ``-1``: unusually unlikely)."""
    threshold = check_float("threshold", threshold)
    if direction not in (1, -1):
        raise ValueError(f"`direction` must be +1 or -1 (got {direction!r}).")

    def detect(items, rng=None):
        from . import gpt

        items = np.asarray(items)
        if items.ndim != 3:
            raise ValueError(f"items must be token blocks (n_chains, n, T) (got shape {items.shape}).")
        score = -direction * gpt.sequence_nll(model, items.reshape(-1, items.shape[-1]))
        return (score >= threshold).reshape(items.shape[:2])

    return detect


# --------------------------------------------------------------------------- verification (regression)
def verifier_detector(center, threshold: float) -> Detector:
    """Yi et al. (ICLR 2026)'s verifier in linear regression: keep a row ``(x, y)`` when
    ``|y − x·θ_c| ≤ τ``; flag the others.

    Parameters
    ----------
    center : array (n_chains, d)
        θ_c, the verifier's own weights (its *knowledge center*) for each chain.
    threshold : float > 0
        τ, the largest residual the verifier accepts.
    """
    center = np.asarray(center, dtype=float)
    if center.ndim != 2:
        raise ValueError(f"`center` must have shape (n_chains, d) (got {center.shape}).")
    tau = check_float("threshold", threshold, low=0, low_open=True)

    def detect(items, rng):
        items = np.asarray(items, dtype=float)
        if items.shape[0] != center.shape[0] or items.shape[2] != center.shape[1] + 1:
            raise ValueError(f"items must have shape (n_chains={center.shape[0]}, n, d + 1 = {center.shape[1] + 1}) "
                             f"(got {items.shape}).")
        resid = items[..., -1] - np.einsum("cnd,cd->cn", items[..., :-1], center)
        return np.abs(resid) > tau

    return detect


def verifier_center(problem, bias: float, seed: int = 0) -> np.ndarray:
    """θ_c = w* + b·u per chain, with u a random unit direction: a verifier whose knowledge is off by
    ``bias`` (0: it knows the truth)."""
    bias = check_float("bias", bias, low=0)
    rng = np.random.default_rng(np.random.SeedSequence([check_seed("seed", seed), 0x7E1]))
    u = rng.standard_normal(problem.w_star.shape)
    return problem.w_star + bias * u / np.linalg.norm(u, axis=1, keepdims=True)


def verifier_run(*, biases=(0.0, 0.2), threshold: float = 0.7, n_chains: int = 500, n_samples: int = 100,
                 n_features: int = 10, noise: float = 1.0, generations: int = 20, seed: int = 0):
    """Verifier-filtered retraining in linear regression (Yi et al., ICLR 2026), through the loop.

    Each generation relabels the fixed design with the current fit (``replace``); a verifier with
    centre θ_c (one arm per ``bias`` = ‖θ_c − w*‖) removes rows whose label is farther than
    ``threshold`` from its own prediction. One unfiltered ``replace`` arm for comparison. Metrics:
    ``test error`` ‖ŵ − w*‖² and ``distance to center.<tag>`` ‖ŵ − θ_c‖² for each verifier's centre.
    """
    from .loop import run_generations
    from .regression import linear_problem

    p = linear_problem(check_int("n_chains", n_chains, low=1), n_samples=n_samples, n_features=n_features,
                       noise=noise, seed=seed)
    biases = [check_float("biases", b, low=0) for b in np.atleast_1d(biases)]
    centers = {f"verifier-bias={b:g}": verifier_center(p, b, seed) for b in biases}
    arms = [REPLACE] + [Filtered.wrap(REPLACE, verifier_detector(c, threshold), tag) for tag, c in centers.items()]

    def distance(ctx):  # to every verifier's centre (generation 0 is shared by the arms)
        return {tag: ((ctx.model.w_ - c) ** 2).sum(axis=1) for tag, c in centers.items()}

    metrics = {**p.metrics(), "distance to center": distance}
    return run_generations(p.make_model, real_sampler=p.real_sampler, real_size=p.n_samples, n_chains=p.n_chains,
                           generations=check_int("generations", generations, low=1), strategies=arms,
                           metrics=metrics, seeds=check_seed("seed", seed),
                           labels={"T": p.n_samples, "d": p.n_features, "tau": float(threshold)})
