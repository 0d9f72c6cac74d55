"""Interactive explorers built on ipywidgets (the API common to 7.7 and 8).

An :class:`Explorer` ties a few controls to a ``draw(**values) -> Figure``
function: when any control's ``value`` changes, the figure is recomputed and
shown in an ``Output`` below the controls. Lessons build their explorers as
small functions in their topic modules; tests drive them headlessly by
setting ``control.value`` and inspecting ``explorer.figure``,
``explorer.n_draws`` and ``explorer.last_result``.

Only ``IntSlider``, ``FloatSlider``, ``Dropdown``, ``ToggleButtons``,
``Checkbox``, ``HBox``, ``VBox``, ``HTML``, ``Output`` and ``observe(...,
names="value")`` are used: all exist with the same meaning in ipywidgets 7.7.1
(Colab) and 8.x.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import ipywidgets as W
import matplotlib.pyplot as plt

_STYLE = {"description_width": "initial"}


def int_slider(description: str, value: int, min: int, max: int, step: int = 1, **kw) -> W.IntSlider:
    """An ``IntSlider`` that redraws on release (``continuous_update=False``)."""
    return W.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style=_STYLE, **kw)


def float_slider(description: str, value: float, min: float, max: float, step: float = 0.01,
                 readout_format: str = ".2f", **kw) -> W.FloatSlider:
    """A ``FloatSlider`` that redraws on release (``continuous_update=False``)."""
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         readout_format=readout_format, continuous_update=False, style=_STYLE, **kw)


def dropdown(description: str, options, value=None, **kw) -> W.Dropdown:
    options = list(options)
    return W.Dropdown(options=options, value=options[0] if value is None else value,
                      description=description, style=_STYLE, **kw)


def toggle(description: str, options, value=None, **kw) -> W.ToggleButtons:
    options = list(options)
    return W.ToggleButtons(options=options, value=options[0] if value is None else value,
                           description=description, style=_STYLE, **kw)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


class Explorer:
    """Controls + a draw function + an output area that redraws on every change.

    Parameters
    ----------
    controls : dict name -> widget
        Each widget's ``value`` is passed to ``draw`` under its name.
    draw : callable(**values) -> matplotlib Figure, or (Figure, result)
        Builds a *new* figure from the control values. It may also return a
        ``(figure, result)`` pair; ``result`` (e.g. the numbers plotted) is kept
        in :attr:`last_result` for tests and for the learner.
    title : str
        Shown above the controls.
    auto_draw : bool
        Draw once immediately (default), so :attr:`figure` is ready.

    Attributes
    ----------
    figure, last_result, last_values, n_draws, last_draw_seconds, last_error
    """

    def __init__(self, controls: Mapping[str, W.Widget], draw: Callable[..., Any], *, title: str = "",
                 auto_draw: bool = True):
        if not controls:
            raise ValueError("`controls` must hold at least one widget.")
        if not callable(draw):
            raise TypeError("`draw` must be a callable that returns a matplotlib Figure.")
        self.controls = dict(controls)
        self.draw = draw
        self.output = W.Output()
        self.status = W.HTML(value="")
        header = [W.HTML(value=f"<b>{title}</b>")] if title else []
        rows = list(self.controls.values())
        self.ui = W.VBox(header + [W.HBox(rows[i:i + 3]) for i in range(0, len(rows), 3)]
                         + [self.status, self.output])
        self.figure = None
        self.last_result = None
        self.last_values: dict = {}
        self.last_error: str | None = None
        self.n_draws = 0
        self.last_draw_seconds = float("nan")
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        if auto_draw:
            self.redraw()

    def values(self) -> dict:
        """The current value of every control."""
        return {name: w.value for name, w in self.controls.items()}

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Recompute and show the figure for the current control values.

        A ``ValueError`` from the model (a setting outside its valid range) is
        shown as a message instead of a traceback; the previous figure is cleared
        so nothing stale is mistaken for the new setting.
        """
        values = self.values()
        start = time.perf_counter()
        try:
            out = self.draw(**values)
        except ValueError as exc:
            self.last_error = str(exc)
            self.status.value = f"<span style='color:firebrick'>⚠ {exc}</span>"
            self.output.clear_output()
            self.figure = None
            return
        fig, result = (out if isinstance(out, tuple) else (out, None))
        self.last_draw_seconds = time.perf_counter() - start
        self.last_error = None
        self.status.value = ""
        old = self.figure
        self.figure, self.last_result, self.last_values = fig, result, values
        self.n_draws += 1
        if _in_kernel():
            from IPython.display import display

            with self.output:
                self.output.clear_output(wait=True)
                display(fig)
        if old is not None and old is not fig:
            plt.close(old)
        plt.close(fig)  # shown through the Output only, never twice

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.ui)
        if self.figure is not None:  # first draw happened before a kernel display existed
            with self.output:
                self.output.clear_output(wait=True)
                display(self.figure)


def figure_data(fig) -> list:
    """The y-data of every line in a figure (for tests: did the plot change?)."""
    import numpy as np

    data = []
    for ax in fig.axes:
        for line in ax.get_lines():
            data.append(np.asarray(line.get_ydata(), dtype=float))
        for coll in ax.collections:
            try:
                data.append(np.asarray(coll.get_array() if coll.get_array() is not None else [], dtype=float))
            except (TypeError, ValueError):
                pass
    return data
