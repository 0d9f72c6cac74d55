"""Explorer machinery and the lesson-01 explorer, driven headlessly by setting `.value`.

Run twice by the test command: with ipywidgets 8 and with ipywidgets 7.7.1 (Colab)."""
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from collapse_kit import widgets as W
from collapse_kit.explorers import gaussian_explorer


def test_widget_explorer_redraws_when_a_control_changes():
    calls = []

    def draw(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [a, b])
        return fig, a + b

    e = W.Explorer({"a": W.int_slider("a", 1, 0, 10), "b": W.float_slider("b", 0.5, 0, 1)}, draw)
    assert e.n_draws == 1 and e.last_result == 1.5
    e.controls["a"].value = 4
    assert e.n_draws == 2 and e.last_result == 4.5 and calls[-1] == (4, 0.5)
    assert np.allclose(W.figure_data(e.figure)[0], [4, 0.5])
    assert isinstance(e.ui, ipywidgets.VBox)


def test_widget_explorer_shows_value_errors_instead_of_crashing():
    def draw(n):
        if n > 5:
            raise ValueError("`n` must be <= 5 (got 6).")
        fig, _ = plt.subplots()
        return fig

    e = W.Explorer({"n": W.int_slider("n", 1, 0, 10)}, draw)
    e.controls["n"].value = 6
    assert e.figure is None and "`n` must be <= 5" in e.last_error and "must be" in e.status.value
    e.controls["n"].value = 2
    assert e.last_error is None and e.figure is not None


def test_widget_explorer_validates_its_arguments():
    with pytest.raises(ValueError, match="controls"):
        W.Explorer({}, lambda: None)
    with pytest.raises(TypeError, match="draw"):
        W.Explorer({"a": W.int_slider("a", 1, 0, 2)}, None)


def test_gaussian_explorer_slider_changes_the_figure():
    e = gaussian_explorer(n_chains=200, generations=50)
    before = W.figure_data(e.figure)
    e.controls["sample_size"].value = 5
    after = W.figure_data(e.figure)
    assert e.n_draws == 2 and e.last_values["sample_size"] == 5
    assert not all(np.array_equal(a, b) for a, b in zip(before, after))
    # smaller M collapses faster: the final median variance drops
    assert np.median(e.last_result["variance"][:, -1]) < 0.5


def test_gaussian_explorer_real_fraction_enabled_only_when_used():
    e = gaussian_explorer(n_chains=100, generations=20)
    assert e.controls["real_fraction"].disabled
    e.controls["strategy"].value = "real fraction (fresh real data)"
    assert not e.controls["real_fraction"].disabled
    s = e.last_result["strategy"]
    assert s.real_fraction == pytest.approx(0.1) and s.fresh_real


def test_gaussian_explorer_draws_what_the_exact_engine_computes():
    from collapse_kit.gaussian import simulate_gaussian_chains
    from collapse_kit.history import values

    e = gaussian_explorer(n_chains=50, generations=20, sample_size=10, strategy="real fraction (fixed real set)",
                          real_fraction=0.3, seed=4)
    h = simulate_gaussian_chains(50, 20, 10, strategies=e.last_result["strategy"], seeds=4)
    np.testing.assert_array_equal(e.last_result["variance"], values(h, "variance"))


@pytest.mark.parametrize("strategy", ["replace", "accumulate", "real fraction (fixed real set)",
                                      "real fraction (fresh real data)"])
def test_gaussian_explorer_survives_extreme_values(strategy):
    e = gaussian_explorer(n_chains=100, generations=10)
    e.controls["strategy"].value = strategy
    for name, value in [("sample_size", 2), ("generations", 1000), ("real_fraction", 0.0),
                        ("real_fraction", 1.0), ("estimator", "unbiased"), ("sample_size", 1000)]:
        e.controls[name].value = value
        assert e.last_error is None, (name, value, e.last_error)
        assert np.all(np.isfinite(e.last_result["variance"]))
    # M = 2 after 1000 generations of replace: the plot must say it collapsed
    if strategy == "replace":
        e.controls["sample_size"].value = 2
        texts = " ".join(t.get_text() for ax in e.figure.axes for t in ax.texts)
        assert "collapsed" in texts


def test_widget_version_is_the_one_this_run_expects():
    """scripts/test.sh runs this file again in an overlay venv with Colab's ipywidgets 7.7.1."""
    import os

    expected = os.environ.get("COLLAPSE_KIT_EXPECT_IPYWIDGETS")
    if expected:
        assert ipywidgets.__version__ == expected
    assert int(ipywidgets.__version__.split(".")[0]) in (7, 8)
