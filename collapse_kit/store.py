"""A run folder that saves each generation as it completes, so a run can stop and resume.

Layout (one folder per finished generation)::

    root/
      run.json                          what the run is (checked on resume)
      seed=0/gen=00/                    generation 0, shared by every strategy
      seed=0/<strategy key>/gen=01/     generation 1 of one strategy
        samples.npy                     the generation's samples (n_chains, M, *item)
        metrics.json                    {metric: [value per chain]}
        model/                          the fitted model, if it has save()/load()
        MANIFEST.json                   file names, sizes and sha256, written last

A generation folder is written under a temporary name and renamed into place
only when complete (``os.replace`` is atomic), so a killed run never leaves a
half-written generation under a real name. On resume every folder is checked
against its manifest; a folder that fails the check is moved aside to
``<name>.bad-<time>`` (never deleted) and recomputed. Temporary folders of
processes that no longer run are removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

MANIFEST = "MANIFEST.json"
RUN_FILE = "run.json"
TMP_MARK = ".tmp-"


class StoreError(RuntimeError):
    """A run folder that cannot be used as it is; the message names the file and what to do."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


def write_manifest(folder: Path) -> dict:
    """Write ``MANIFEST.json`` listing every file below ``folder`` (call last)."""
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            files[str(p.relative_to(folder))] = {"size": p.stat().st_size, "sha256": sha256(p)}
    manifest = {"files": files, "written": time.time()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def verify(folder: Path) -> str | None:
    """``None`` if ``folder`` matches its manifest, else a sentence naming the bad file."""
    path = folder / MANIFEST
    if not path.is_file():
        return f"{path} is missing (the generation never finished writing)"
    try:
        files = json.loads(path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        return f"{path} is not a valid manifest"
    for name, info in files.items():
        p = folder / name
        if not p.is_file():
            return f"{p} is missing"
        if p.stat().st_size != info["size"]:
            return f"{p} has {p.stat().st_size} bytes, the manifest says {info['size']} (truncated or changed)"
        if sha256(p) != info["sha256"]:
            return f"{p} does not match its sha256 in the manifest (corrupted or changed)"
    return None


class Store:
    """Saves and reloads the generations of :func:`collapse_kit.loop.run_generations`.

    Parameters
    ----------
    root : path
        The run folder (created if missing).
    describe : dict, optional
        What the run is (sizes, strategies' settings...). Saved in ``run.json``; a later run
        in the same folder with a different description stops with a clear error instead of
        mixing two experiments.
    """

    def __init__(self, root, describe: dict | None = None):
        self.root = Path(root)
        self.quarantined: list[Path] = []
        self.root.mkdir(parents=True, exist_ok=True)
        self.clean_stale()
        if describe is not None:
            self.check_description(describe)

    # ------------------------------------------------------------------ bookkeeping
    def check_description(self, describe: dict) -> None:
        path = self.root / RUN_FILE
        text = json.dumps(describe, sort_keys=True, default=str)
        if path.is_file():
            try:
                old = json.dumps(json.loads(path.read_text()), sort_keys=True, default=str)
            except ValueError:
                raise StoreError(f"{path} is not valid JSON: delete it (the run's generations stay) and re-run.") \
                    from None
            if old != text:
                raise StoreError(f"{self.root} holds a different run ({path} differs from this one's settings): "
                                 f"choose another folder or delete this one.")
        else:
            tmp = path.with_name(path.name + f"{TMP_MARK}{os.getpid()}")
            tmp.write_text(json.dumps(describe, sort_keys=True, indent=1, default=str))
            os.replace(tmp, path)

    def clean_stale(self) -> list[Path]:
        """Remove temporary folders left by processes that no longer run."""
        removed = []
        for p in self.root.rglob(f"*{TMP_MARK}*"):
            try:
                pid = int(p.name.rsplit(TMP_MARK, 1)[1])
            except ValueError:
                continue
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p)
        return removed

    def folder(self, seed: int, generation: int, strategy=None) -> Path:
        """The folder of one generation (generation 0 has no strategy)."""
        base = self.root / f"seed={seed}"
        if generation == 0:
            return base / "gen=00"
        return base / strategy.key / f"gen={generation:02d}"

    # ------------------------------------------------------------------ save / load
    def save(self, seed: int, generation: int, strategy, *, samples: np.ndarray, metrics: dict,
             model=None, extra: dict | None = None) -> Path:
        """Write one finished generation atomically; returns its folder."""
        final = self.folder(seed, generation, strategy)
        tmp = final.with_name(final.name + f"{TMP_MARK}{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "samples.npy", np.asarray(samples))
        (tmp / "metrics.json").write_text(json.dumps({k: np.asarray(v, dtype=float).tolist()
                                                      for k, v in metrics.items()}))
        if extra:
            (tmp / "extra.json").write_text(json.dumps(extra, default=str))
        if model is not None and hasattr(model, "save"):
            model.save(tmp / "model")
        write_manifest(tmp)
        if final.exists():  # another process finished first, or a stale folder: keep a copy aside
            self._quarantine(final, "replaced by a newer complete copy")
        os.replace(tmp, final)
        return final

    def _quarantine(self, folder: Path, why: str) -> Path:
        dest = folder.with_name(f"{folder.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.replace(folder, dest)
        (dest / "WHY.txt").write_text(why + "\n")
        self.quarantined.append(dest)
        return dest

    def load(self, seed: int, generation: int, strategy=None) -> dict | None:
        """A verified generation as ``{"samples", "metrics", "folder", "extra"}``, or ``None`` if it
        is missing. A folder that fails verification is quarantined (and ``None`` returned), so
        the caller recomputes it."""
        folder = self.folder(seed, generation, strategy)
        if not folder.is_dir():
            return None
        problem = verify(folder)
        if problem is None:
            try:
                samples = np.load(folder / "samples.npy", allow_pickle=False)
                metrics = {k: np.asarray(v, dtype=float) for k, v in
                           json.loads((folder / "metrics.json").read_text()).items()}
                extra_path = folder / "extra.json"
                extra = json.loads(extra_path.read_text()) if extra_path.is_file() else {}
            except (ValueError, OSError) as exc:
                problem = f"{folder}: cannot read ({exc})"
        if problem is not None:
            dest = self._quarantine(folder, problem)
            import warnings

            warnings.warn(f"{problem}; moved it to {dest.name} and will recompute this generation.",
                          stacklevel=2)
            return None
        return {"samples": samples, "metrics": metrics, "folder": folder, "extra": extra}

    def load_model(self, model, seed: int, generation: int, strategy=None):
        """Load the saved model of a generation into ``model`` (needs ``model.load(folder)``)."""
        folder = self.folder(seed, generation, strategy) / "model"
        if not hasattr(model, "load") or not folder.exists():
            return None
        loaded = model.load(folder)
        return model if loaded is None else loaded
