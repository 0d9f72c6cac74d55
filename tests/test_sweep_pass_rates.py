"""The one-off pass-rate tool of the seed sweeps (tests/sweep_pass_rates.py): counts, failures, workers."""
import sys
import textwrap

import numpy as np
import pytest
import sweep_pass_rates as spr


def test_holds_reads_bools_and_dicts_of_checks():
    assert spr.holds(True) and spr.holds(np.True_) and not spr.holds(np.False_)
    assert spr.holds({"a": np.True_, "b": True, "detail": 0.0})        # details (numbers) are not checks
    assert not spr.holds({"a": True, "b": np.False_, "detail": 2.5})


def test_the_suite_reads_a_dict_of_checks_the_same_way(monkeypatch):
    """A sweep that returns its named checks fails the suite when one fails (a non-empty dict is truthy)."""
    from conftest import assert_holds_for_many_seeds

    monkeypatch.setenv("COLLAPSE_KIT_SWEEP_SEEDS", "3")
    assert_holds_for_many_seeds(lambda seed: {"ok": np.True_, "detail": 0.0})
    with pytest.raises(AssertionError, match="2/3 seeds pass"):
        assert_holds_for_many_seeds(lambda seed: {"ok": seed != 101, "detail": 1.0})


def test_print_pass_rate_counts_a_zero_detail_as_held(capsys):
    # a detail that rounds to 0.0 (lesson 06's arms' spread, seed 203) once counted the seed as failed
    from conftest import print_pass_rate

    print_pass_rate(lambda seed: {"check": seed != 1, "spread": 0.0}, ["x", "0", "3"])
    assert capsys.readouterr().out.strip().endswith("2/3 seeds hold")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_counts_failures_per_check_in_one_process_or_several(tmp_path, monkeypatch, capsys, workers):
    (tmp_path / "fake_sweep.py").write_text(textwrap.dedent("""
        def nb01_even(seed):
            return seed % 2 == 0

        def nb02_all(seed):
            return {"ok": seed != 5, "value": float(seed)}

        def helper(seed):
            return False
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    spr.main(["sweep_pass_rates.py", "2", "4", "fake_sweep", "--workers", workers])
    out = capsys.readouterr().out
    assert "fake_sweep::nb01_even: 2/4 seeds hold (failed: [3, 5])" in out
    assert "fake_sweep::nb02_all: 3/4 seeds hold (failed: [5])" in out
    assert "helper" not in out
    spr.main(["sweep_pass_rates.py", "2", "4", "fake_sweep", "--only", "nb02_all"])
    assert "nb01_even" not in capsys.readouterr().out
    sys.modules.pop("fake_sweep", None)


def test_bad_counts_are_one_line_errors(capsys):
    with pytest.raises(SystemExit) as err:
        spr.main(["sweep_pass_rates.py", "100", "0", "test_gaussian"])
    assert err.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_make_sweep_full_names_only_checks_that_exist():
    # `--only` with a misspelt or renamed check would sweep nothing and print nothing for it
    import re
    from pathlib import Path

    recipe = re.search(r"^sweep-full:.*?\n((?:\t.*\n)+)", (Path(__file__).parents[1] / "Makefile").read_text(), re.M)
    words = recipe.group(1).replace("\\\n", " ").split()
    modules = [w for w in words if w.startswith("test_seed_sweep_")]
    only = [words[i + 1] for i, w in enumerate(words) if w == "--only"]
    assert modules and only
    found = {name for m in modules for name, _ in spr.checks_of(m, only=only)}
    assert sorted(set(only) - found) == []
    assert "nb07_filter_run_asserts" in found and "nb05_character_model_asserts" in found
