"""Recursive fine-tuning of a language model: the Nature experiment at small scale.

Shumailov et al. (Nature 2024, Fig. 1 and Example 1) fine-tune a pre-trained
language model on human text (generation 0), let it continue real prompts,
fine-tune the *pre-trained* model again on those continuations (generation 1),
and so on. Here that protocol is the course's generational loop,
:func:`collapse_kit.loop.run_generations`, with one model, :class:`FineTunedLM`:

* the **real data** are ``n_blocks`` blocks of ``prompt_tokens`` tokens of human
  text held out from pre-training (:func:`collapse_kit.gpt.corpus_parts`), one chain:
  arrays ``(1, n_blocks, prompt_tokens)``;
* ``fit`` fine-tunes a fresh copy of the **base** model on a generation's training blocks;
* ``sample`` continues every real block (the prompt) by ``new_tokens`` tokens (5-way
  beam search by default, as in the paper): the next generation's data;
* each *arm* is the strategy a real-fraction strategy (λ, fixed real set): ``round(λM)`` real blocks
  and the rest the previous generation's continuations (λ = 0: none real). Generation 0
  is shared by the arms;
* the metrics (:func:`lm_metrics`) score each generation: real-test perplexity, the
  perplexity of its training data under the generation-0 model (the paper's Fig. 1),
  distinct-n, repetition, the real share of the training set, and the continuation of a
  fixed prompt (Example 1).

:func:`run` is that call with the loop's store (:mod:`collapse_kit.store`): every
generation is saved atomically as it completes and a re-run resumes after the last
complete generation. The run folder::

    setup.json       the settings (must match to resume)
    base/            the pre-trained model, its tokenizer, real.npy, valid.npy and test.npy (with a manifest)
    seed=S/...       the loop's store: one verified folder per generation
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ._validate import check_choice, check_float, check_fraction, check_int, check_seed
from .history import COLUMNS as HISTORY_COLUMNS, concat as _concat, finish as _finish
from .store import TMP_MARK, Store, verify, write_manifest
from .strategies import REAL_FRACTION, Strategy, real_fraction_grid
from .tokenizer import load_tokenizer

SETUP_FILE = "setup.json"
#: Paper-scale presets: a pre-trained hub model and its data set, for GPU users with internet.
PAPER_PRESETS = {"opt-125m": {"model": "facebook/opt-125m", "dataset": ("wikitext", "wikitext-2-raw-v1")}}


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class FinetuneSetup:
    """Everything that decides the numbers of a run (must match to resume).

    Parameters
    ----------
    preset : str
        The base GPT's preset (:data:`collapse_kit.gpt.PRESETS`). ``"base"`` (the default) is the
        course's shipped base model (:func:`collapse_kit.gpt.load_base`, BPE tokens), loaded in a
        second; the other course presets are character-level models trained on first use.
    base_steps : int or None
        Pre-training steps of the base model (default: the preset's).
    n_blocks : int
        Real task blocks = size of every generation's training set.
    n_test : int
        Real test blocks for perplexity.
    n_valid : int
        Real validation blocks (task text, none of them a training block): each generation keeps
        the fine-tuning epoch with the lowest validation loss, as the paper keeps the best checkpoint.
    prompt_tokens, new_tokens : int
        Length of each real block (the prompt) and of each continuation
        (the paper: 64 and 64 tokens).
    epochs : float
        Fine-tuning epochs per generation.
    lr : float
        Peak fine-tuning learning rate (warm-up then cosine decay).
    batch_size : int
        Fine-tuning batch size.
    decoding : {"sample", "beam", "greedy"}
        How continuations are made. The paper uses 5-way beam search; the course's base GPT is too
        small for it (beam search finds the same few generic lines for many prompts, so its data are
        far less varied than human text before any recursion), so the default samples at temperature 1,
        which keeps generation 0 as varied as human text. Lesson 06 runs beam search as an arm.
    num_beams, temperature, top_k, top_p :
        Decoding parameters (see :func:`collapse_kit.gpt.generate`).
    repetition_penalty : float >= 1
        CTRL's repetition penalty at decoding (1 = off, the paper's main runs; its released code
        hard-codes 3.0, which the paper's ablation reports makes perplexity double).
    """

    preset: str = "base"
    base_steps: int | None = None
    n_blocks: int = 256
    n_test: int = 128
    n_valid: int = 32
    prompt_tokens: int = 64
    new_tokens: int = 64
    epochs: float = 3.0
    lr: float = 3e-4
    batch_size: int = 16
    decoding: str = "sample"
    num_beams: int = 5
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0

    def __post_init__(self):
        from .gpt import PRESETS

        check_choice("preset", self.preset, tuple(PRESETS) + tuple(PAPER_PRESETS))
        if self.base_steps is not None:
            check_int("base_steps", self.base_steps, low=1)
        check_int("n_blocks", self.n_blocks, low=8)
        check_int("n_test", self.n_test, low=2)
        check_int("n_valid", self.n_valid, low=2)
        check_float("repetition_penalty", self.repetition_penalty, low=1.0)
        check_int("prompt_tokens", self.prompt_tokens, low=2)
        check_int("new_tokens", self.new_tokens, low=2)
        check_float("epochs", self.epochs, low=0, low_open=True)
        check_float("lr", self.lr, low=0, low_open=True)
        check_int("batch_size", self.batch_size, low=1)
        check_choice("decoding", self.decoding, ("beam", "sample", "greedy"))
        check_int("num_beams", self.num_beams, low=1)
        check_float("temperature", self.temperature, low=0, low_open=True)
        if self.top_k is not None:
            check_int("top_k", self.top_k, low=1)
        if self.top_p is not None:
            check_float("top_p", self.top_p, low=0, high=1, low_open=True)
        if self.new_tokens != self.prompt_tokens:
            raise ValueError(f"`new_tokens` must equal `prompt_tokens` (got {self.new_tokens} and {self.prompt_tokens}): "
                             "a generation's continuations replace real blocks in the next training set.")
        if self.preset in PRESETS and self.prompt_tokens + self.new_tokens > PRESETS[self.preset].block_size:
            raise ValueError(f"`prompt_tokens + new_tokens` must be <= the {self.preset} preset's block size "
                             f"{PRESETS[self.preset].block_size} (got {self.prompt_tokens + self.new_tokens}).")


def arms(real_fractions: Sequence[float]) -> list[Strategy]:
    """The strategies of the arms: :func:`~collapse_kit.strategies.real_fraction_grid` (fixed real set)."""
    lams = [check_fraction("real_fractions", f) for f in real_fractions]
    if not lams:
        raise ValueError("`real_fractions` must hold at least one fraction in [0, 1].")
    return real_fraction_grid(lams)


# --------------------------------------------------------------------------- text metrics
def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Distinct-n: unique word n-grams / all word n-grams over ``texts`` (1 = no repeats, → 0 = one phrase)."""
    n = check_int("n", n, low=1)
    grams, total = set(), 0
    for t in texts:
        w = t.split()
        g = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        grams.update(g)
        total += len(g)
    return len(grams) / total if total else 0.0


def repetition(texts: Sequence[str], n: int = 2) -> float:
    """Mean fraction of word n-grams in a text that repeat an earlier n-gram of the same text (seq-rep-n)."""
    n = check_int("n", n, low=1)
    fracs = []
    for t in texts:
        w = t.split()
        g = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        if g:
            fracs.append(1.0 - len(set(g)) / len(g))
    return float(np.mean(fracs)) if fracs else 0.0


# --------------------------------------------------------------------------- the model in the loop
class FineTunedLM:
    """The experiment's model for :func:`~collapse_kit.loop.run_generations` (one chain).

    Data are token blocks with a chain axis of length 1: ``(1, n_blocks, T)``.
    ``fit(blocks, rng)`` fine-tunes a fresh copy of the base model on them (the paper
    re-fine-tunes the pre-trained model every generation), keeping the epoch with the lowest loss on
    ``valid`` (default: the run folder's ``valid.npy``); ``sample(n, rng)`` continues the
    first ``n`` real prompts (cycling if ``n`` exceeds them) and returns the new tokens,
    ``(1, n, new_tokens)``. ``save``/``load`` write and read safetensors, so the loop's
    store can save every generation's model.
    """

    def __init__(self, base_dir, prompts, setup: "FinetuneSetup", device: str | None = None,
                 progress: bool = False, valid=None):
        self.base_dir, self.prompts, self.setup = Path(base_dir), np.asarray(prompts), setup
        self.device, self.progress, self.model = device, progress, None
        if valid is None and (self.base_dir / "valid.npy").is_file():  # the run folder's (see prepare)
            valid = np.load(self.base_dir / "valid.npy")
        self.valid = None if valid is None else np.asarray(valid)

    def fit(self, data, rng: np.random.Generator) -> "FineTunedLM":
        from . import gpt

        data = np.asarray(data)
        if data.ndim != 3 or data.shape[0] != 1:
            raise ValueError(f"`data` must be token blocks of one chain, shape (1, n_blocks, T) (got {data.shape}).")
        s = self.setup
        self.model, _, _ = gpt.load(self.base_dir, device=self.device)
        per_epoch = -(-len(data[0]) // s.batch_size)  # evaluate once per epoch, keep the best epoch
        gpt.train(self.model, data[0], epochs=s.epochs, lr=s.lr, batch_size=s.batch_size, preset=s.preset,
                  seed=int(rng.integers(2**31)), progress=self.progress, desc="fine-tuning",
                  valid=self.valid, eval_every=per_epoch, keep_best=self.valid is not None)
        return self

    def continue_(self, prompts, seed: int = 0, progress: bool = False) -> np.ndarray:
        """The continuations of ``prompts`` (n × T) under the run's decoding settings."""
        from . import gpt

        if self.model is None:
            raise RuntimeError("call fit() (or load()) before sampling.")
        s = self.setup
        return gpt.generate(self.model, prompts, s.new_tokens, method=s.decoding, num_beams=s.num_beams,
                            temperature=s.temperature, top_k=s.top_k, top_p=s.top_p, seed=seed,
                            progress=progress, repetition_penalty=s.repetition_penalty)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = check_int("n", n, low=1)
        idx = np.arange(n) % len(self.prompts)
        return self.continue_(self.prompts[idx], int(rng.integers(2**31)), self.progress)[None]

    def save(self, folder) -> None:
        from . import gpt

        gpt.save(folder, self.model)

    def load(self, folder) -> "FineTunedLM":
        from . import gpt

        self.model, _, _ = gpt.load(folder, device=self.device)
        return self


def example_prompt(test: np.ndarray, prompt_tokens: int) -> np.ndarray:
    """The fixed prompt continued by every generation (the paper's Example 1): the first test block's start."""
    return test[:1, :prompt_tokens]


def lm_metrics(test: np.ndarray, tokenizer, prompt_tokens: int):
    """The run's metrics, one function of the loop's :class:`~collapse_kit.loop.Context`.

    Returns per generation ``test_ppl``/``test_nll`` (real test blocks), ``train_ppl_gen0_*``
    (the training blocks scored by the generation-0 model: mean, median, 95% quantile),
    ``distinct_1``, ``distinct_2``, ``repetition_2`` (the continuations as words) and
    ``real_in_train`` (the share of training blocks that are real). Into ``ctx.extra`` (saved
    with the generation) it writes ``example`` (the fixed prompt's continuation), ``ppl_gen0``
    (the per-sequence perplexities of the paper's Fig. 1 histogram) and ``strategy``.
    """
    from . import gpt

    prompt = example_prompt(test, prompt_tokens)

    def metrics(ctx) -> dict:
        lm, train = ctx.model.model, ctx.train[0]
        test_nll = gpt.sequence_nll(lm, test)
        ppl0 = np.exp(gpt.sequence_nll(ctx.model0.model, train))
        texts = tokenizer.decode_batch(ctx.samples[0])
        real_rows = {r.tobytes() for r in np.ascontiguousarray(ctx.real[0])}
        ctx.extra.update(example=tokenizer.decode(ctx.model.continue_(prompt, seed=0)[0]), ppl_gen0=ppl0.tolist(),
                         strategy=asdict(ctx.strategy))
        return {"test_ppl": np.mean(np.exp(test_nll)), "test_nll": np.mean(test_nll),
                "train_ppl_gen0_mean": np.mean(ppl0), "train_ppl_gen0_median": np.median(ppl0),
                "train_ppl_gen0_p95": np.quantile(ppl0, 0.95),
                "distinct_1": distinct_n(texts, 1), "distinct_2": distinct_n(texts, 2),
                "repetition_2": repetition(texts, 2),
                "real_in_train": np.mean([r.tobytes() in real_rows for r in np.ascontiguousarray(train)])}

    return metrics


# --------------------------------------------------------------------------- the run folder
def _pick_rows(blocks: np.ndarray, n: int, name: str) -> np.ndarray:
    if len(blocks) < n:
        raise ValueError(f"`{name}` asks for {n} blocks but the text holds only {len(blocks)}.")
    return blocks[np.linspace(0, len(blocks) - 1, n).round().astype(int)]  # spread over the whole text


def _check_setup_file(out: Path, setup: FinetuneSetup) -> None:
    path = out / SETUP_FILE
    if path.is_file():
        try:
            have = json.loads(path.read_text())
        except ValueError:
            raise ValueError(f"{path} is not valid JSON: delete the run folder {out} or choose another.") from None
        wanted = asdict(setup)
        if have != wanted:
            diff = {k: (have.get(k), v) for k, v in wanted.items() if have.get(k) != v}
            raise ValueError(f"the run folder {out} was made with other settings {diff} (saved, asked); "
                             "choose a new `out` folder or the same settings.")


def prepare(out, setup: FinetuneSetup, *, device: str | None = None, progress: bool = True) -> Path:
    """Create (or check) the run folder: settings, base model, real and test blocks.

    Re-using a folder made with different settings raises a ``ValueError``. The ``base``
    folder is written under a temporary name with a manifest and renamed into place
    when complete; a damaged one is moved aside and rebuilt.
    """
    from . import gpt

    out = Path(out)
    _check_setup_file(out, setup)
    out.mkdir(parents=True, exist_ok=True)
    base = out / "base"
    if base.exists() and verify(base) is not None:
        os.replace(base, out / f"base.bad-{os.getpid()}")
    if not base.exists():
        tmp = out / f"base{TMP_MARK}{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        if setup.preset in PAPER_PRESETS:
            _paper_base(tmp, setup)
        else:
            model, tok, meta = gpt.base_model(setup.preset, steps=setup.base_steps, device=device, progress=progress)
            gpt.save(tmp, model, tok, meta)
            parts = gpt.corpus_parts()
            task = gpt.as_blocks(tok.encode(parts["task"]), setup.prompt_tokens)
            real = _pick_rows(task, setup.n_blocks, "n_blocks")
            picked = {r.tobytes() for r in real}
            np.save(tmp / "real.npy", real)
            np.save(tmp / "valid.npy", _pick_rows(np.array([r for r in task if r.tobytes() not in picked]),
                                                  setup.n_valid, "n_valid"))
            np.save(tmp / "test.npy", _pick_rows(gpt.as_blocks(tok.encode(parts["test"]),
                                                               setup.prompt_tokens + setup.new_tokens),
                                                 setup.n_test, "n_test"))
        write_manifest(tmp)
        try:
            os.replace(tmp, base)
        except OSError:  # another process published the same base first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    if not (out / SETUP_FILE).is_file():
        tmp = out / f"{SETUP_FILE}{TMP_MARK}{os.getpid()}"
        tmp.write_text(json.dumps(asdict(setup), indent=1))
        os.replace(tmp, out / SETUP_FILE)
    return out


def tokenizer_of(base: Path):
    """The run's tokenizer (the course's character or BPE tokenizer, or a hub model's)."""
    tok = load_tokenizer(base)
    if tok is not None:
        return tok
    from transformers import AutoTokenizer  # pragma: no cover - paper scale

    return _HFTokenizer(AutoTokenizer.from_pretrained(base))


def check_paper_requirements(preset: str = "opt-125m", *, timeout: float = 3.0) -> None:
    """Fail at once, saying what is missing, unless a paper-scale run can start.

    A paper-scale preset downloads a pre-trained model and its data set from
    the Hugging Face hub, so it needs the ``datasets`` package, internet access
    and ``HF_HUB_OFFLINE`` unset. (It also wants a GPU: on a CPU it would take days.)
    """
    check_choice("preset", preset, tuple(PAPER_PRESETS))
    spec = PAPER_PRESETS[preset]
    need = (f"the paper-scale preset {preset!r} downloads {spec['model']} and the "
            f"{'/'.join(spec['dataset'])} data set from the Hugging Face hub")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise RuntimeError(f"{need}, but HF_HUB_OFFLINE is set: unset it and connect to the internet, "
                           "or use a course preset (tiny, cpu, gpu, gpu-large) that needs no download.")
    try:
        import datasets  # noqa: F401
    except ImportError:
        raise RuntimeError(f"{need} with the `datasets` package: `pip install datasets`, "
                           "or use a course preset (tiny, cpu, gpu, gpu-large).") from None
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
    except OSError:
        raise RuntimeError(f"{need}, but huggingface.co cannot be reached: connect to the internet, "
                           "or use a course preset (tiny, cpu, gpu, gpu-large).") from None


class _HFTokenizer:
    """The small part of a ``transformers`` tokenizer that the experiment uses."""

    def __init__(self, tok):
        self.tok = tok

    def encode(self, text: str) -> np.ndarray:
        return np.asarray(self.tok(text, add_special_tokens=False)["input_ids"], dtype=np.int64)

    def decode(self, ids) -> str:
        return self.tok.decode(list(np.asarray(ids).tolist()), skip_special_tokens=True)

    def decode_batch(self, batch) -> list[str]:
        return [self.decode(row) for row in batch]


def _paper_base(tmp: Path, setup: FinetuneSetup) -> None:  # pragma: no cover - needs internet and a GPU
    """Base model and data of a paper-scale run: OPT-125m and wikitext-2 (Shumailov et al. 2024)."""
    from . import gpt

    check_paper_requirements(setup.preset)
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = PAPER_PRESETS[setup.preset]
    tok = AutoTokenizer.from_pretrained(spec["model"])
    AutoModelForCausalLM.from_pretrained(spec["model"]).save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / gpt.META_FILE).write_text(json.dumps({"preset": setup.preset, "model": spec["model"]}))
    ds, wrap = load_dataset(*spec["dataset"]), _HFTokenizer(tok)
    real = gpt.as_blocks(wrap.encode("".join(ds["train"]["text"])), setup.prompt_tokens)
    test = gpt.as_blocks(wrap.encode("".join(ds["test"]["text"])), setup.prompt_tokens + setup.new_tokens)
    np.save(tmp / "real.npy", _pick_rows(real, min(setup.n_blocks, len(real)), "n_blocks"))
    valid = gpt.as_blocks(wrap.encode("".join(ds["validation"]["text"])), setup.prompt_tokens)
    np.save(tmp / "valid.npy", _pick_rows(valid, min(setup.n_valid, len(valid)), "n_valid"))
    np.save(tmp / "test.npy", _pick_rows(test, min(setup.n_test, len(test)), "n_test"))


def check_device(device: str | None) -> str | None:
    """``device`` if this machine has it (``None``: the best available), else a ``ValueError``."""
    if device is None:
        return None
    import torch

    kind = check_choice("device", str(device).split(":")[0], ("cuda", "mps", "cpu"))
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device`={device!r} but this machine has no CUDA GPU: use device='cpu' (or leave it out).")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"`device`={device!r} but Apple's MPS is not available here: use device='cpu'.")
    return str(device)


# --------------------------------------------------------------------------- the run
def run(out, *, generations: int = 5, real_fractions: Sequence[float] = (0.0, 0.1), seeds: Sequence[int] = (0,),
        setup: FinetuneSetup | None = None, device: str | None = None, progress: bool = True) -> "FinetuneResults":
    """Run (or resume) recursive fine-tuning through the loop; return everything the run folder holds.

    Parameters
    ----------
    out : path
        The run folder. Every finished generation is saved there at once (the loop's
        store); a re-run with the same settings resumes, and more generations, seeds or
        arms extend the run. Several processes may share it (one arm or seed each).
    generations : int >= 1
        Generations after generation 0.
    real_fractions : floats in [0, 1]
        One arm per value, a real-fraction strategy (λ, fixed real set) (0 = no real data kept; the
        paper's other arm keeps 0.1).
    seeds : ints >= 0
        Independent repetitions (batch orders, real subsets, sampling).
    setup : :class:`FinetuneSetup` (default: ``FinetuneSetup()``)
    device : "cpu", "cuda", "mps" or None (the best available)

    Everything is validated before any training starts.
    """
    from .loop import run_generations

    setup = FinetuneSetup() if setup is None else setup
    if not isinstance(setup, FinetuneSetup):
        raise TypeError(f"`setup` must be a FinetuneSetup (got {type(setup).__name__}).")
    generations = check_int("generations", generations, low=1)
    strategies = arms(real_fractions)
    seeds = [check_seed("seeds", s) for s in ([seeds] if isinstance(seeds, int) else seeds)]
    if not seeds:
        raise ValueError("`seeds` must hold at least one seed (an int >= 0).")
    device = check_device(device)
    out = Path(out)
    _check_setup_file(out, setup)
    out = prepare(out, setup, device=device, progress=progress)
    base = out / "base"
    real, test = np.load(base / "real.npy"), np.load(base / "test.npy")
    run_generations(lambda: FineTunedLM(base, real, setup, device, progress), real, generations=generations,
                    sample_size=len(real), strategies=strategies,
                    metrics={"": lm_metrics(test, tokenizer_of(base), setup.prompt_tokens)}, seeds=seeds,
                    store=Store(out, describe=asdict(setup)), progress=progress)
    return load_results(out)


# --------------------------------------------------------------------------- lesson 06's settings
def lesson_setup(quick: bool | None = None, **changes) -> FinetuneSetup:
    """Lesson 06's settings (also what ``collapse-kit prepare`` computes ahead): the shipped base GPT.

    Full mode: :class:`FinetuneSetup`'s defaults: M = 256 real blocks of 64 BPE tokens, 128 test blocks,
    3 epochs per generation at learning rate 3e-4 with the best epoch kept by the validation loss on 32
    other real blocks, sampling at temperature 1. Quick mode (the test suite): the same model, training
    and decoding with M = 32 blocks, so the numbers stay real ones.
    ``changes`` replace fields (e.g. ``decoding="sample"``, ``repetition_penalty=3.0``).
    """
    from dataclasses import replace

    from .runtime import is_quick

    quick = is_quick() if quick is None else bool(quick)
    base = FinetuneSetup(n_blocks=32, n_test=48, n_valid=16) if quick else FinetuneSetup()
    return replace(base, **changes)


#: Generations of lesson 06's decoding arms (its main run has 5): the first step of the recursion, for each rule.
DECODING_GENERATIONS = 1

#: The decoding arms of lesson 06's ablation: the main run samples at temperature 1; the paper's main runs
#: use plain 5-way beam search; its released code hard-codes a repetition penalty of 3.0.
DECODINGS = {"sampling, T = 1": {},
             "5-way beam search": {"decoding": "beam"},
             "beam search + repetition penalty 3": {"decoding": "beam", "repetition_penalty": 3.0}}


# --------------------------------------------------------------------------- the mix-ratio grid
#: The real fractions of lesson 06's explorer (issue 11): λ = 0 (the paper's first arm), 0.1 (its second)
#: and the values around and beyond them.
GRID = (0.0, 0.1, 0.25, 0.5)


def grid_plan(quick: bool | None = None) -> dict:
    """The grid a session computes: ``real_fractions`` and ``generations``.

    Full mode: every value of :data:`GRID` for 5 generations. Quick mode (the test suite): three
    values, 0, 0.1 and 0.5, for 2 generations, so a whole notebook stays within its time budget.
    """
    from .runtime import is_quick

    quick = is_quick() if quick is None else bool(quick)
    return {"real_fractions": (0.0, 0.1, 0.5) if quick else GRID, "generations": 2 if quick else 5}


def prepare_grid(setup: FinetuneSetup | None = None, *, real_fractions: Sequence[float] | None = None,
                 generations: int | None = None, seeds: Sequence[int] = (0,), out=None, device: str | None = None,
                 progress: bool = True) -> "FinetuneResults":
    """Compute (or finish) the mix-ratio grid of lesson 06's explorer, ahead of a session.

    One :func:`run` with one arm a real-fraction strategy (λ, fixed real set) per grid value, in the run
    folder of ``setup`` (:func:`default_run_dir`, in the course cache): the notebook's own run
    (λ = 0 and 0.1) shares generation 0 and those arms, and an interrupted call resumes after the
    last complete generation. Instructors call it before the session (``collapse-kit`` and the
    notebook then only load the results)::

        from collapse_kit import finetune as ft
        ft.prepare_grid(ft.FinetuneSetup(preset="cpu"))          # about 5 x the 2-arm run on a CPU

    ``real_fractions`` and ``generations`` default to :func:`grid_plan` (all of :data:`GRID`
    for 5 generations; in quick mode 0, 0.1, 0.5 for 2 generations).
    """
    setup = FinetuneSetup() if setup is None else setup
    plan = grid_plan()
    lams = plan["real_fractions"] if real_fractions is None else tuple(real_fractions)
    gens = plan["generations"] if generations is None else generations
    out = default_run_dir(setup) if out is None else out
    return run(out, generations=gens, real_fractions=lams, seeds=seeds, setup=setup, device=device,
               progress=progress)


def prepare_lesson(*, seeds: Sequence[int] = (0,), device: str | None = None, progress: bool = True) -> None:
    """Compute everything lesson 06 runs (its grid, which holds the main run, and its decoding arms), so the
    notebook only loads results: what ``collapse-kit prepare --lessons 06`` calls."""
    setup = lesson_setup()
    prepare_grid(setup, seeds=seeds, device=device, progress=progress)
    for change in DECODINGS.values():
        other = lesson_setup(**change)
        if other != setup:
            run(default_run_dir(other), generations=DECODING_GENERATIONS, real_fractions=[0.0], seeds=seeds,
                setup=other, device=device, progress=progress)


def final_rise(results: "FinetuneResults", metric: str = "test_ppl") -> pd.DataFrame:
    """Per arm: ``metric`` at generation 0 and at the arm's last generation, their ratio, and the
    seed-to-seed standard error of the ratio (NaN with one seed). One row per real fraction."""
    rows = []
    h = results.history[results.history["metric"] == metric]
    for lam, sub in h.groupby(REAL_FRACTION):
        last = int(sub["generation"].max())
        per_seed = sub.pivot_table(index="seed", columns="generation", values="value", aggfunc="mean")
        ratio = per_seed[last] / per_seed[0]
        se = float(ratio.std(ddof=1) / np.sqrt(len(ratio))) if len(ratio) > 1 else float("nan")
        rows.append({REAL_FRACTION: float(lam), "generation": last, "gen0": float(per_seed[0].mean()),
                     "last": float(per_seed[last].mean()), "rise": float(ratio.mean()), "rise_se": se})
    return pd.DataFrame(rows, columns=[REAL_FRACTION, "generation", "gen0", "last", "rise", "rise_se"])


# --------------------------------------------------------------------------- results
@dataclass
class FinetuneResults:
    """What a run folder holds, as tidy tables.

    Attributes
    ----------
    history : the course's tidy history (:mod:`collapse_kit.history`); generation 0 appears once
        per arm, so every arm's curve starts there.
    examples : DataFrame ``generation, seed, strategy, real_fraction, text`` (the fixed prompt's continuations).
    ppl : DataFrame ``generation, seed, strategy, real_fraction, ppl``: per-sequence perplexity of each
        generation's training data under the generation-0 model (the paper's Fig. 1).
    prompt : the fixed prompt's text.
    setup : the run's :class:`FinetuneSetup`.
    folder : the run folder.
    """

    history: pd.DataFrame
    examples: pd.DataFrame
    ppl: pd.DataFrame
    prompt: str
    setup: FinetuneSetup
    folder: Path


def load_results(out) -> FinetuneResults:
    """Read every complete, verified generation of a run folder (see :func:`run`).

    Folders are found through the store (:meth:`collapse_kit.store.Store.folder`), never by
    looking at the path's text; a generation that fails its manifest is moved aside (and
    recomputed by the next :func:`run`).
    """
    out = Path(out)
    if not (out / SETUP_FILE).is_file():
        raise FileNotFoundError(f"{out} is not a run folder (no {SETUP_FILE}); start one with run().")
    setup = FinetuneSetup(**json.loads((out / SETUP_FILE).read_text()))
    store = Store(out)
    found: dict[Strategy, list] = {}
    for seed_dir in sorted(out.glob("seed=*")):
        try:
            seed = check_seed("seed", int(seed_dir.name[len("seed="):]))
        except ValueError:
            continue
        gen0 = store.load(seed, 0) if seed_dir == store.folder(seed, 0).parent else None
        if gen0 is None:
            continue
        for gen_dir in sorted(seed_dir.glob("*/gen=*")):
            try:  # which strategy wrote it (verified below, through the store)
                strat = Strategy(**json.loads((gen_dir / "extra.json").read_text())["strategy"])
                g = check_int("generation", int(gen_dir.name[len("gen="):]), low=1)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if store.folder(seed, g, strat) != gen_dir:  # a quarantined or temporary copy
                continue
            saved = store.load(seed, g, strat)
            if saved is not None:
                rows = found.setdefault(strat, [])
                if (seed, 0) not in [(r[0], r[1]) for r in rows]:
                    rows.append((seed, 0, gen0))
                rows.append((seed, g, saved))
    hist, ex, ppl = [], [], []
    for strat in sorted(found, key=lambda s: s.real_fraction):
        rows = sorted(found[strat], key=lambda r: (r[0], r[1]))
        frame = pd.DataFrame([(g, 0, seed, name, float(v[0])) for seed, g, saved in rows
                              for name, v in saved["metrics"].items()],
                             columns=["generation", "chain", "seed", "metric", "value"])
        hist.append(_finish(frame, strat))
        cols = {"strategy": strat.label, REAL_FRACTION: strat.real_fraction}
        ex += [dict(generation=g, seed=seed, **cols, text=saved["extra"].get("example", "")) for seed, g, saved in rows]
        ppl += [pd.DataFrame(dict(generation=g, seed=seed, **cols, ppl=saved["extra"]["ppl_gen0"]))
                for seed, g, saved in rows]
    history = _concat(hist) if hist else pd.DataFrame(columns=HISTORY_COLUMNS)
    if hist:
        history = history.sort_values(["strategy", "seed", "generation", "metric", "chain"], kind="stable",
                                      ignore_index=True)
    examples = pd.DataFrame(ex, columns=["generation", "seed", "strategy", REAL_FRACTION, "text"])
    ppl = (pd.concat(ppl, ignore_index=True) if ppl else
           pd.DataFrame(columns=["generation", "seed", "strategy", REAL_FRACTION, "ppl"]))
    prompt = ""
    if verify(out / "base") is None:
        test = np.load(out / "base" / "test.npy")
        prompt = tokenizer_of(out / "base").decode(example_prompt(test, setup.prompt_tokens)[0])
    return FinetuneResults(history, examples, ppl, prompt, setup, out)


def save_tables(results: FinetuneResults, folder) -> list[Path]:
    """Write ``history.csv``, ``examples.csv`` and ``ppl.csv`` (tidy, for notebooks and spreadsheets)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("history", "examples", "ppl"):
        path = folder / f"{name}.csv"
        getattr(results, name).to_csv(path, index=False)
        paths.append(path)
    return paths


def default_run_dir(setup: FinetuneSetup, name: str = "06") -> Path:
    """A run folder in the course cache named after the settings (on Colab: in Google Drive when mounted).

    Different settings get different folders, so changing a setting starts a new
    run while re-running the same settings resumes the old one.
    """
    import hashlib

    from .runtime import cache_dir

    digest = hashlib.sha1(json.dumps(asdict(setup), sort_keys=True).encode()).hexdigest()[:8]
    return cache_dir("runs", f"{name}-{setup.preset}-{digest}")
