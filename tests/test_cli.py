import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json

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
                                  check_dtype=False, check_categorical=False)
    # re-running finds everything done
    assert main(argv) == 0


def test_bad_arguments_fail_with_a_message(tmp_path, capsys):
    assert main(["finetune", "--preset", "tiny", "--n-blocks", "2", "--out", str(tmp_path)]) == 2
    assert "n_blocks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune"])  # --out is required


TINY = ["finetune", "--preset", "tiny", "--base-steps", "10", "--n-blocks", "8", "--n-test", "4",
        "--prompt-tokens", "8", "--new-tokens", "8", "--epochs", "1", "--num-beams", "2", "--quiet"]


@pytest.mark.parametrize("extra, word", [
    (["--generations", "0"], "generations"),
    (["--real-fraction", "1.5"], "real_fraction"),
    (["--seeds", "-1"], "seeds"),
    (["--device", "cuda"], "cuda"),
    (["--threads", "0"], "threads"),
])
def test_user_errors_are_one_line_before_any_training(tmp_path, monkeypatch, capsys, extra, word):
    if word == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path / "cache"))
    import collapse_kit.gpt as gpt

    monkeypatch.setattr(gpt, "base_model", lambda *a, **k: pytest.fail("trained before validating"))
    assert main(TINY + extra + ["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("collapse-kit: ") and word in err, err


def test_reused_folder_with_other_settings_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    out.mkdir()
    (out / "setup.json").write_text(json.dumps({**ft.FinetuneSetup(preset="tiny").__dict__, "epochs": 9.0}))
    import collapse_kit.gpt as gpt

    monkeypatch.setattr(gpt, "base_model", lambda *a, **k: pytest.fail("trained before validating"))
    assert main(TINY + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "other settings" in err, err


def test_unexpected_errors_print_one_line_and_the_log(tmp_path, monkeypatch, capsys):
    import collapse_kit.finetune as ftm

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(ftm, "run", broken)
    assert main(TINY + ["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "boom" in err and "full log" in err
    log = tmp_path / "collapse-kit-error.log"
    assert "Traceback" in log.read_text() and "ZeroDivisionError" in log.read_text()


def test_paper_scale_fails_at_once_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["finetune", "--preset", "opt-125m", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "facebook/opt-125m" in err and "HF_HUB_OFFLINE" in err
    assert not (tmp_path / "x").exists()
    with pytest.raises(RuntimeError, match="internet"):
        ft.check_paper_requirements("opt-125m")


def test_prepare_reports_what_it_cached_and_the_cold_start_time(monkeypatch, tmp_path, capsys):
    import time as _time

    from collapse_kit import cli

    monkeypatch.setenv("COLLAPSE_KIT_CACHE", str(tmp_path))
    calls = []

    def fake_steps(device, progress):
        def work():
            if not calls:
                _time.sleep(0.2)  # the first call computes; later calls find the cache
            calls.append(1)
        return {k: [(f"thing of lesson {k}", work)] for k in cli.PREPARE_LESSONS}

    monkeypatch.setattr(cli, "_prepare_steps", fake_steps)
    assert cli.main(["prepare", "--lessons", "05", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "lesson 05: thing of lesson 05: computed in" in out and str(tmp_path) in out
    assert cli.main(["prepare", "--lessons", "05", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "already cached" in out and "a cold start took 0 s" in out
    assert (tmp_path / "prepare.json").is_file()


def test_prepare_rejects_unknown_lessons_in_one_line(capsys):
    from collapse_kit import cli

    assert cli.main(["prepare", "--lessons", "99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lessons" in err


def test_help_states_the_defaults_the_run_uses(capsys):
    # the help once said "beam (default)" while the run sampled: every default it names comes from FinetuneSetup
    with pytest.raises(SystemExit):
        main(["finetune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    d = ft.FinetuneSetup()
    assert f"(default: {d.decoding})" in text and f"(default: {d.preset})" in text
    assert "beam (default" not in text
