"""Parameter validation shared by every module.

Each helper raises a ``ValueError`` (or ``TypeError`` for the wrong kind of
object) whose message names the parameter, its valid range and the value that
was given, so a learner knows exactly what to change.
"""
from __future__ import annotations

import numbers
from typing import Iterable, Sequence

import numpy as np


def _fmt(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer() and not isinstance(value, bool):
            value = int(value)
        else:
            raise TypeError(f"`{name}` must be an integer (got {_fmt(value)} of type {type(value).__name__}).")
    value = int(value)
    if low is not None and value < low or high is not None and value > high:
        raise ValueError(f"`{name}` must be {_range_text(low, high)} (got {value}).")
    return value


def _range_text(low, high, low_open=False, high_open=False) -> str:
    if low is not None and high is not None:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        return f"in {lb}{low}, {high}{hb}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "a finite number"


def check_float(name: str, value, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite ``float`` inside the given (open or closed) range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number (got {_fmt(value)} of type {type(value).__name__}).")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        raise ValueError(f"`{name}` must be {_range_text(low, high, low_open, high_open)} (got {value}).")
    return value


def check_fraction(name: str, value) -> float:
    """A fraction in the closed interval [0, 1] (e.g. the real fraction λ)."""
    return check_float(name, value, low=0.0, high=1.0)


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))} (got {_fmt(value)}).")
    return value


def check_array(name: str, x, *, ndim: int | Sequence[int] | None = None, min_len: int = 1,
                finite: bool = True, dtype=float) -> np.ndarray:
    """Convert ``x`` to an array of ``dtype`` and check its shape and values."""
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be array-like of numbers (got {type(x).__name__}): {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"`{name}` must have {' or '.join(map(str, allowed))} dimension(s) "
                             f"(got shape {arr.shape}).")
    if arr.ndim >= 1 and arr.shape[0] < min_len:
        raise ValueError(f"`{name}` must hold at least {min_len} item(s) along its first axis (got {arr.shape[0]}).")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinite values; remove or impute them first.")
    return arr


def check_probabilities(name: str, p, *, atol: float = 1e-8) -> np.ndarray:
    """A 1-D probability vector: non-negative, finite, summing to 1 (within ``atol``)."""
    arr = check_array(name, p, ndim=1)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be non-negative (found {arr.min():.3g}).")
    total = arr.sum()
    if not np.isclose(total, 1.0, atol=atol, rtol=0):
        raise ValueError(f"`{name}` must sum to 1 (sums to {total:.6g}); divide by its sum first.")
    return arr


def check_seed(name: str, seed) -> int:
    return check_int(name, seed, low=0)


def check_rng(seed=None, rng=None) -> np.random.Generator:
    """The Generator to use: ``rng`` if given (it must be a numpy Generator), else a new one from
    ``seed`` (an int >= 0). Passing neither is an error: a hidden default seed would make every
    "random" call return the same numbers."""
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"`rng` must be a numpy Generator (got {type(rng).__name__}).")
        return rng
    if seed is None:
        raise ValueError("pass `seed` (an int >= 0) or `rng` (a numpy Generator): neither was given.")
    return np.random.default_rng(check_seed("seed", seed))
