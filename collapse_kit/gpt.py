"""A tiny GPT for the course: build, train, generate, score, save.

The network is Hugging Face ``transformers``' GPT-2 (built from a
``GPT2Config``, random weights, nothing downloaded) with PyTorch's fused
attention (``attn_implementation="sdpa"``). Everything around it is written out
here, nanoGPT-style, so a learner can read it top to bottom:

* :data:`PRESETS` - named sizes: ``tiny`` (tests, quick mode: seconds),
  ``cpu`` (a laptop: a few minutes on 2 cores), ``gpu`` and ``gpu-large``.
* :func:`train` - AdamW, linear warm-up then cosine decay, gradient clipping,
  mixed precision on CUDA (bf16 where supported, fp16 with loss scaling on older
  GPUs such as Colab's T4, see :func:`autocast_dtype`), validation loss,
  ``tqdm`` progress; deterministic under a seed on CPU.
* :func:`generate` - batched sampling with a KV cache (temperature, top-k,
  top-p), greedy decoding, and beam search (Shumailov et al. 2024 used 5-way
  beam search).
* :func:`sequence_nll` / :func:`perplexity` - per-sequence perplexity of any
  token blocks under any model.
* :func:`save` / :func:`load` - ``save_pretrained`` (safetensors) + the
  tokenizer's JSON; loading never unpickles anything.

Token data are numpy int arrays: a 1-D stream (pre-training on running text)
or a 2-D array of blocks, one sequence per row (fine-tuning, scoring).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ._validate import check_choice, check_float, check_int, check_seed
from .tokenizer import BPETokenizer, CharTokenizer, load_tokenizer

META_FILE = "collapse_kit.json"
#: Held-out tokens on which the shipped base model's validation loss is measured and re-checked.
BASE_EVAL_TOKENS = 131_072


# --------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class Preset:
    """Model size and training budget of a named configuration."""

    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    dropout: float
    batch_size: int
    steps: int
    lr: float
    warmup: int
    weight_decay: float = 0.1
    min_lr_ratio: float = 0.1
    note: str = ""


PRESETS: dict[str, Preset] = {
    "tiny": Preset(n_layer=2, n_head=2, n_embd=64, block_size=128, dropout=0.0, batch_size=16,
                   steps=150, lr=3e-3, warmup=15, note="tests and quick mode: seconds on a CPU"),
    "cpu": Preset(n_layer=4, n_head=4, n_embd=128, block_size=128, dropout=0.0, batch_size=16,
                  steps=1200, lr=2e-3, warmup=100, note="a laptop: a few minutes on 2 CPU cores"),
    "base": Preset(n_layer=6, n_head=6, n_embd=192, block_size=128, dropout=0.05, batch_size=32,
                   steps=2600, lr=1.5e-3, warmup=100,
                   note="the course's base model on BPE tokens: shipped trained (scripts/build_base_gpt.py, "
                        "about 40 min on 2 CPU cores), loaded in a second"),
    "gpu": Preset(n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2, batch_size=64,
                  steps=5000, lr=1e-3, warmup=100,
                  note="nanoGPT's shakespeare_char baseline size; minutes on a GPU"),
    "gpu-large": Preset(n_layer=8, n_head=8, n_embd=512, block_size=256, dropout=0.2, batch_size=64,
                        steps=8000, lr=6e-4, warmup=200, note="a larger GPU model (~25M parameters)"),
}


def get_preset(preset: str | Preset, **overrides) -> Preset:
    """A :class:`Preset` by name (see :data:`PRESETS`), with optional field overrides."""
    if isinstance(preset, Preset):
        p = preset
    else:
        p = PRESETS[check_choice("preset", preset, tuple(PRESETS))]
    return replace(p, **overrides) if overrides else p


# --------------------------------------------------------------------------- device and precision
def autocast_dtype(device: str, capability: tuple[int, int] | None = None) -> torch.dtype | None:
    """The mixed-precision dtype to train with on ``device`` (``None``: full fp32).

    CUDA GPUs of compute capability 8.0 or newer (A100, H100, RTX 30xx/40xx)
    get ``bfloat16``; older ones (Colab's T4 is 7.5, V100 is 7.0) get
    ``float16``, which needs loss scaling (:func:`train` adds a ``GradScaler``).
    CPU and Apple MPS train in fp32. ``capability`` overrides the detected one
    (for tests and for planning on a machine without that GPU).
    """
    check_choice("device", str(device).split(":")[0], ("cuda", "mps", "cpu"))
    if not str(device).startswith("cuda"):
        return None
    if capability is None:
        capability = torch.cuda.get_device_capability()
    return torch.bfloat16 if tuple(capability) >= (8, 0) else torch.float16


def _resolve_device(device: str | None) -> str:
    if device is None:
        from .runtime import get_device

        return get_device()
    return check_choice("device", str(device).split(":")[0], ("cuda", "mps", "cpu")) and str(device)


class _seeded:
    """Run a block under ``torch.manual_seed(seed)`` without touching the caller's global RNG."""

    def __init__(self, seed: int, device: str = "cpu"):
        self.seed, self.device = seed, device

    def __enter__(self):
        devices = [torch.cuda.current_device()] if str(self.device).startswith("cuda") else []
        self._ctx = torch.random.fork_rng(devices=devices)
        self._ctx.__enter__()
        torch.manual_seed(self.seed)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# --------------------------------------------------------------------------- model
def _quiet_transformers() -> None:
    """Silence transformers' own progress bars and advice (the course shows its own)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def build_model(vocab_size: int, preset: str | Preset = "cpu", *, seed: int = 0, device: str | None = None):
    """A randomly initialised GPT-2 (``transformers.GPT2LMHeadModel``) of a preset's size.

    Parameters
    ----------
    vocab_size : int >= 2
    preset : name in :data:`PRESETS` or a :class:`Preset`
    seed : int >= 0
        Seeds the initial weights (the global torch RNG is left untouched).
    device : "cpu", "cuda" or "mps"; default: the best available.
    """
    from transformers import AutoModelForCausalLM, GPT2Config

    _quiet_transformers()
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    p = get_preset(preset)
    seed = check_seed("seed", seed)
    device = _resolve_device(device)
    config = GPT2Config(vocab_size=vocab_size, n_positions=p.block_size, n_embd=p.n_embd,
                        n_layer=p.n_layer, n_head=p.n_head, resid_pdrop=p.dropout,
                        embd_pdrop=p.dropout, attn_pdrop=p.dropout, bos_token_id=None,
                        eos_token_id=None, pad_token_id=None, loss_type="ForCausalLM",
                        activation_function="gelu_pytorch_tanh")  # fused tanh-GELU kernel: same math, faster
    with _seeded(seed):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")  # public API: a GPT2LMHeadModel
    return model.to(device)


def count_parameters(model) -> int:
    """Number of distinct trainable parameters (tied embeddings counted once)."""
    seen, total = set(), 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


def model_device(model) -> str:
    return str(next(model.parameters()).device)


def block_size_of(model) -> int:
    cfg = model.config
    return int(getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings"))


# --------------------------------------------------------------------------- data
def as_blocks(ids, block_size: int) -> np.ndarray:
    """Cut a 1-D token stream into consecutive non-overlapping rows of ``block_size`` (drop the rest)."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"`ids` must be a 1-D token stream (got shape {ids.shape}).")
    block_size = check_int("block_size", block_size, low=2)
    n = len(ids) // block_size
    if n == 0:
        raise ValueError(f"`ids` holds {len(ids)} tokens, fewer than one block of {block_size}.")
    return ids[: n * block_size].reshape(n, block_size)


def _check_tokens(name: str, ids, vocab_size: int | None = None, ndim=(1, 2)) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integer token ids (got dtype {arr.dtype}).")
    if arr.ndim not in ndim:
        raise ValueError(f"`{name}` must have {' or '.join(map(str, ndim))} dimension(s) (got shape {arr.shape}).")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty.")
    if vocab_size is not None and (arr.min() < 0 or arr.max() >= vocab_size):
        raise ValueError(f"`{name}` holds token ids outside [0, {vocab_size - 1}].")
    return arr.astype(np.int64, copy=False)


def _batches(data: np.ndarray, block_size: int, batch_size: int, steps: int, rng: np.random.Generator):
    """Yield ``steps`` training batches: random windows of a stream, or shuffled rows of blocks."""
    if data.ndim == 1:
        if len(data) <= block_size:
            raise ValueError(f"the token stream ({len(data)} tokens) must be longer than block_size={block_size}.")
        offsets = np.arange(block_size)
        for _ in range(steps):
            starts = rng.integers(0, len(data) - block_size + 1, size=batch_size)
            yield data[starts[:, None] + offsets]
    else:
        order = np.empty(0, dtype=np.int64)
        for _ in range(steps):
            if len(order) < batch_size:  # a new epoch: reshuffle the rows
                order = np.concatenate([order, rng.permutation(len(data))])
            take, order = order[:batch_size], order[batch_size:]
            yield data[take]


# --------------------------------------------------------------------------- loss
def lm_loss(model, x: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Next-token cross-entropy of a batch of sequences ``x`` (shape batch × T).

    Position ``t`` predicts token ``t + 1``; the first token of each row is
    context only. ``reduction="none"`` returns the per-token losses (batch × T-1).
    """
    logits = model(input_ids=x, use_cache=False).logits[:, :-1]
    targets = x[:, 1:]
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), reduction=reduction)
    return loss if reduction == "mean" else loss.view(targets.shape)


@torch.no_grad()
def sequence_nll(model, blocks, *, batch_size: int = 64, device: str | None = None) -> np.ndarray:
    """Mean negative log-likelihood (nats/token) of every row of ``blocks`` under ``model``.

    Parameters
    ----------
    model : a causal LM (``GPT2LMHeadModel`` or any ``transformers`` causal LM)
    blocks : int array (n_sequences × T), T >= 2 and T <= the model's block size
        Token ids; the first token of each row is context only.

    Returns
    -------
    numpy array of n_sequences floats. ``np.exp`` of it is each sequence's perplexity.
    """
    blocks = _check_tokens("blocks", blocks, model.config.vocab_size, ndim=(2,))
    if blocks.shape[1] < 2 or blocks.shape[1] > block_size_of(model):
        raise ValueError(f"`blocks` rows must have 2 to {block_size_of(model)} tokens (got {blocks.shape[1]}).")
    batch_size = check_int("batch_size", batch_size, low=1)
    device = device or model_device(model)
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(blocks), batch_size):
        x = torch.tensor(blocks[i:i + batch_size], device=device)  # a copy: blocks may be a read-only view
        out.append(lm_loss(model, x, reduction="none").mean(dim=1).double().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out)


@torch.no_grad()
def continuation_nll(model, prompts, continuations, *, batch_size: int = 64) -> np.ndarray:
    """Mean NLL (nats/token) of each row of ``continuations`` given its prompt: how likely the model finds
    the text it (or anyone) wrote after each prompt. ``np.exp`` gives a perplexity."""
    prompts = _check_tokens("prompts", prompts, model.config.vocab_size, ndim=(2,))
    continuations = _check_tokens("continuations", continuations, model.config.vocab_size, ndim=(2,))
    if len(prompts) != len(continuations):
        raise ValueError(f"`prompts` and `continuations` must have the same number of rows "
                         f"({len(prompts)} != {len(continuations)}).")
    full = np.concatenate([prompts, continuations], axis=1)
    if full.shape[1] > block_size_of(model):
        raise ValueError(f"prompt + continuation must fit the block size {block_size_of(model)} (got {full.shape[1]}).")
    device = model_device(model)
    was_training = model.training
    model.eval()
    p = prompts.shape[1]
    out = []
    try:
        for i in range(0, len(full), batch_size):
            losses = lm_loss(model, torch.from_numpy(full[i:i + batch_size]).to(device), reduction="none")
            out.append(losses[:, p - 1:].mean(dim=1).double().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out)


def perplexity(model, blocks, *, batch_size: int = 64) -> np.ndarray:
    """Per-sequence perplexity ``exp(mean NLL)`` of every row of ``blocks`` (see :func:`sequence_nll`)."""
    return np.exp(sequence_nll(model, blocks, batch_size=batch_size))


def evaluate_loss(model, ids, *, block_size: int | None = None, max_tokens: int | None = None,
                  batch_size: int = 64) -> float:
    """Mean next-token loss (nats) over a token stream cut into consecutive blocks (deterministic)."""
    ids = _check_tokens("ids", ids, ndim=(1,))
    block_size = block_size or block_size_of(model)
    if max_tokens is not None:
        ids = ids[: check_int("max_tokens", max_tokens, low=block_size)]
    return float(np.mean(sequence_nll(model, as_blocks(ids, block_size), batch_size=batch_size)))


# --------------------------------------------------------------------------- training
def lr_at(step: int, *, lr: float, warmup: int, steps: int, min_lr_ratio: float = 0.1) -> float:
    """Learning rate at ``step``: linear warm-up for ``warmup`` steps, then cosine decay to ``min_lr_ratio*lr``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def train(model, data, *, steps: int | None = None, epochs: float | None = None,
          preset: str | Preset | None = None, batch_size: int | None = None, lr: float | None = None,
          warmup: int | None = None, weight_decay: float | None = None, grad_clip: float = 1.0,
          valid=None, eval_every: int | None = None, eval_tokens: int = 32_768, seed: int = 0,
          progress: bool = False, desc: str = "training", amp: bool = True, keep_best: bool = False) -> pd.DataFrame:
    """Train ``model`` in place on token ``data``; return the training log.

    Parameters
    ----------
    model : a ``transformers`` causal LM (e.g. from :func:`build_model`)
    data : int array
        1-D token stream (batches are random windows of the model's block size)
        or 2-D blocks (batches are shuffled rows, epoch after epoch).
    steps : int >= 1, optional
        Optimiser steps (default: the preset's). Or give ``epochs`` (2-D data
        only): ``steps = ceil(epochs * n_rows / batch_size)``.
    preset : the :class:`Preset` whose defaults fill ``batch_size``, ``lr``,
        ``warmup``, ``weight_decay`` and ``steps`` (default ``"cpu"``).
    grad_clip : float > 0
        Clip the gradient norm (the usual 1.0).
    valid : int array, optional
        Held-out tokens (1-D stream or 2-D blocks) for the validation loss,
        measured every ``eval_every`` steps and at the end.
    eval_tokens : int
        Tokens of ``valid`` used per evaluation (deterministic: the first ones).
    seed : int >= 0
        Seeds batch order, dropout and nothing else; the same seed on CPU gives
        the same weights.
    amp : bool
        Mixed precision on CUDA (see :func:`autocast_dtype`); ignored on CPU.
    keep_best : bool
        End with the weights of the evaluation with the lowest validation loss (the best
        checkpoint, as Shumailov et al. select each generation's model) instead of the last
        step's. Needs ``valid``.

    Returns
    -------
    pandas.DataFrame with columns ``step, lr, train_loss, valid_loss, best``
    (``valid_loss`` is NaN between evaluations; ``best`` marks the step whose weights the model
    ends with).
    """
    p = get_preset(preset or "cpu")
    block = block_size_of(model)
    data = _check_tokens("data", data, model.config.vocab_size)
    if data.ndim == 2 and data.shape[1] > block:
        raise ValueError(f"`data` rows have {data.shape[1]} tokens, more than the model's block size {block}.")
    batch_size = check_int("batch_size", batch_size if batch_size is not None else p.batch_size, low=1)
    if epochs is not None:
        if steps is not None:
            raise ValueError("give `steps` or `epochs`, not both.")
        if data.ndim != 2:
            raise ValueError("`epochs` needs 2-D block data; for a token stream give `steps`.")
        epochs = check_float("epochs", epochs, low=0, low_open=True)
        steps = max(1, math.ceil(epochs * len(data) / batch_size))
    steps = check_int("steps", steps if steps is not None else p.steps, low=1)
    lr = check_float("lr", lr if lr is not None else p.lr, low=0, low_open=True)
    warmup = check_int("warmup", warmup if warmup is not None else min(p.warmup, steps // 10 + 1), low=1)
    weight_decay = check_float("weight_decay", weight_decay if weight_decay is not None else p.weight_decay, low=0)
    grad_clip = check_float("grad_clip", grad_clip, low=0, low_open=True)
    seed = check_seed("seed", seed)
    if valid is not None:
        valid = _check_tokens("valid", valid, model.config.vocab_size)
    eval_every = check_int("eval_every", eval_every or max(1, steps // 10), low=1)
    if not isinstance(keep_best, bool):
        raise ValueError(f"`keep_best` must be True or False (got {keep_best!r}).")
    if keep_best and valid is None:
        raise ValueError("`keep_best=True` needs `valid` (held-out tokens to choose the best checkpoint by).")

    device = model_device(model)
    amp_dtype = autocast_dtype(device) if amp else None
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    # AdamW with weight decay on matrices only (not on biases and LayerNorm gains), as in nanoGPT.
    params = {id(q): q for q in model.parameters() if q.requires_grad}.values()
    decay = [q for q in params if q.dim() >= 2]
    no_decay = [q for q in params if q.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95),
                            fused=device.startswith("cuda"))

    def valid_loss() -> float:
        if valid is None:
            return float("nan")
        if valid.ndim == 1:
            return evaluate_loss(model, valid, block_size=block, max_tokens=max(block, min(len(valid), eval_tokens)))
        rows = max(1, eval_tokens // valid.shape[1])
        return float(np.mean(sequence_nll(model, valid[:rows])))

    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    log = []
    best_loss, best_step, best_state = float("inf"), steps, None
    model.train()
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False)
    with _seeded(seed, device):
        for step, batch in enumerate(_batches(data, block, batch_size, steps, rng)):
            for group in opt.param_groups:
                group["lr"] = lr_at(step, lr=lr, warmup=warmup, steps=steps, min_lr_ratio=p.min_lr_ratio)
            x = torch.from_numpy(batch).to(device, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=amp_dtype is not None):
                loss = lm_loss(model, x)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
            else:
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            opt.zero_grad(set_to_none=True)
            v = float("nan")
            if (step + 1) % eval_every == 0 or step + 1 == steps:
                v = valid_loss()
                model.train()
                if keep_best and v < best_loss:
                    best_loss, best_step = v, step + 1
                    best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            loss_value = loss.item()
            log.append((step + 1, opt.param_groups[0]["lr"], loss_value, v))
            # refresh=False: the bar redraws at tqdm's own pace (at most ten times a second), not once per
            # step; a fast GPU otherwise floods Jupyter's output channel and the notebook drops messages.
            bar.set_postfix(loss=f"{loss_value:.3f}", valid=f"{v:.3f}" if not math.isnan(v) else "-", refresh=False)
            bar.update(1)
    bar.close()
    if best_state is not None and best_step != steps:
        model.load_state_dict(best_state)
    model.eval()
    frame = pd.DataFrame(log, columns=["step", "lr", "train_loss", "valid_loss"])
    frame["best"] = frame["step"] == best_step
    return frame


# --------------------------------------------------------------------------- decoding
def filter_logits(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Scale and truncate next-token logits (last dimension = vocabulary).

    Divide by ``temperature``; keep the ``top_k`` largest; keep the smallest set
    of tokens whose probability adds up to at least ``top_p`` (nucleus
    sampling). Removed tokens get ``-inf``. ``softmax`` of the result is the
    sampling distribution.
    """
    temperature = check_float("temperature", temperature, low=0, low_open=True)
    logits = logits / temperature
    if top_k is not None:
        top_k = check_int("top_k", top_k, low=1)
        if top_k < logits.size(-1):
            kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        top_p = check_float("top_p", top_p, low=0, high=1, low_open=True)
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cum - torch.softmax(sorted_logits, dim=-1) >= top_p  # mass before this token already >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


@torch.no_grad()
def generate(model, prompts, max_new_tokens: int, *, method: str = "sample", temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, num_beams: int = 5, seed: int = 0,
             batch_size: int = 64, use_cache: bool = True, progress: bool = False,
             logits_processor=None, repetition_penalty: float = 1.0) -> np.ndarray:
    """Continue each prompt by ``max_new_tokens`` tokens; return the new tokens only.

    Parameters
    ----------
    model : a causal LM
    prompts : int array (n × T), all prompts the same length T >= 1
    max_new_tokens : int >= 1
    method : "sample", "greedy" or "beam"
        ``sample`` draws from :func:`filter_logits` (temperature, top-k,
        top-p); ``greedy`` takes the most likely token; ``beam`` keeps the
        ``num_beams`` most likely continuations (``transformers``' beam search,
        always exactly ``max_new_tokens`` new tokens).
    seed : int >= 0
        Seeds sampling (a private ``torch.Generator``; same seed, same text).
    batch_size : int
        Prompts decoded together.
    use_cache : bool
        Keep the attention keys/values of past tokens (the KV cache) instead of
        re-running the whole sequence at each step. Same tokens, far faster.
    logits_processor : callable(input_ids, logits) -> logits, optional
        Applied to each step's next-token logits (batch × vocabulary) before ``sample`` or
        ``greedy`` picks a token, e.g. a watermark (:mod:`collapse_kit.watermark`); ``input_ids`` is
        the sequence so far, prompt included. Not available with ``beam``.
    repetition_penalty : float >= 1
        CTRL's penalty (Keskar et al. 2019), as in ``transformers``: the logit of every token already
        in the sequence (prompt included) is divided by it when positive and multiplied by it when
        negative. 1 = off. Shumailov et al.'s released code generates with 3.0 (see
        :func:`apply_repetition_penalty`).

    Returns
    -------
    int64 numpy array (n × max_new_tokens).
    """
    prompts = _check_tokens("prompts", prompts, model.config.vocab_size)
    if prompts.ndim == 1:
        prompts = prompts[None, :]
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, low=1)
    check_choice("method", method, ("sample", "greedy", "beam"))
    batch_size = check_int("batch_size", batch_size, low=1)
    seed = check_seed("seed", seed)
    repetition_penalty = check_float("repetition_penalty", repetition_penalty, low=1.0)
    if logits_processor is not None and (method == "beam" or not callable(logits_processor)):
        raise ValueError("`logits_processor` must be a callable(input_ids, logits) -> logits, with method "
                         f"'sample' or 'greedy' (got {logits_processor!r} with method {method!r}).")
    block = block_size_of(model)
    if method == "beam" and prompts.shape[1] + max_new_tokens > block:
        raise ValueError(f"beam search needs prompt + new tokens <= block size {block} "
                         f"(got {prompts.shape[1]} + {max_new_tokens}).")
    device = model_device(model)
    model.eval()
    from tqdm.auto import tqdm

    gen = torch.Generator(device=device).manual_seed(seed)
    out = []
    for i in tqdm(range(0, len(prompts), batch_size), desc=f"generating ({method})", disable=not progress,
                  leave=False):
        x = torch.from_numpy(prompts[i:i + batch_size]).to(device)
        if method == "beam":
            num_beams = check_int("num_beams", num_beams, low=1)
            y = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=max_new_tokens,
                               min_new_tokens=max_new_tokens, num_beams=num_beams, do_sample=False,
                               early_stopping=False, length_penalty=1.0, pad_token_id=0, eos_token_id=None,
                               use_cache=use_cache, repetition_penalty=repetition_penalty)
            out.append(y[:, x.shape[1]:].cpu().numpy())
        else:
            out.append(_decode_loop(model, x, max_new_tokens, method == "greedy", temperature, top_k, top_p,
                                    gen, use_cache, block, logits_processor, repetition_penalty).cpu().numpy())
    return np.concatenate(out).astype(np.int64)


def cache_keyword(model) -> str:
    """The name under which ``model.forward`` takes (and its output returns) the KV cache.

    transformers 5.15-5.23 call it ``past_key_values``; newer versions ``cache`` (and on 5.15 an
    unknown ``cache=`` keyword is silently ignored, which would recompute nothing and give wrong
    logits), so ask the model's own signature rather than guess.
    """
    import inspect

    params = inspect.signature(model.forward).parameters
    if "cache" in params:
        return "cache"
    if "past_key_values" in params:
        return "past_key_values"
    raise TypeError(f"{type(model).__name__}.forward takes neither `cache` nor `past_key_values`; "
                    "run with use_cache=False.")


def apply_repetition_penalty(seq: torch.Tensor, logits: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty: the logits of tokens that occur in ``seq`` (batch × T) are divided by
    ``penalty`` if positive and multiplied by it if negative (so they become less likely either way).
    The same rule as ``transformers``' ``RepetitionPenaltyLogitsProcessor``, which beam search uses."""
    if penalty == 1.0:
        return logits
    seen = torch.gather(logits, 1, seq)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return logits.scatter(1, seq, seen)


def _decode_loop(model, x, max_new_tokens, greedy, temperature, top_k, top_p, gen, use_cache, block,
                 logits_processor=None, repetition_penalty=1.0):
    """Token-by-token decoding; with ``use_cache`` each step feeds only the newest token.

    When the sequence outgrows the model's context, the uncached path looks at the
    last ``block`` tokens; the cached path restarts its cache on the last
    ``block // 2`` tokens (so it can go on adding tokens cheaply).
    """
    past, cached, new = None, 0, []
    seq = x
    cache_kw = cache_keyword(model)
    for _ in range(max_new_tokens):
        if use_cache and past is not None and cached < block:
            out = model(input_ids=seq[:, -1:], use_cache=True, logits_to_keep=1, **{cache_kw: past})
            cached += 1
        else:  # first step, no cache, or context full: run the (last part of the) sequence again
            ctx = seq[:, -block:] if (not use_cache or seq.shape[1] <= block) else seq[:, -(block // 2):]
            out = model(input_ids=ctx, use_cache=use_cache, logits_to_keep=1)
            cached = ctx.shape[1]
        past = getattr(out, cache_kw) if use_cache else None
        logits = apply_repetition_penalty(seq, out.logits[:, -1].float(), repetition_penalty)
        if logits_processor is not None:
            logits = logits_processor(seq, logits)
        if greedy:
            nxt = logits.argmax(dim=-1, keepdim=True)
        else:
            probs = torch.softmax(filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p), -1)
            nxt = torch.multinomial(probs, 1, generator=gen)
        new.append(nxt)
        seq = torch.cat([seq, nxt], dim=1)
    return torch.cat(new, dim=1)


# --------------------------------------------------------------------------- save / load
def save(directory, model, tokenizer: CharTokenizer | BPETokenizer | None = None,
         meta: dict[str, Any] | None = None, *, half: bool = False) -> Path:
    """Save ``model`` with ``save_pretrained`` (safetensors), the tokenizer and a small JSON of facts.

    ``half=True`` stores the weights in 16-bit floats (half the bytes; the shipped base model);
    :func:`load` always returns a float32 model.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if half:
        import copy

        model = copy.deepcopy(model).to(torch.float16)
    model.save_pretrained(directory, safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save(directory)
    (directory / META_FILE).write_text(json.dumps(meta or {}, indent=1, default=float), encoding="utf-8")
    return directory


def load(directory, *, device: str | None = None):
    """Load ``(model, tokenizer, meta)`` saved by :func:`save` (safetensors only, no pickle)."""
    from transformers import AutoModelForCausalLM

    _quiet_transformers()
    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"no saved model in {directory} (config.json missing).")
    model = AutoModelForCausalLM.from_pretrained(directory, use_safetensors=True, attn_implementation="sdpa",
                                                 dtype=torch.float32)
    model = model.to(_resolve_device(device)).eval()
    tok = load_tokenizer(directory)
    meta_path = directory / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return model, tok, meta


# --------------------------------------------------------------------------- the course's base model
#: Length (characters, cut at line breaks) of the pieces of held-out text that alternate between task and test.
PIECE_CHARS = 2_000


def corpus_parts(text: str | None = None) -> dict[str, str]:
    """The course's disjoint pieces of human text.

    ``pretrain`` (the first 90%, the base model's training text) and ``held`` (the last 10%,
    plays the base model never reads). ``held`` is cut at line breaks into pieces of about
    :data:`PIECE_CHARS` characters that alternate between ``task`` (the real data that lesson 06
    fine-tunes on) and ``test`` (held-out text for perplexity): both come from the same plays
    (as wikitext-2's training and test articles come from the same kind of text) and share no
    line. ``task + test`` holds every character of ``held``, in another order.
    Default text: the shipped Shakespeare corpus (:mod:`collapse_kit.text`).
    """
    if text is None:
        from .text import corpus_splits

        pretrain, held = corpus_splits(fraction_valid=0.1)
    else:
        if not isinstance(text, str) or len(text) < 100:
            raise ValueError("`text` must be a str of at least 100 characters.")
        cut = int(len(text) * 0.9)
        pretrain, held = text[:cut], text[cut:]
    pieces, start = [], 0
    while start < len(held):
        nl = held.find("\n", start + PIECE_CHARS)
        end = len(held) if nl < 0 else nl + 1
        pieces.append(held[start:end])
        start = end
    if len(pieces) < 2:  # a short custom text: halves
        half = len(held) // 2
        pieces = [held[:half], held[half:]]
    return {"pretrain": pretrain, "task": "".join(pieces[0::2]), "test": "".join(pieces[1::2]), "held": held}


#: Where the shipped base model lives (built by ``scripts/build_base_gpt.py``).
BASE_DIR = Path(__file__).parent / "data" / "base_gpt"


def load_base(device: str | None = None):
    """The course's base GPT, shipped trained inside the package: ``(model, tokenizer, meta)``.

    The ``base`` preset (:data:`PRESETS`) on a byte-level BPE tokenizer of 2,048 tokens,
    pre-trained on the ``pretrain`` part of the corpus by ``scripts/build_base_gpt.py``
    (``meta`` records the command, seed, steps, loss curve, validation loss on the held-out
    plays and wall time). Loads in about a second; no network.
    """
    if not (BASE_DIR / "model.safetensors").is_file():
        raise FileNotFoundError(f"the shipped base model is missing from {BASE_DIR}: reinstall collapse-kit, "
                                "or rebuild it with `python scripts/build_base_gpt.py` in the course folder.")
    return load(BASE_DIR, device=device)


def base_model(preset: str = "cpu", *, seed: int = 0, steps: int | None = None, device: str | None = None,
               cache: bool = True, progress: bool = True, text: str | None = None):
    """The base GPT of a preset, pre-trained on the ``pretrain`` part of the corpus.

    Loads it from the course cache (:func:`collapse_kit.runtime.cache_dir`) when
    a run with the same preset, seed and steps was saved before; otherwise
    trains it (a few minutes for ``cpu``) on characters and saves it. The ``base``
    preset is the shipped model (:func:`load_base`, seed 0, its recorded steps): never
    trained here.

    Returns
    -------
    (model, tokenizer, meta) where ``meta`` records the preset, steps, seed,
    parameter count, validation loss on the ``test`` text and the training log.
    """
    from .runtime import cache_dir

    p = get_preset(preset)
    steps = check_int("steps", steps if steps is not None else p.steps, low=1)
    seed = check_seed("seed", seed)
    if preset == "base":
        model, tok, meta = load_base(device)
        if (seed, steps) != (meta["seed"], meta["steps"]) or text is not None:
            raise ValueError(f"the `base` preset is the shipped model (seed {meta['seed']}, {meta['steps']} steps, "
                             "the course corpus): leave `seed`, `steps` and `text` out, or train another preset.")
        return model, tok, meta
    name = f"{preset}-s{seed}-{steps}steps" + ("" if text is None else "-custom")
    folder = cache_dir("gpt") / name
    if cache and text is None and (folder / "config.json").is_file() and (folder / META_FILE).is_file():
        model, tok, meta = load(folder, device=device)
        if meta.get("complete"):
            return model, tok, meta
    parts = corpus_parts(text)
    tok = CharTokenizer.fit(parts["pretrain"] + parts["task"] + parts["test"])
    train_ids = tok.encode(parts["pretrain"])
    test_ids = tok.encode(parts["test"])
    model = build_model(tok.vocab_size, p, seed=seed, device=device)
    log = train(model, train_ids, steps=steps, preset=p, valid=test_ids, seed=seed, progress=progress,
                desc=f"pre-training the {preset} GPT")
    meta = {"preset": preset, "seed": seed, "steps": steps, "parameters": count_parameters(model),
            "valid_loss": float(log["valid_loss"].dropna().iloc[-1]), "complete": True,
            "log": log.dropna().to_dict(orient="list")}
    if cache and text is None:  # write aside, then move into place: parallel notebooks never see half a model
        import os
        import shutil

        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        save(tmp, model, tok, meta)
        if folder.exists() and not (folder / META_FILE).is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a leftover from an older, interrupted save
        try:
            os.replace(tmp, folder)
        except OSError:  # another process got there first with the same model
            shutil.rmtree(tmp, ignore_errors=True)
    return model, tok, meta


# --------------------------------------------------------------------------- explorer
def next_token_distribution(model, tok: CharTokenizer, prompt: str, *, temperature: float = 1.0,
                            top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Probabilities of every next character after ``prompt`` under a decoding setting."""
    ids = tok.encode(prompt, errors="ignore")[-block_size_of(model):]
    if len(ids) == 0:
        raise ValueError("`prompt` must contain at least one character of the vocabulary.")
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(ids)[None].to(model_device(model))).logits[0, -1].float()
    return torch.softmax(filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p), -1).cpu().numpy()
