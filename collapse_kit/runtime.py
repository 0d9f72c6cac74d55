"""Where the course runs: device, seeds, quick/full mode, Colab and a cache folder.

Notebooks never read environment variables themselves. They ask this module:

>>> from collapse_kit import pick
>>> n_chains = pick(full=1000, quick=50)   # 50 when COLLAPSE_KIT_QUICK=1

Quick mode shrinks *sizes* only; every code path is the same as in full mode.
"""
from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path

import numpy as np

QUICK_ENV = "COLLAPSE_KIT_QUICK"
CACHE_ENV = "COLLAPSE_KIT_CACHE"
DEVICE_ENV = "COLLAPSE_KIT_DEVICE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """True when the environment variable ``COLLAPSE_KIT_QUICK`` is set to 1/true/yes/on."""
    raw = os.environ.get(QUICK_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"`{QUICK_ENV}` must be one of 1/0, true/false, yes/no, on/off (got {raw!r}).")


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Use it for every size a notebook chooses (chains, generations, training
    steps); quick mode exists so the whole course runs under test in minutes.
    """
    return quick if is_quick() else full


def mode_name() -> str:
    return "quick" if is_quick() else "full"


def in_colab() -> bool:
    """True inside Google Colab (the ``google.colab`` module is loaded)."""
    return "google.colab" in sys.modules


def get_device(prefer: str | None = None) -> str:
    """Pick the best available torch device: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the ``COLLAPSE_KIT_DEVICE`` environment variable) forces one of
    ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for one that is absent raises a
    ``ValueError`` that says what is available. Returns the device as a string
    so this module never needs torch unless you ask for a device.
    """
    prefer = prefer or os.environ.get(DEVICE_ENV) or None
    if prefer is not None and prefer not in ("cuda", "mps", "cpu"):
        raise ValueError(f"`prefer` must be 'cuda', 'mps' or 'cpu' (got {prefer!r}).")
    try:
        import torch
    except ImportError:
        if prefer not in (None, "cpu"):
            raise ValueError(f"device {prefer!r} needs PyTorch, which is not installed.") from None
        return "cpu"
    has_cuda = torch.cuda.is_available()
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if prefer == "cuda" and not has_cuda:
        raise ValueError("`prefer='cuda'` but no CUDA GPU is visible; use 'cpu' (or 'mps' on Apple silicon).")
    if prefer == "mps" and not has_mps:
        raise ValueError("`prefer='mps'` but Apple MPS is not available; use 'cpu'.")
    if prefer:
        return prefer
    if has_cuda:
        return "cuda"
    if has_mps:
        return "mps"
    return "cpu"


def device_report(device: str | None = None) -> str:
    """One line: device (with GPU name), mode, Python and library versions, Colab or not."""
    from . import __version__

    device = device or get_device()
    name = device
    try:
        import torch

        if device == "cuda":
            name = f"cuda ({torch.cuda.get_device_name(0)})"
        torch_v = torch.__version__
    except ImportError:
        torch_v = "not installed"
    where = "Colab" if in_colab() else platform.system()
    return (f"collapse_kit {__version__} | device: {name} | mode: {mode_name()} "
            f"({QUICK_ENV}={'1' if is_quick() else '0'}) | Python {platform.python_version()} | "
            f"torch {torch_v} | {where}")


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) PyTorch; return a fresh ``numpy`` Generator.

    Library code in collapse_kit never uses global random state: every random
    function takes a ``seed`` or a Generator. This helper is for notebooks that
    also call torch or numpy directly.
    """
    from ._validate import check_seed

    seed = check_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass
    return np.random.default_rng(seed)


def cache_dir(*parts: str) -> Path:
    """A folder for checkpoints and run results, created on first use.

    Order: ``$COLLAPSE_KIT_CACHE``; on Colab with Google Drive mounted,
    ``/content/drive/MyDrive/collapse_kit`` (so runs survive a disconnect);
    otherwise ``~/.cache/collapse_kit``.
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        base = Path(root).expanduser()
    elif in_colab() and Path("/content/drive/MyDrive").is_dir():
        base = Path("/content/drive/MyDrive/collapse_kit")
    else:
        base = Path.home() / ".cache" / "collapse_kit"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup(seed: int = 0, *, style: bool = True) -> dict:
    """The first call of every notebook: seed, plot style, and a one-line report.

    Returns a dict with ``device``, ``quick`` and ``colab`` for later cells.
    """
    seed_everything(seed)
    if style:
        from .plots import set_style

        set_style()
    device = get_device()
    print(device_report(device))
    return {"device": device, "quick": is_quick(), "colab": in_colab(), "seed": seed}
