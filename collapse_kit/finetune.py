"""Recursive fine-tuning of a language model: the Nature experiment at small scale.

Shumailov et al. (Nature 2024, Fig. 1 and Example 1) fine-tune a pre-trained
language model on human text (generation 0), let it continue real prompts,
fine-tune the *pre-trained* model again on those continuations (generation 1),
and so on. This module runs the same protocol with the course's tiny GPT:

* the **real task data** are ``n_blocks`` blocks of ``prompt_tokens`` tokens of
  human text held out from pre-training (:func:`collapse_kit.gpt.corpus_parts`);
* generation 0 fine-tunes the base model on them;
* generation ``g + 1`` fine-tunes the **base** model again on a data set of the
  same size made by generation ``g``: each real block, used as a prompt, is
  continued by ``new_tokens`` new tokens (5-way beam search by default, as in the
  paper), and the continuations are the new training blocks;
* each *arm* keeps a real fraction λ of real blocks in every generation's
  training set (λ = 0: strategy ``replace``; λ > 0: strategy ``real_fraction``,
  built by :meth:`collapse_kit.loop.Strategy.training_set`, the same code as
  every other lesson).

Why its own driver rather than :func:`collapse_kit.loop.run_generations`?
The data strategy, the seeds and the tidy history (``generation, seed, metric,
value, strategy`` plus ``real_fraction``) are the loop's, but this experiment
needs three things the in-memory loop does not offer: every generation is saved
to disk as it completes and a re-run resumes after the last complete generation
(a CPU run takes many minutes and a Colab session can drop); generation 0 is
shared by both arms; and every generation's data is scored by the generation-0
model (the paper's Fig. 1 histogram). :class:`FineTunedLM` still offers the
loop's ``fit``/``sample`` model protocol for anyone who wants to use the plain
loop (without resuming).

On disk (``out`` folder)::

    setup.json                         the settings that must match to resume
    base/                              the pre-trained model (safetensors + tokenizer)
    data/real.npy, data/test.npy       real task blocks and real test blocks
    seed=S/gen=00/                     generation 0 (shared by every arm)
    seed=S/real_fraction=L/gen=GG/     generation GG >= 1 of arm λ = L
        model/, train.npy, samples.npy, ppl_gen0.npy, test_nll.npy, metrics.json

A generation folder appears (atomic rename) only once all its files are written,
so an interrupted run leaves no half-finished generation behind.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ._validate import check_choice, check_float, check_fraction, check_int, check_seed
from .loop import Strategy
from .tokenizer import TOKENIZER_FILE, CharTokenizer

SETUP_FILE = "setup.json"
#: Paper-scale presets: a pre-trained hub model and its data set, for GPU users with internet.
PAPER_PRESETS = {"opt-125m": {"model": "facebook/opt-125m", "dataset": ("wikitext", "wikitext-2-raw-v1")}}
DONE_FILE = "metrics.json"


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class FinetuneSetup:
    """Everything that decides the numbers of a run (must match to resume).

    Parameters
    ----------
    preset : str
        The base GPT's preset (:data:`collapse_kit.gpt.PRESETS`).
    base_steps : int or None
        Pre-training steps of the base model (default: the preset's).
    n_blocks : int
        Real task blocks = size of every generation's training set.
    n_test : int
        Real test blocks for perplexity.
    prompt_tokens, new_tokens : int
        Length of each real block (the prompt) and of each continuation
        (the paper: 64 and 64 tokens).
    epochs : float
        Fine-tuning epochs per generation.
    lr : float
        Peak fine-tuning learning rate (warm-up then cosine decay).
    batch_size : int
        Fine-tuning batch size.
    decoding : {"beam", "sample", "greedy"}
        How continuations are made (the paper: beam search, 5 beams).
    num_beams, temperature, top_k, top_p :
        Decoding parameters (see :func:`collapse_kit.gpt.generate`).
    """

    preset: str = "cpu"
    base_steps: int | None = None
    n_blocks: int = 256
    n_test: int = 256
    prompt_tokens: int = 64
    new_tokens: int = 64
    epochs: float = 3.0
    lr: float = 1e-3
    batch_size: int = 16
    decoding: str = "beam"
    num_beams: int = 5
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self):
        from .gpt import PRESETS

        check_choice("preset", self.preset, tuple(PRESETS) + tuple(PAPER_PRESETS))
        if self.base_steps is not None:
            check_int("base_steps", self.base_steps, low=1)
        check_int("n_blocks", self.n_blocks, low=8)
        check_int("n_test", self.n_test, low=2)
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
        if self.preset in PRESETS and self.prompt_tokens + self.new_tokens > PRESETS[self.preset].block_size:
            raise ValueError(f"`prompt_tokens + new_tokens` must be <= the {self.preset} preset's block size "
                             f"{PRESETS[self.preset].block_size} (got {self.prompt_tokens + self.new_tokens}).")


def strategy_for(real_fraction: float) -> Strategy:
    """The loop's strategy of an arm: ``replace`` for λ = 0, else ``real_fraction`` (fixed real set)."""
    lam = check_fraction("real_fraction", real_fraction)
    return Strategy("replace") if lam == 0 else Strategy("real_fraction", lam)


def _arm_name(real_fraction: float) -> str:
    return f"real_fraction={real_fraction:g}"


def _rng(seed: int, real_fraction: float, generation: int) -> np.random.Generator:
    """The random stream of one generation: depends on (seed, λ, generation) only, so resuming is exact."""
    return np.random.default_rng([seed, int(round(real_fraction * 10_000)), generation])


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


# --------------------------------------------------------------------------- the model, loop-style
class FineTunedLM:
    """The experiment's model in the loop's ``fit``/``sample`` protocol.

    ``fit(blocks, rng)`` fine-tunes a fresh copy of the base model on the token
    blocks; ``sample(n, rng)`` continues the first ``n`` real prompts (cycling if
    ``n`` exceeds them) and returns the new tokens as blocks.
    """

    def __init__(self, base_dir, prompts, setup: FinetuneSetup, device: str | None = None):
        self.base_dir, self.prompts, self.setup, self.device = Path(base_dir), np.asarray(prompts), setup, device
        self.model = None

    def fit(self, data, rng: np.random.Generator) -> "FineTunedLM":
        from . import gpt

        model, _, _ = gpt.load(self.base_dir, device=self.device)
        s = self.setup
        gpt.train(model, np.asarray(data), epochs=s.epochs, lr=s.lr, batch_size=s.batch_size,
                  preset=s.preset, seed=int(rng.integers(2**31)))
        self.model = model
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from . import gpt

        if self.model is None:
            raise RuntimeError("call fit() before sample().")
        n = check_int("n", n, low=1)
        idx = np.arange(n) % len(self.prompts)
        s = self.setup
        return gpt.generate(self.model, self.prompts[idx], s.new_tokens, method=s.decoding, num_beams=s.num_beams,
                            temperature=s.temperature, top_k=s.top_k, top_p=s.top_p,
                            seed=int(rng.integers(2**31)))


# --------------------------------------------------------------------------- preparing a run folder
def _pick_rows(blocks: np.ndarray, n: int, name: str) -> np.ndarray:
    if len(blocks) < n:
        raise ValueError(f"`{name}` asks for {n} blocks but the text holds only {len(blocks)}.")
    return blocks[np.linspace(0, len(blocks) - 1, n).round().astype(int)]  # spread over the whole text


def prepare(out, setup: FinetuneSetup, *, device: str | None = None, progress: bool = True) -> Path:
    """Create (or check) the run folder: settings, base model and real data.

    Re-using a folder made with different settings raises a ``ValueError``
    (results would not be comparable); use a new folder instead.
    """
    from . import gpt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = asdict(setup)
    setup_path = out / SETUP_FILE
    if setup_path.is_file():
        have = json.loads(setup_path.read_text())
        if have != wanted:
            diff = {k: (have.get(k), v) for k, v in wanted.items() if have.get(k) != v}
            raise ValueError(f"the run folder {out} was made with other settings {diff} (saved, asked); "
                             "choose a new `out` folder or the same settings.")
    if setup.preset in PAPER_PRESETS:
        _prepare_paper(out, setup)
    if not (out / "base" / gpt.META_FILE).is_file():
        model, tok, meta = gpt.base_model(setup.preset, steps=setup.base_steps, device=device, progress=progress)
        tmp = out / f"base.tmp{os.getpid()}"
        gpt.save(tmp, model, tok, meta)
        _publish(tmp, out / "base")
    if not (out / "data" / "test.npy").is_file():
        tok = CharTokenizer.load(out / "base")
        parts = gpt.corpus_parts()
        real = _pick_rows(gpt.as_blocks(tok.encode(parts["task"]), setup.prompt_tokens), setup.n_blocks, "n_blocks")
        test = _pick_rows(gpt.as_blocks(tok.encode(parts["test"]), setup.prompt_tokens + setup.new_tokens),
                          setup.n_test, "n_test")
        tmp = out / f"data.tmp{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        np.save(tmp / "real.npy", real)
        np.save(tmp / "test.npy", test)
        _publish(tmp, out / "data")
    if not setup_path.is_file():
        setup_path.write_text(json.dumps(wanted, indent=1))
    return out


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


def _prepare_paper(out: Path, setup: FinetuneSetup) -> None:  # pragma: no cover - needs internet and a GPU
    """Base model and data of a paper-scale run: OPT-125m and wikitext-2 (Shumailov et al. 2024)."""
    from . import gpt

    if (out / "base" / gpt.META_FILE).is_file() and (out / "data" / "test.npy").is_file():
        return
    check_paper_requirements(setup.preset)
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = PAPER_PRESETS[setup.preset]
    tok = AutoTokenizer.from_pretrained(spec["model"])
    model = AutoModelForCausalLM.from_pretrained(spec["model"])
    tmp = out / f"base.tmp{os.getpid()}"
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / gpt.META_FILE).write_text(json.dumps({"preset": setup.preset, "model": spec["model"]}))
    _publish(tmp, out / "base")
    ds = load_dataset(*spec["dataset"])
    wrap = _HFTokenizer(tok)
    real = gpt.as_blocks(wrap.encode("".join(ds["train"]["text"])), setup.prompt_tokens)
    test = gpt.as_blocks(wrap.encode("".join(ds["test"]["text"])), setup.prompt_tokens + setup.new_tokens)
    tmp = out / f"data.tmp{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    np.save(tmp / "real.npy", _pick_rows(real, min(setup.n_blocks, len(real)), "n_blocks"))
    np.save(tmp / "test.npy", _pick_rows(test, min(setup.n_test, len(test)), "n_test"))
    _publish(tmp, out / "data")


