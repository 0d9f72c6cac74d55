import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pandas as pd
import pytest
import torch

from collapse_kit import finetune as ft
from collapse_kit.cli import main

torch.set_num_threads(1)


def test_finetune_command_writes_tables_and_plots(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    argv = ["finetune", "--preset", "tiny", "--base-steps", "10", "--generations", "1", "--real-fraction", "0",
            "0.5", "--seeds", "0", "--n-blocks", "8", "--n-test", "4", "--prompt-tokens", "8", "--new-tokens", "8",
            "--epochs", "1", "--num-beams", "2", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "mean perplexity of real test text" in text
    for name in ("history.csv", "examples.csv", "ppl.csv", "test_ppl.png", "ppl_hist.png"):
        assert (out / "results" / name).is_file(), name
    history = pd.read_csv(out / "results" / "history.csv")
    assert set(history["real_fraction"]) == {0.0, 0.5} and set(history["generation"]) == {0, 1}
    # the notebook reads the same folder
    pd.testing.assert_frame_equal(ft.load_results(out).history.reset_index(drop=True), history,
                                  check_dtype=False)
    # re-running finds everything done
    assert main(argv) == 0


def test_bad_arguments_fail_with_a_message(tmp_path, capsys):
    assert main(["finetune", "--preset", "tiny", "--n-blocks", "2", "--out", str(tmp_path)]) == 2
    assert "n_blocks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune"])  # --out is required


def test_paper_scale_fails_at_once_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["finetune", "--preset", "opt-125m", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "facebook/opt-125m" in err and "HF_HUB_OFFLINE" in err
    assert not (tmp_path / "x").exists()
    with pytest.raises(RuntimeError, match="internet"):
        ft.check_paper_requirements("opt-125m")
