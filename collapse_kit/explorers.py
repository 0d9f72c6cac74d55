"""Every interactive explorer of the course, in one place.

An explorer is a few controls (:mod:`collapse_kit.widgets`) tied to a figure function of
:mod:`collapse_kit.plots`: moving a control recomputes the figure from a run of the
generational loop (or of the exact Gaussian engine, or a cached grid of runs). Tests drive
them headlessly by setting ``control.value``.
"""
from __future__ import annotations

# --------------------------------------------------------------------------- gaussian (lessons 00-01)

# --------------------------------------------------------------------------- discrete and mixtures (lesson 02)

# --------------------------------------------------------------------------- images (lesson 03)

# --------------------------------------------------------------------------- strategy comparisons and regression (lesson 04)

# --------------------------------------------------------------------------- language models (lessons 05-06)
