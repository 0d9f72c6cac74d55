"""The run store: atomic generations, manifests, quarantine, resume after faults (issue 14)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from collapse_kit.store import MANIFEST, Store, StoreError, verify

WORKER = textwrap.dedent('''
    import sys, time, numpy as np
    from collapse_kit.gaussian import GaussianModel, loop_metrics, normal_source
    from collapse_kit.loop import run_generations
    from collapse_kit.strategies import Strategy

    class Saved(GaussianModel):
        def save(self, folder):
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "params.npy", np.stack([self.mu_, self.sigma2_]))
        def load(self, folder):
            self.mu_, self.sigma2_ = np.load(folder / "params.npy")
            return self

    def slow(ctx):
        time.sleep(float(sys.argv[2]))
        return ctx.model0.mu_ - ctx.model.mu_

    metrics = dict(loop_metrics(), drift=slow)
    h = run_generations(Saved, real_sampler=normal_source(), sample_size=20, n_chains=3, generations=4, seeds=[0, 1],
                        strategies=[Strategy("replace"), Strategy("accumulate_subsample"),
                                    Strategy("real_fraction", 0.5, fresh_real=True)],
                        metrics=metrics, store=sys.argv[1])
    h.to_csv(sys.argv[1] + ".csv", index=False)
''')


def _run(folder, delay="0", wait=True):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    p = subprocess.Popen([sys.executable, "-c", WORKER, str(folder), delay], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    return p


@pytest.mark.slow
def test_killed_and_corrupted_runs_resume_to_the_same_results(tmp_path):
    reference = tmp_path / "reference"
    _run(reference)
    want = pd.read_csv(str(reference) + ".csv")
    rng = np.random.default_rng(0)
    run = tmp_path / "run"
    for attempt in range(3):  # kill at random points, several times
        p = _run(run, delay="0.02", wait=False)
        time.sleep(float(rng.uniform(0.8, 2.0)))
        p.send_signal(signal.SIGKILL)
        p.wait()
    # corrupt files at random: flip bytes in one, truncate another, delete a third
    files = sorted(f for f in run.rglob("*") if f.is_file() and f.suffix in (".npy", ".json") and
                   f.name != "run.json" and ".bad-" not in str(f))
    assert len(files) >= 3, "the killed runs should have finished some generations"
    picks = rng.choice(len(files), size=3, replace=False)
    flip, trunc, gone = (files[i] for i in picks)
    data = bytearray(flip.read_bytes()); data[-1] ^= 0xFF; flip.write_bytes(bytes(data))
    trunc.write_bytes(trunc.read_bytes()[: max(1, trunc.stat().st_size // 2)])
    gone.unlink()
    _run(run)
    got = pd.read_csv(str(run) + ".csv")
    pd.testing.assert_frame_equal(got, want)
    assert list(run.rglob(f"*{'.tmp-'}*")) == []          # no temporary folders left behind
    assert len(list(run.rglob("*.bad-*"))) >= 1            # bad generations kept aside, not deleted
    for gen in run.rglob("gen=*"):
        if ".bad-" not in gen.name:
            assert verify(gen) is None


def test_save_load_verify_and_quarantine(tmp_path):
    from collapse_kit.strategies import Strategy

    store = Store(tmp_path / "r", describe={"M": 5})
    s = Strategy("accumulate")
    folder = store.save(0, 1, s, samples=np.arange(6.0).reshape(2, 3), metrics={"m": [1.0, 2.0]})
    assert folder.name == "gen=01" and (folder / MANIFEST).is_file() and verify(folder) is None
    got = store.load(0, 1, s)
    np.testing.assert_array_equal(got["samples"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(got["metrics"]["m"], [1.0, 2.0])
    (folder / "samples.npy").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=r"samples.npy.*recompute"):
        assert store.load(0, 1, s) is None
    assert not folder.exists() and len(list(folder.parent.glob("gen=01.bad-*"))) == 1
    assert store.load(0, 2, s) is None  # missing: simply not done yet


def test_a_folder_of_another_run_is_refused(tmp_path):
    Store(tmp_path, describe={"M": 5})
    with pytest.raises(StoreError, match="different run"):
        Store(tmp_path, describe={"M": 6})


def test_paths_with_tmp_in_them_work(tmp_path):
    """No logic depends on the user's path (issue 14: a '.tmp' in the path dropped every result)."""
    from collapse_kit.gaussian import GaussianModel, loop_metrics
    from collapse_kit.loop import run_generations

    real = np.random.default_rng(0).normal(size=20)
    kw = dict(generations=2, metrics=loop_metrics(), n_chains=2)
    a = run_generations(GaussianModel, real, store=tmp_path / "x.tmp" / "run.tmp-abc", **kw)
    b = run_generations(GaussianModel, real, store=tmp_path / "x.tmp" / "run.tmp-abc", **kw)  # all restored
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3 * 2 * 3


def test_stale_temporary_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / "seed=0" / f"gen=00.tmp-{dead}"
    stale.mkdir(parents=True)
    mine = tmp_path / "seed=0" / f"gen=01.tmp-{os.getpid()}"
    mine.mkdir()
    Store(tmp_path)
    assert not stale.exists() and mine.exists()
