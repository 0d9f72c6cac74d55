import matplotlib.pyplot as plt
import numpy as np
import pytest

from collapse_kit import plots
from collapse_kit.gaussian import GaussianModel, loop_metrics, normal_source
from collapse_kit.loop import run_generations
from collapse_kit.strategies import WORKFLOWS


def test_plot_history_draws_a_line_per_strategy():
    h = run_generations(GaussianModel, real_sampler=normal_source(), sample_size=10, n_chains=20, generations=5,
                        strategies=list(WORKFLOWS), metrics=loop_metrics())
    ax = plots.plot_history(h, "variance", logy=True)
    assert ax.get_xlabel() == "generation" and ax.get_yscale() == "log" and "variance" in ax.get_title()
    lines = [l for l in ax.get_lines() if len(l.get_xdata()) == 6]
    assert len(lines) == len(WORKFLOWS)  # one mean line per strategy, over generations 0..5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [s.label for s in WORKFLOWS]
    # each line is that strategy's mean over chains
    for line, s in zip(lines, WORKFLOWS):
        want = h[(h.metric == "variance") & (h.strategy == s.label)].groupby("generation").value.mean()
        np.testing.assert_allclose(line.get_ydata(), want.to_numpy())
    assert all(float(t).is_integer() for t in ax.get_xticks())  # whole generations only
    with pytest.raises(ValueError, match="metric"):
        plots.plot_history(h, "entropy")
    plt.close("all")


def test_labels_have_no_raw_underscores():
    assert plots.pretty("distinct_2") == "distinct 2"


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
