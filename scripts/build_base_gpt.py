"""Build the course's base GPT that ships inside collapse_kit (lessons 05-07).

A byte-level BPE tokenizer (2,048 tokens) is trained on the ``pretrain`` part of the
shipped Shakespeare corpus (:func:`collapse_kit.gpt.corpus_parts`: the first 90%), then the
``base`` preset of :data:`collapse_kit.gpt.PRESETS` is pre-trained on the same text with
:func:`collapse_kit.gpt.train`. The held-out 10% (``task`` + ``test``, plays the model never
reads) measures the validation loss. The weights are written in 16-bit floats (safetensors)
to ``collapse_kit/data/base_gpt/`` with the tokenizer and a record of how they were made
(command, seed, steps, loss curve, validation loss, wall time, versions).

Run from the repository root (CPU: about 40 minutes on 2 cores; no network)::

    python scripts/build_base_gpt.py                  # write collapse_kit/data/base_gpt/
    python scripts/build_base_gpt.py --out DIR        # somewhere else (the slow reproduction test)
    python scripts/build_base_gpt.py --steps 50 --out DIR   # a smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOCAB_SIZE = 2048
SEED = 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "collapse_kit" / "data" / "base_gpt"))
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the base preset's)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--eval-tokens", type=int, default=None,
                    help="held-out tokens per evaluation (default: 65,536 during training and "
                         "gpt.BASE_EVAL_TOKENS at the end; smaller for a smoke run)")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    import transformers

    from collapse_kit import gpt
    from collapse_kit.tokenizer import BPETokenizer

    t0 = time.time()
    parts = gpt.corpus_parts()
    tok = BPETokenizer.fit(parts["pretrain"], vocab_size=VOCAB_SIZE)
    train_ids = tok.encode(parts["pretrain"])
    held_ids = tok.encode(parts["held"])
    preset = gpt.get_preset("base")
    steps = args.steps or preset.steps
    model = gpt.build_model(tok.vocab_size, preset, seed=args.seed, device=args.device)
    final_tokens = min(args.eval_tokens or gpt.BASE_EVAL_TOKENS, gpt.BASE_EVAL_TOKENS)
    log = gpt.train(model, train_ids, steps=steps, preset=preset, valid=held_ids,
                    eval_tokens=min(args.eval_tokens or 65_536, 65_536),
                    seed=args.seed, progress=True, desc="pre-training the base GPT")
    train_s = time.time() - t0
    valid_loss = gpt.evaluate_loss(model, held_ids, max_tokens=final_tokens)
    command = " ".join(["python scripts/build_base_gpt.py"] + (argv if argv is not None else sys.argv[1:]))
    meta = {"preset": "base", "preset_fields": {k: v for k, v in vars(preset).items()}, "seed": args.seed,
            "steps": steps, "tokens_seen": steps * preset.batch_size * preset.block_size,
            "pretrain_tokens": int(len(train_ids)), "vocab_size": tok.vocab_size,
            "parameters": gpt.count_parameters(model), "valid_loss": valid_loss,
            "valid_tokens": final_tokens, "valid_text": "the held-out 10% of the corpus (corpus_parts()[\"held\"]), in order",
            "command": command, "device": args.device, "torch_threads": torch.get_num_threads(),
            "wall_s": round(train_s, 1), "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version(), "machine": platform.machine(), "complete": True,
            "log": log.dropna().to_dict(orient="list")}
    out = Path(args.out)
    gpt.save(out, model, tok, meta, half=True)
    # the number the shipped 16-bit weights give (what the tests re-check)
    shipped, _, _ = gpt.load(out, device="cpu")
    meta["valid_loss_fp16"] = gpt.evaluate_loss(shipped, held_ids, max_tokens=final_tokens)
    (out / gpt.META_FILE).write_text(json.dumps(meta, indent=1, default=float), encoding="utf-8")
    print(f"base GPT: {meta['parameters']:,} parameters, {steps} steps in {train_s / 60:.1f} min, "
          f"validation loss {valid_loss:.4f} nats/token (16-bit: {meta['valid_loss_fp16']:.4f}) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
