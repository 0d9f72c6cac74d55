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


def test_loop_diagram_is_drawn_from_the_strategy_module():
    fig = plots.loop_diagram(highlight="accumulate")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert all(s.label in texts for s in WORKFLOWS)
    assert plots.layout_problems(fig) == []
    with pytest.raises(ValueError, match="highlight"):
        plots.loop_diagram(highlight="mix")
    plt.close("all")


def test_layout_problems_finds_overlaps_and_cut_labels():
    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 3))
    a.set_title("a very long title that runs into the next panel's title for sure")
    b.set_title("another long title on the right")
    a.set_ylabel("y")
    assert any("overlaps" in p for p in plots.layout_problems(fig))
    fig2, ax = plt.subplots(figsize=(3, 2))
    ax.set_position([0.0, 0.0, 1.0, 1.0])
    ax.set_ylabel("a label pushed off the canvas")
    assert any("cut off" in p for p in plots.layout_problems(fig2))
    fig3, ax3 = plt.subplots(figsize=(6, 4), layout="constrained")
    ax3.set_title("fine"); ax3.set_xlabel("generation"); ax3.set_ylabel("value")
    assert plots.layout_problems(fig3) == []
    plt.close("all")
