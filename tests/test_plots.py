import matplotlib.pyplot as plt
import numpy as np
import pytest

from collapse_kit import plots
from collapse_kit.gaussian import simulate_gaussian_chains


def test_plot_history_draws_a_line_per_strategy():
    h = simulate_gaussian_chains(20, 5, 10, seed=0).to_history()
    ax = plots.plot_history(h, "variance", logy=True)
    assert ax.get_xlabel() == "generation" and ax.get_yscale() == "log" and "variance" in ax.get_title()
    with pytest.raises(ValueError, match="metric"):
        plots.plot_history(h, "entropy")
    plt.close("all")


def test_fan_chart_bands_and_validation():
    values = np.random.default_rng(0).normal(size=(100, 6)).cumsum(axis=1)
    ax = plots.fan_chart(values, n_paths=3)
    assert len(ax.collections) == 2  # two quantile bands
    median = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(median, np.median(values, axis=0))
    with pytest.raises(ValueError, match="values"):
        plots.fan_chart(np.ones(5))
    with pytest.raises(ValueError, match="loc"):
        plots.annotate(ax, "x", loc="middle")
    plt.close("all")
