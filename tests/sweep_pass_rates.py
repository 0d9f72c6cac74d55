"""One-off pass rates of the notebook asserts' seed sweeps, per check, in the current mode.

The suite runs every sweep for 20 seeds (``tests/conftest.py::assert_holds_for_many_seeds``); this script
measures how often each check holds over more seeds and prints a table as it goes, e.g. the full-mode rates
of benchmarks/RESULTS.md::

    cd tests && COLLAPSE_KIT_QUICK=0 OMP_NUM_THREADS=1 python sweep_pass_rates.py 100 100 \\
        test_gaussian test_seed_sweep_lesson02 test_compare --skip nb08_neural_flow_fixed_set_delays_fresh_prevents

Arguments: the first seed, how many seeds, then the test modules whose ``nb0*`` functions (``check(seed) ->
bool``, or a dict of named checks that must all hold) to run; ``--skip NAME`` leaves a check out (e.g. a slow
neural one that has its own one-off run), ``--only NAME`` runs only the named ones, and ``--workers K`` runs K
seeds side by side, for a many-core or GPU machine, where the neural checks at full-mode sizes take minutes
per seed::

    cd tests && COLLAPSE_KIT_QUICK=0 OMP_NUM_THREADS=1 python sweep_pass_rates.py 100 100 --workers 12 \
        test_seed_sweep_lesson06 --only nb06_main_run_asserts
"""
import argparse
import importlib
import inspect
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

import numpy as np


def checks_of(module_name: str, skip=(), only=()):
    module = importlib.import_module(module_name)
    return [(name, fn) for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("nb0") and fn.__module__ == module.__name__ and name not in skip
            and (not only or name in only)]


def holds(result) -> bool:
    """A check returns a bool, or a dict of named checks (and details) that must all hold."""
    if isinstance(result, dict):
        return all(bool(v) for v in result.values() if isinstance(v, (bool, np.bool_)))
    return bool(result)


def main(argv):
    parser = argparse.ArgumentParser(description="one-off pass rates of the notebook asserts' seed sweeps")
    parser.add_argument("first", type=int, help="first seed")
    parser.add_argument("count", type=int, help="how many seeds")
    parser.add_argument("modules", nargs="+", help="test modules (in tests/) whose nb0* checks to run")
    parser.add_argument("--skip", action="append", default=[], help="leave this check out (repeatable)")
    parser.add_argument("--only", action="append", default=[], help="run only this check (repeatable)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes running seeds side by side (a many-core or GPU machine); default 1")
    args = parser.parse_args(argv[1:])
    if args.workers < 1 or args.count < 1:
        parser.error("--workers and count must be at least 1")
    from collapse_kit.runtime import is_quick

    seeds = range(args.first, args.first + args.count)
    print(f"mode: {'quick' if is_quick() else 'full'}; seeds {seeds[0]}..{seeds[-1]}; {args.workers} worker(s)",
          flush=True)
    # spawn, not fork: safe with CUDA, and each worker imports the module afresh
    pool = (ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
            if args.workers > 1 else nullcontext())
    with pool:
        for module_name in args.modules:
            for name, fn in checks_of(module_name, args.skip, args.only):
                start = time.time()
                results = list(pool.map(fn, seeds)) if args.workers > 1 else [fn(seed) for seed in seeds]
                failed = [seed for seed, r in zip(seeds, results) if not holds(r)]
                print(f"{module_name}::{name}: {len(seeds) - len(failed)}/{len(seeds)} seeds hold"
                      + (f" (failed: {failed})" if failed else "") + f"  [{time.time() - start:.0f} s]", flush=True)


if __name__ == "__main__":
    main(sys.argv)
