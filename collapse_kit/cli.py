"""Command-line entry point: run the course's GPT experiments outside Jupyter.

Examples::

    collapse-kit train --preset cpu                      # pre-train (or find) the base GPT
    collapse-kit finetune --generations 5 --real-fraction 0 0.1 --seeds 0 --out runs/base   # the shipped base GPT
    collapse-kit finetune --real-fraction 0.1 --seeds 3 --out runs/base   # one (arm, seed) per process
    collapse-kit finetune --preset opt-125m ...          # paper scale: needs internet, `datasets` and a GPU
    collapse-kit prepare                                 # before a lab session: cache what lessons 03-06 train

``prepare`` trains and caches, offline, everything a lesson would otherwise train live (the digit
runs of lesson 03, the base GPT of lessons 05-07, lesson 06's real-fraction grid), prints what it
cached and how long a cold start took, and says which folder to copy onto lab machines.

``finetune`` resumes a run folder after its last complete generation, then
writes tidy tables (``results/history.csv``, ``examples.csv``, ``ppl.csv``) and
plots (``results/test_ppl.png``, ``results/ppl_hist.png``) that lesson 06 can
load with :func:`collapse_kit.finetune.load_results`. Several processes may
share one ``--out`` folder (different arms or seeds, e.g. one per GPU).

It runs :func:`collapse_kit.finetune.run`, the function lesson 06 calls. User errors
(bad settings, a folder that holds another run, ``--device cuda`` without a GPU) are
found before any training and printed as one line with exit status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .strategies import REAL_FRACTION


PREPARE_LESSONS = ("03", "05", "06")  # lesson 07 trains nothing ahead: its base GPT is shipped


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collapse-kit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="pre-train the base GPT of a preset (cached)")
    t.add_argument("--preset", default="cpu", help="tiny, cpu, gpu or gpu-large (default: cpu)")
    t.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    t.add_argument("--out", default=None, help="also save the model here")

    p = sub.add_parser("prepare", help="cache what lessons 03-06 train, before a lab session (offline)")
    p.add_argument("--lessons", nargs="+", default=list(PREPARE_LESSONS),
                   help=f"lessons to prepare (default: all of {', '.join(PREPARE_LESSONS)})")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    f = sub.add_parser("finetune", help="recursive fine-tuning over generations (Shumailov et al. 2024)")
    from .finetune import FinetuneSetup  # one source of the defaults: the settings class itself

    d = FinetuneSetup()
    f.add_argument("--preset", default=d.preset,
                   help=f"base (the shipped model), tiny, cpu, gpu, gpu-large, or opt-125m (paper scale) (default: {d.preset})")
    f.add_argument("--generations", type=int, default=5, help="generations after generation 0 (default 5)")
    f.add_argument("--real-fraction", type=float, nargs="+", default=[0.0, 0.1],
                   help="one arm per value: fraction of real blocks kept (default: 0 0.1)")
    f.add_argument("--seeds", type=int, nargs="+", default=[0])
    f.add_argument("--out", required=True, help="run folder (created; re-running resumes)")
    f.add_argument("--base-steps", type=int, default=d.base_steps, help="pre-training steps of a trained-here base model")
    f.add_argument("--n-blocks", type=int, default=d.n_blocks, help=f"real task blocks = training-set size (default {d.n_blocks})")
    f.add_argument("--n-test", type=int, default=d.n_test, help=f"real test blocks (default {d.n_test})")
    f.add_argument("--n-valid", type=int, default=d.n_valid,
                   help=f"real validation blocks that choose each generation's best epoch (default {d.n_valid})")
    f.add_argument("--prompt-tokens", type=int, default=d.prompt_tokens)
    f.add_argument("--new-tokens", type=int, default=d.new_tokens)
    f.add_argument("--epochs", type=float, default=d.epochs)
    f.add_argument("--lr", type=float, default=d.lr)
    f.add_argument("--batch-size", type=int, default=d.batch_size)
    f.add_argument("--decoding", default=d.decoding,
                   help=f"sample, beam (the paper's main runs) or greedy (default: {d.decoding})")
    f.add_argument("--num-beams", type=int, default=d.num_beams)
    f.add_argument("--temperature", type=float, default=d.temperature)
    f.add_argument("--top-k", type=int, default=d.top_k)
    f.add_argument("--top-p", type=float, default=d.top_p)
    f.add_argument("--repetition-penalty", type=float, default=d.repetition_penalty,
                   help="CTRL repetition penalty at decoding (default 1 = off; the paper's released code: 3.0)")
    f.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    f.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _plots(results, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from .plots import plot_history

    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_history(results.history, "test_ppl", hue="strategy", ax=ax,
                 title="Perplexity of real test text per generation")
    ax.set_ylabel("mean per-sequence perplexity (real test)")
    paths.append(folder / "test_ppl.png")
    fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
    plt.close(fig)
    g = sns.displot(data=results.ppl, x="ppl", hue="generation", col="strategy", kind="hist",
                    log_scale=True, element="step", fill=False, common_norm=False, stat="density",
                    palette="viridis", height=3.5)
    g.set_axis_labels("perplexity under the generation-0 model", "density")
    g.figure.suptitle("Training data of each generation, scored by generation 0 (cf. Shumailov et al. Fig. 1)",
                      y=1.04)
    paths.append(folder / "ppl_hist.png")
    g.figure.savefig(paths[-1], dpi=120, bbox_inches="tight")
    plt.close(g.figure)
    return paths


def _fail(message: str, code: int) -> int:
    print(f"collapse-kit: {message}".replace("\n", " "), file=sys.stderr)
    return code


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 on success, 2 for a user error, 1 otherwise).

    Every user error (a bad setting, a folder holding another run, a device this machine lacks),
    whenever it is found, is one line on stderr with exit status 2; everything that can be
    checked is checked before any training starts. An unexpected error prints one line and
    the file that holds the full traceback.
    """
    args = _parser().parse_args(argv)
    from .store import StoreError

    try:
        return {"finetune": _finetune, "train": _train, "prepare": _prepare}[args.command](args)
    except (ValueError, TypeError, StoreError) as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return _fail("interrupted; re-run the same command to resume.", 130)
    except Exception as exc:  # noqa: BLE001 - a bug or a broken machine: one line and where the log is
        import tempfile
        import traceback

        folder = Path(getattr(args, "out", None) or tempfile.gettempdir())
        log = (folder if folder.is_dir() else Path(tempfile.gettempdir())) / "collapse-kit-error.log"
        log.write_text(traceback.format_exc())
        return _fail(f"unexpected error {type(exc).__name__}: {exc} (full log: {log})", 1)


