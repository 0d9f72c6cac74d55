"""collapse_kit: the helper package of the collapse-kit course on model collapse.

One idea runs through every lesson, the generational loop: a model is fitted
to data, samples new data, and the next generation is fitted to a mix of real
and synthetic data chosen by a *data strategy*. See :mod:`collapse_kit.loop`.
"""
__version__ = "0.1.0"

from .runtime import get_device, in_colab, is_quick, pick, seed_everything, setup  # noqa: E402,F401

__all__ = ["__version__", "get_device", "in_colab", "is_quick", "pick", "seed_everything", "setup"]