def _load_model(folder: Path, device):
    """A saved generation: the model and a tokenizer (the course's, or a hub model's)."""
    from . import gpt

    model, tok, meta = gpt.load(folder, device=device)
    if tok is None and (folder / "tokenizer_config.json").is_file():  # pragma: no cover - paper scale
        from transformers import AutoTokenizer

        tok = _HFTokenizer(AutoTokenizer.from_pretrained(folder))
    return model, tok, meta


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished folder into place atomically (another process may have won: keep theirs)."""
    try:
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _gen_dir(out: Path, seed: int, real_fraction: float, generation: int) -> Path:
    if generation == 0:
        return out / f"seed={seed}" / "gen=00"
    return out / f"seed={seed}" / _arm_name(real_fraction) / f"gen={generation:02d}"


def example_prompt(test: np.ndarray, prompt_tokens: int) -> np.ndarray:
    """The fixed prompt continued by every generation (the paper's Example 1): the first test block's start."""
    return test[:1, :prompt_tokens]


def _fraction_real(train: np.ndarray, real: np.ndarray) -> float:
    """Fraction of training rows that are real blocks (a check that the strategy did what it says)."""
    real_rows = {r.tobytes() for r in np.ascontiguousarray(real)}
    return float(np.mean([r.tobytes() in real_rows for r in np.ascontiguousarray(train)]))


# --------------------------------------------------------------------------- one generation
def _run_generation(out: Path, setup: FinetuneSetup, seed: int, real_fraction: float, generation: int,
                    device: str | None, progress: bool, callback: Callable | None) -> None:
    from . import gpt

    final = _gen_dir(out, seed, real_fraction, generation)
    if (final / DONE_FILE).is_file():
        return
    t0 = time.perf_counter()
    rng = _rng(seed, real_fraction if generation else 0.0, generation)
    real = np.load(out / "data" / "real.npy")
    test = np.load(out / "data" / "test.npy")
    if generation == 0:
        train = real
    else:
        prev = np.load(_gen_dir(out, seed, real_fraction, generation - 1) / "samples.npy")
        train = strategy_for(real_fraction).training_set(real, [prev], len(real), rng)
    model, tok, _ = _load_model(out / "base", device)
    label = f"seed {seed}, λ={real_fraction:g}, generation {generation}"
    gpt.train(model, train, epochs=setup.epochs, lr=setup.lr, batch_size=setup.batch_size, preset=setup.preset,
              seed=int(rng.integers(2**31)), progress=progress, desc=f"fine-tuning ({label})")
    tmp = final.with_name(final.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    gpt.save(tmp / "model", model, tok if isinstance(tok, CharTokenizer) else None, {"seed": seed, "real_fraction": real_fraction, "generation": generation})
    if callback is not None:
        callback(stage="trained", seed=seed, real_fraction=real_fraction, generation=generation)
    decode = dict(method=setup.decoding, num_beams=setup.num_beams, temperature=setup.temperature,
                  top_k=setup.top_k, top_p=setup.top_p)
    samples = gpt.generate(model, real, setup.new_tokens, seed=int(rng.integers(2**31)), progress=progress, **decode)
    example = gpt.generate(model, example_prompt(test, setup.prompt_tokens), setup.new_tokens, seed=0, **decode)
    if callback is not None:
        callback(stage="generated", seed=seed, real_fraction=real_fraction, generation=generation)
    test_nll = gpt.sequence_nll(model, test)
    if generation == 0:
        gen0 = model
    else:
        gen0, _, _ = gpt.load(_gen_dir(out, seed, real_fraction, 0) / "model", device=device)
    ppl_gen0 = np.exp(gpt.sequence_nll(gen0, train))
    texts = tok.decode_batch(samples) if tok is not None else []
    metrics = {
        "test_ppl": float(np.mean(np.exp(test_nll))),
        "test_nll": float(np.mean(test_nll)),
        "train_ppl_gen0_mean": float(np.mean(ppl_gen0)),
        "train_ppl_gen0_median": float(np.median(ppl_gen0)),
        "train_ppl_gen0_p95": float(np.quantile(ppl_gen0, 0.95)),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "repetition_2": repetition(texts, 2),
        "real_in_train": _fraction_real(train, real),
    }
    np.save(tmp / "train.npy", train)
    np.save(tmp / "samples.npy", samples)
    np.save(tmp / "ppl_gen0.npy", ppl_gen0)
    np.save(tmp / "test_nll.npy", test_nll)
    info = {"seed": seed, "real_fraction": real_fraction, "generation": generation, "metrics": metrics,
            "example": tok.decode(example[0]) if tok is not None else "", "seconds": time.perf_counter() - t0}
    (tmp / DONE_FILE).write_text(json.dumps(info, indent=1))
    final.parent.mkdir(parents=True, exist_ok=True)
    _publish(tmp, final)


def run(out, *, generations: int = 5, real_fractions: Sequence[float] = (0.0, 0.1), seeds: Sequence[int] = (0,),
        setup: FinetuneSetup | None = None, device: str | None = None, progress: bool = True,
        callback: Callable | None = None) -> "FinetuneResults":
    """Run (or resume) recursive fine-tuning; return all results found in ``out``.

    Parameters
    ----------
    out : path
        The run folder. Every finished generation is saved there at once; a
        re-run with the same settings skips finished generations (resume), and a
        larger ``generations``, extra seeds or arms extend the run.
    generations : int >= 1
        Generations after generation 0.
    real_fractions : floats in [0, 1]
        One arm per value: the fraction λ of real blocks in each training set
        (0 = no real data kept; the paper's other arm is 0.1).
    seeds : ints >= 0
        Independent repetitions (different batch orders and real subsets).
    setup : :class:`FinetuneSetup` (default: ``FinetuneSetup()``)
    device : "cpu", "cuda", "mps" or None (the best available)
    callback : callable(stage=, seed=, real_fraction=, generation=), optional
        Called after a generation's fine-tuning ("trained") and generation
        ("generated") steps, before it is saved as complete (used by the
        interruption test).
    """
    setup = setup or FinetuneSetup()
    if not isinstance(setup, FinetuneSetup):
        raise TypeError(f"`setup` must be a FinetuneSetup (got {type(setup).__name__}).")
    generations = check_int("generations", generations, low=1)
    fracs = [check_fraction("real_fractions", f) for f in real_fractions]
    if not fracs:
        raise ValueError("`real_fractions` must hold at least one fraction in [0, 1].")
    seed_list = [check_seed("seeds", s) for s in seeds]
    if not seed_list:
        raise ValueError("`seeds` must hold at least one seed.")
    out = prepare(out, setup, device=device, progress=progress)
    from tqdm.auto import tqdm

    todo = [(s, 0.0, 0) for s in seed_list] + [(s, f, g) for s in seed_list for f in fracs
                                               for g in range(1, generations + 1)]
    bar = tqdm(total=len(todo), desc="generations", disable=not progress)
    for s, f, g in todo:
        _run_generation(out, setup, s, f, g, device, progress, callback)
        bar.update(1)
    bar.close()
    return load_results(out)


# --------------------------------------------------------------------------- results
@dataclass
class FinetuneResults:
    """What a run folder holds, as tidy tables.

    Attributes
    ----------
    history : DataFrame ``generation, seed, metric, value, strategy, real_fraction``
        (generation 0 appears once per arm, so every arm's curve starts there).
    examples : DataFrame ``generation, seed, real_fraction, text`` (the fixed prompt's continuations).
    ppl : DataFrame ``generation, seed, real_fraction, ppl`` - per-sequence perplexity of each
        generation's training data under the generation-0 model (the paper's Fig. 1).
    prompt : the fixed prompt's text.
    setup : the run's :class:`FinetuneSetup`.
    """

    history: pd.DataFrame
    examples: pd.DataFrame
    ppl: pd.DataFrame
    prompt: str
    setup: FinetuneSetup
    seconds: float = 0.0
    out: Path = field(default=None)

    def metric(self, name: str) -> pd.DataFrame:
        """Mean and spread (std over seeds) of one metric per arm and generation."""
        sub = self.history[self.history["metric"] == name]
        if sub.empty:
            raise ValueError(f"`name` must be one of {sorted(set(self.history['metric']))} (got {name!r}).")
        g = sub.groupby(["real_fraction", "generation"])["value"]
        return g.agg(mean="mean", std="std", n="count").reset_index()


def load_results(out) -> FinetuneResults:
    """Read every complete generation of a run folder (see :func:`run`)."""
    out = Path(out)
    if not (out / SETUP_FILE).is_file():
        raise FileNotFoundError(f"{out} is not a run folder (no {SETUP_FILE}); start one with run().")
    setup = FinetuneSetup(**json.loads((out / SETUP_FILE).read_text()))
    infos = []
    for path in sorted(out.glob(f"seed=*/**/{DONE_FILE}")):
        if ".tmp" in str(path.parent):
            continue
        info = json.loads(path.read_text())
        info["dir"] = path.parent
        infos.append(info)
    gen0 = {i["seed"]: i for i in infos if i["generation"] == 0}
    arms = sorted({i["real_fraction"] for i in infos if i["generation"] > 0})
    rows, ex, ppl_parts = [], [], []
    seconds = 0.0
    for i in infos:
        seconds += i.get("seconds", 0.0)
        targets = arms if i["generation"] == 0 else [i["real_fraction"]]
        for lam in targets or [0.0]:
            label = strategy_for(lam).label
            for name, value in i["metrics"].items():
                rows.append((i["generation"], i["seed"], name, value, label, lam))
            ex.append((i["generation"], i["seed"], lam, i["example"]))
            ppl = np.load(i["dir"] / "ppl_gen0.npy")
            ppl_parts.append(pd.DataFrame({"generation": i["generation"], "seed": i["seed"], "real_fraction": lam,
                                           "ppl": ppl}))
    history = pd.DataFrame(rows, columns=["generation", "seed", "metric", "value", "strategy", "real_fraction"])
    history = history.sort_values(["real_fraction", "seed", "generation", "metric"]).reset_index(drop=True)
    examples = pd.DataFrame(ex, columns=["generation", "seed", "real_fraction", "text"]).sort_values(
        ["real_fraction", "seed", "generation"]).reset_index(drop=True)
    ppl = (pd.concat(ppl_parts, ignore_index=True) if ppl_parts else
           pd.DataFrame(columns=["generation", "seed", "real_fraction", "ppl"]))
    prompt = ""
    if (out / "data" / "test.npy").is_file() and gen0:
        if (out / "base" / TOKENIZER_FILE).is_file():
            tok = CharTokenizer.load(out / "base")
            prompt = tok.decode(example_prompt(np.load(out / "data" / "test.npy"), setup.prompt_tokens)[0])
    return FinetuneResults(history, examples, ppl, prompt, setup, seconds, out)


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


# --------------------------------------------------------------------------- explorer
def explorer(results: FinetuneResults):
    """Pick an arm (real fraction) and a generation: the paper's Fig. 1 histogram and Example 1 text.

    Left: per-sequence perplexity (under the generation-0 model) of the chosen
    generation's training data against generation 0's real data. Right: the
    real-test perplexity of every generation of every arm in the run, the chosen
    point marked. Below: the fixed prompt's continuation by that generation.
    Only arms and generations that the run computed can be chosen.
    """
    import matplotlib.pyplot as plt

    from .widgets import Explorer, dropdown, int_slider

    arms = sorted(set(results.history["real_fraction"]))
    if not arms:
        raise ValueError("`results` holds no finished generation yet; run() first.")
    g_max = int(results.history["generation"].max())
    test = results.metric("test_ppl")

    def draw(real_fraction, generation):
        have = set(results.ppl.query("real_fraction == @real_fraction")["generation"])
        g = min(generation, max(have))
        cur = results.ppl.query("real_fraction == @real_fraction and generation == @g")["ppl"].to_numpy()
        ref = results.ppl.query("real_fraction == @real_fraction and generation == 0")["ppl"].to_numpy()
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
        bins = np.geomspace(max(1.0, min(cur.min(), ref.min()) * 0.9), max(cur.max(), ref.max()) * 1.1, 40)
        a.hist(ref, bins=bins, alpha=0.5, color="0.5", label="generation 0 (real blocks)")
        a.hist(cur, bins=bins, alpha=0.6, color="C3", label=f"generation {g}")
        a.set_xscale("log")
        a.set_xlabel("perplexity under the generation-0 model")
        a.set_ylabel("training sequences")
        a.set_title(f"λ = {real_fraction:g}: training data of generation {g}")
        a.legend()
        for lam, sub in test.groupby("real_fraction"):
            b.plot(sub["generation"], sub["mean"], "o-", label=f"λ = {lam:g}")
        row = test.query("real_fraction == @real_fraction and generation == @g")
        b.plot(row["generation"], row["mean"], "o", ms=14, mfc="none", mec="k")
        b.set_xlabel("generation")
        b.set_ylabel("perplexity of real test text")
        b.set_title("real-test perplexity per generation")
        b.legend()
        if g != generation:
            from .plots import annotate

            annotate(b, f"generation {generation} not run for λ = {real_fraction:g}; showing {g}")
        ex = results.examples.query("real_fraction == @real_fraction and generation == @g")["text"]
        text = ex.iloc[0] if len(ex) else ""
        fig.text(0.01, -0.06, f"generation {g} continues the prompt: " + text.replace("\n", " ⏎ "),
                 fontsize=9, family="monospace")
        fig.tight_layout()
        return fig, {"generation": g, "median_ppl": float(np.median(cur)), "text": text}

    controls = {"real_fraction": dropdown("real fraction λ", arms, arms[0]),
                "generation": int_slider("generation", g_max, 0, g_max)}
    return Explorer(controls, draw, title="Recursive fine-tuning: what each generation trained on")


def default_run_dir(setup: FinetuneSetup, name: str = "06") -> Path:
    """A run folder in the course cache named after the settings (on Colab: in Google Drive when mounted).

    Different settings get different folders, so changing a setting starts a new
    run while re-running the same settings resumes the old one.
    """
    import hashlib

    from .runtime import cache_dir

    digest = hashlib.sha1(json.dumps(asdict(setup), sort_keys=True).encode()).hexdigest()[:8]
    return cache_dir("runs", f"{name}-{setup.preset}-{digest}")
