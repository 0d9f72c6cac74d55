"""The script that builds the shipped base GPT: a smoke run here, the full reproduction in `make test-slow`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_base_gpt.py"


def _build(out: Path, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *args], check=True, env=env,
                   capture_output=True, text=True)
    return json.loads((out / "collapse_kit.json").read_text())


def test_build_script_smoke_run_writes_a_loadable_model(tmp_path):
    from collapse_kit import gpt

    meta = _build(tmp_path, "--steps", "2", "--eval-tokens", "1024")
    assert meta["steps"] == 2 and meta["complete"] and meta["command"].endswith("--steps 2 --eval-tokens 1024")
    model, tok, _ = gpt.load(tmp_path, device="cpu")
    shipped = json.loads((gpt.BASE_DIR / "collapse_kit.json").read_text())
    assert tok == gpt.load_base(device="cpu")[1]  # the same tokenizer as the shipped model (BPE training is deterministic)
    assert gpt.count_parameters(model) == shipped["parameters"]
    assert (tmp_path / "model.safetensors").stat().st_size < 0.6 * 4 * shipped["parameters"]  # 16-bit weights


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("COLLAPSE_KIT_SLOW") != "1",
                    reason="rebuilds the base GPT (about 40 minutes on 2 cores): run `make test-slow`")
def test_build_script_reproduces_the_shipped_model(tmp_path):
    from collapse_kit import gpt

    meta = _build(tmp_path)
    shipped = json.loads((gpt.BASE_DIR / "collapse_kit.json").read_text())
    assert meta["steps"] == shipped["steps"] and meta["seed"] == shipped["seed"]
    # same code, seed and data: the same loss up to float summation order (thread count, CPU model)
    assert abs(meta["valid_loss_fp16"] - shipped["valid_loss_fp16"]) < 0.02
