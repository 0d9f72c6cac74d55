import numpy as np
import pytest

from collapse_kit import runtime


def test_pick_follows_quick_env(monkeypatch):
    monkeypatch.setenv(runtime.QUICK_ENV, "1")
    assert runtime.is_quick() and runtime.pick(full=1000, quick=10) == 10
    monkeypatch.setenv(runtime.QUICK_ENV, "0")
    assert not runtime.is_quick() and runtime.pick(full=1000, quick=10) == 1000
    monkeypatch.delenv(runtime.QUICK_ENV)
    assert runtime.pick(full="full", quick="quick") == "full"


def test_bad_quick_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(runtime.QUICK_ENV, "maybe")
    with pytest.raises(ValueError, match="COLLAPSE_KIT_QUICK"):
        runtime.is_quick()


def test_device_is_cpu_here_and_bad_preference_is_rejected():
    assert runtime.get_device() in ("cpu", "cuda", "mps")
    assert runtime.get_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="prefer"):
        runtime.get_device("tpu")


def test_forcing_a_missing_cuda_says_what_to_do():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        runtime.get_device("cuda")


def test_seed_everything_is_reproducible():
    a = runtime.seed_everything(3).normal(size=4)
    b = runtime.seed_everything(3).normal(size=4)
    np.testing.assert_array_equal(a, b)
    import torch

    runtime.seed_everything(5)
    t1 = torch.rand(3)
    runtime.seed_everything(5)
    assert torch.equal(t1, torch.rand(3))
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(-1)


def test_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path / "c"))
    p = runtime.cache_dir("runs", "x")
    assert p.is_dir() and p == tmp_path / "c" / "runs" / "x"


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    import sys
    import types

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert runtime.in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert runtime.in_colab() is True


def test_setup_reports_mode(capsys, monkeypatch):
    monkeypatch.setenv(runtime.QUICK_ENV, "1")
    info = runtime.setup(seed=1)
    out = capsys.readouterr().out
    assert "mode: quick" in out and "device:" in out
    assert info["quick"] is True and info["device"] in ("cpu", "cuda", "mps")
