"""Benchmark the course GPT (collapse_kit.gpt) against a minimal plain-PyTorch GPT.

Same size, same data, same batches, same optimiser and schedule (both go through
``collapse_kit.gpt.train``); only the network differs: Hugging Face's GPT-2 with
PyTorch's fused attention (``attn_implementation="sdpa"``) against a textbook
GPT written in plain PyTorch with explicit (unfused) attention, as in minGPT.

Prints training tokens/s and the validation loss after a fixed number of steps
for both, and generation tokens/s of the course GPT with and without the KV cache.

    python benchmarks/bench_gpt.py                       # CPU, the `cpu` preset, 2 threads
    python benchmarks/bench_gpt.py --device cuda --preset gpu --steps 500   # on a GPU
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from collapse_kit import gpt
from collapse_kit.tokenizer import CharTokenizer


# --------------------------------------------------------------------------- the plain-PyTorch baseline
class Block(nn.Module):
    def __init__(self, d, n_head, block_size, dropout=0.0):
        super().__init__()
        self.n_head = n_head
        self.drop_att, self.drop_res = nn.Dropout(dropout), nn.Dropout(dropout)  # where GPT-2 puts them
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = self.drop_att(att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1))
        return self.drop_res(self.proj((att @ v).transpose(1, 2).contiguous().view(b, t, d)))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.drop_res(self.mlp(self.ln2(x)))


class PlainGPT(nn.Module):
    """A minimal GPT: token + position embeddings, pre-LayerNorm blocks, tied output layer,
    initialised like GPT-2 (and nanoGPT), with dropout where GPT-2 has it (embeddings, attention weights,
    residual branches), so that only the implementation differs."""

    def __init__(self, vocab_size, n_layer, n_head, n_embd, block_size, dropout=0.0):
        super().__init__()
        self.config = SimpleNamespace(vocab_size=vocab_size, n_positions=block_size)
        self.wte, self.wpe = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, block_size, dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2 / nanoGPT: residual projections scaled by 1/sqrt(2 * layers)
            for proj in (block.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids, **_):
        t = input_ids.shape[1]
        x = self.drop(self.wte(input_ids) + self.wpe(torch.arange(t, device=input_ids.device)))
        for block in self.blocks:
            x = block(x)
        return SimpleNamespace(logits=self.ln_f(x) @ self.wte.weight.T)


# --------------------------------------------------------------------------- measurements
def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_throughput(models, train_ids, preset, device, chunk=10, reps=5):
    """Training tokens/s of each model: interleaved chunks of steps, best of ``reps`` (robust to a busy machine)."""
    best = {name: 0.0 for name in models}
    for name, model in models.items():  # warm-up (allocations, kernels)
        gpt.train(model, train_ids, steps=2, preset=preset, seed=1)
    for rep in range(reps):
        for name, model in models.items():
            sync(device)
            start = time.perf_counter()
            gpt.train(model, train_ids, steps=chunk, preset=preset, seed=rep)
            sync(device)
            best[name] = max(best[name], chunk * preset.batch_size * preset.block_size / (time.perf_counter() - start))
    return best


def bench_loss(model, train_ids, valid_ids, preset, steps, device, eval_tokens, seed=0):
    """Validation loss after a fixed budget of ``steps`` (same batches and schedule for every model)."""
    sync(device)
    start = time.perf_counter()
    gpt.train(model, train_ids, steps=steps, preset=preset, seed=seed)
    sync(device)
    seconds = time.perf_counter() - start
    return gpt.evaluate_loss(model, valid_ids, block_size=preset.block_size, max_tokens=eval_tokens), seconds


def bench_generation(model, prompts, new_tokens, use_cache, device):
    gpt.generate(model, prompts[:2], 4, method="greedy", use_cache=use_cache)  # warm-up
    sync(device)
    start = time.perf_counter()
    gpt.generate(model, prompts, new_tokens, method="greedy", use_cache=use_cache)
    sync(device)
    return prompts.shape[0] * new_tokens / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--steps", type=int, default=200, help="training steps per model (fixed budget)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds of the fixed-budget loss runs (mean ± sd reported)")
    parser.add_argument("--reps", type=int, default=5, help="interleaved timing repeats (best is kept)")
    parser.add_argument("--eval-tokens", type=int, default=65_536)
    parser.add_argument("--gen-prompts", type=int, default=16)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from collapse_kit.text import corpus_splits

    preset = gpt.get_preset(args.preset)
    train_text, held = corpus_splits(0.1)
    tok = CharTokenizer.fit(train_text + held)
    train_ids, valid_ids = tok.encode(train_text), tok.encode(held[len(held) // 2:])

    def fresh(seed=0):
        course = gpt.build_model(tok.vocab_size, preset, seed=seed, device=args.device)
        torch.manual_seed(seed)
        plain = PlainGPT(tok.vocab_size, preset.n_layer, preset.n_head, preset.n_embd, preset.block_size,
                         preset.dropout)
        return {"plain": plain.to(args.device), "course": course}

    models = fresh()
    results = {"device": args.device if args.device == "cpu" else torch.cuda.get_device_name(0),
               "threads": args.threads, "preset": args.preset, "steps": args.steps,
               "parameters": {k: gpt.count_parameters(m) for k, m in models.items()},
               "cpu": platform.processor() or platform.machine(), "torch": torch.__version__}
    speed = bench_throughput(models, train_ids, preset, args.device, reps=args.reps)
    losses = {name: [] for name in models}
    for seed in args.seeds:  # same init seed and batch order for both models
        models = fresh(seed)
        for name, model in models.items():
            loss, secs = bench_loss(model, train_ids, valid_ids, preset, args.steps, args.device,
                                    args.eval_tokens, seed=seed)
            losses[name].append(loss)
    for name in models:
        results[name] = {"train_tokens_per_s": speed[name], "valid_loss": float(np.mean(losses[name])),
                         "valid_loss_sd": float(np.std(losses[name], ddof=1)) if len(losses[name]) > 1 else 0.0,
                         "valid_losses": losses[name]}
    course = models["course"]
    prompts = gpt.as_blocks(valid_ids, 32)[: args.gen_prompts]
    new = preset.block_size - 32
    results["generation"] = {"prompts": int(len(prompts)), "new_tokens": new,
                             "no_cache_tokens_per_s": bench_generation(course, prompts, new, False, args.device),
                             "kv_cache_tokens_per_s": bench_generation(course, prompts, new, True, args.device)}
    c, p, g = results["course"], results["plain"], results["generation"]
    print(f"device {results['device']} ({args.threads} threads), preset {args.preset}, "
          f"{results['parameters']['course']:,} parameters (plain: {results['parameters']['plain']:,}), "
          f"{args.steps} steps x {preset.batch_size} x {preset.block_size} tokens")
    print("training tokens/s: best of interleaved 10-step chunks; validation loss: after the full budget")
    print(f"| model | train tokens/s | valid loss after the budget (mean ± sd, seeds {args.seeds}) |")
    print("|---|---|---|")
    print(f"| plain PyTorch GPT (explicit attention) | {p['train_tokens_per_s']:,.0f} | "
          f"{p['valid_loss']:.3f} ± {p['valid_loss_sd']:.3f} |")
    print(f"| course GPT (transformers GPT-2, sdpa) | {c['train_tokens_per_s']:,.0f} | "
          f"{c['valid_loss']:.3f} ± {c['valid_loss_sd']:.3f} |")
    print(f"throughput ratio course/plain: {c['train_tokens_per_s'] / p['train_tokens_per_s']:.2f}; "
          f"loss difference course - plain: {c['valid_loss'] - p['valid_loss']:+.3f}")
    print(f"generation ({g['prompts']} prompts x {g['new_tokens']} new tokens, greedy): "
          f"{g['no_cache_tokens_per_s']:,.0f} tokens/s without cache, {g['kv_cache_tokens_per_s']:,.0f} with "
          f"KV cache (x{g['kv_cache_tokens_per_s'] / g['no_cache_tokens_per_s']:.1f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return results


if __name__ == "__main__":
    main()