def _train(args) -> int:
    from . import gpt
    from .finetune import check_device

    start = time.perf_counter()
    model, tok, meta = gpt.base_model(args.preset, seed=args.seed, steps=args.steps, device=check_device(args.device))
    print(f"{args.preset}: {meta['parameters']:,} parameters, {meta['steps']} steps, "
          f"validation loss {meta['valid_loss']:.4f} ({time.perf_counter() - start:.1f} s)")
    if args.out:
        gpt.save(args.out, model, tok, meta)
        print(f"saved to {args.out}")
    return 0


def _prepare_steps(device, progress):
    """(lesson, what, callable) for everything a lesson would otherwise train live, in full mode."""
    from . import finetune as ft
    from . import gpt, images
    from .runtime import get_device

    dev = get_device(device)
    preset = "gpu" if dev == "cuda" else "cpu"
    seeds = [0, 1, 2] if dev == "cuda" else [0]
    steps = {
        "03": [("digit runs for the mix-ratio explorer (λ grid, fixed and fresh)",
                lambda: images.prepare_image_runs(progress=progress))],
        "05": [(f"lesson 05's own character GPT ({preset} preset, trained live in its section 3)", lambda: gpt.base_model(preset, seed=0, device=dev, progress=progress))],
        "06": [(f"recursive fine-tuning: the real-fraction grid {ft.GRID} and the decoding arms",
                lambda: ft.prepare_lesson(seeds=seeds, device=dev, progress=progress))],
    }
    return steps


def _prepare(args) -> int:
    """Cache everything lessons 03-06 train (full mode), report what and how long a cold start took."""
    import json
    import os

    from .runtime import cache_dir, is_quick

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the package: never the network
    unknown = sorted(set(args.lessons) - set(PREPARE_LESSONS))
    if unknown:
        return _fail(f"--lessons must be among {', '.join(PREPARE_LESSONS)} (got {', '.join(unknown)}).", 2)
    from .finetune import check_device

    device = check_device(args.device)
    log_path = cache_dir() / "prepare.json"
    try:
        log = json.loads(log_path.read_text()) if log_path.is_file() else {}
    except ValueError:
        log = {}
    mode = "quick" if is_quick() else "full"
    steps = _prepare_steps(device, not args.quiet)
    total = 0.0
    for lesson in sorted(set(args.lessons)):
        for what, fn in steps[lesson]:
            start = time.perf_counter()
            fn()
            took = time.perf_counter() - start
            total += took
            key = f"{mode}:{lesson}:{what}"
            cold = log.get(key)
            if cold is None or took > 0.5 * cold:  # it computed: this was the cold start
                log[key] = cold = took
                verdict = f"computed in {took:.0f} s"
            else:
                verdict = f"already cached ({took:.1f} s to check; a cold start took {cold:.0f} s)"
            print(f"lesson {lesson}: {what}: {verdict}")
    log_path.write_text(json.dumps(log, indent=1))
    print(f"done in {total:.0f} s ({mode} mode). The cache is {cache_dir()}: copy that folder onto each lab "
          f"machine (same path, or set COLLAPSE_KIT_CACHE) and the lessons load these results instead of training.")
    return 0


def _finetune(args) -> int:
    from . import finetune as ft
    from ._validate import check_int
    from .history import summarize

    if args.preset in ft.PAPER_PRESETS:
        try:
            ft.check_paper_requirements(args.preset)
        except RuntimeError as exc:
            return _fail(str(exc), 2)
    if args.threads is not None:
        import torch

        torch.set_num_threads(check_int("threads", args.threads, low=1))
    setup = ft.FinetuneSetup(preset=args.preset, base_steps=args.base_steps, n_blocks=args.n_blocks,
                             n_test=args.n_test, prompt_tokens=args.prompt_tokens, new_tokens=args.new_tokens,
                             epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, decoding=args.decoding,
                             num_beams=args.num_beams, temperature=args.temperature, top_k=args.top_k,
                             top_p=args.top_p, n_valid=args.n_valid, repetition_penalty=args.repetition_penalty)
    start = time.perf_counter()
    results = ft.run(args.out, generations=args.generations, real_fractions=args.real_fraction, seeds=args.seeds,
                     setup=setup, device=args.device, progress=not args.quiet)
    folder = Path(args.out) / "results"
    paths = ft.save_tables(results, folder) + _plots(results, folder)
    table = summarize(results.history, "test_ppl", by=(REAL_FRACTION, "generation")).pivot(
        index="generation", columns=REAL_FRACTION, values="mean")
    print("mean perplexity of real test text (columns: real fraction λ):")
    print(table.round(3).to_string())
    print(f"done in {time.perf_counter() - start:.1f} s; wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
