"""Checker for lesson 00's warm-up exercise (how exercises and checks work)."""
from __future__ import annotations

import numpy as np

from ..checks import CheckFailed, Exercise, expect_close


def reference_fit_gaussian(data):
    """Return the MLE (mean, variance) of a 1-D sample."""
    data = np.asarray(data, dtype=float)
    return float(data.mean()), float(data.var())


def _test_fit_gaussian(fn) -> None:
    data = np.array([1.0, 2.0, 3.0, 6.0])
    got = fn(data)
    if got is None:
        raise CheckFailed("your function returned None: `return mean, variance`.")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed("return two numbers, the mean and the variance: `return mean, variance`.")
    mean, var = got
    expect_close(mean, 3.0, what="the mean")
    if np.isclose(var, data.var(ddof=1)):
        raise CheckFailed("that is the unbiased variance (dividing by M - 1). The MLE divides by M: `data.var()`.")
    if np.isclose(var, data.std()):
        raise CheckFailed("that is the standard deviation; return the variance (its square).")
    expect_close(var, 3.5, what="the variance")


fit_gaussian = Exercise(
    "fit a Gaussian",
    _test_fit_gaussian,
    hint="numpy arrays have .mean() and .var(); .var() divides by M.",
    reference=reference_fit_gaussian,
)
