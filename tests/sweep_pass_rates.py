"""One-off pass rates of the notebook asserts' seed sweeps, per check, in the current mode.

The suite runs every sweep for 20 seeds (``tests/conftest.py::assert_holds_for_many_seeds``); this script
measures how often each check holds over more seeds and prints a table as it goes, e.g. the full-mode rates
of benchmarks/RESULTS.md::

    cd tests && COLLAPSE_KIT_QUICK=0 OMP_NUM_THREADS=1 python sweep_pass_rates.py 100 100 \\
        test_gaussian test_seed_sweep_lesson02 test_compare --skip nb08_neural_flow_fixed_set_delays_fresh_prevents

Arguments: the first seed, how many seeds, then the test modules whose ``nb0*`` functions (``check(seed) ->
bool``) to run; ``--skip NAME`` leaves a check out (e.g. a slow neural one that has its own one-off run).
"""
import importlib
import inspect
import sys
import time


def checks_of(module_name: str, skip=()):
    module = importlib.import_module(module_name)
    return [(name, fn) for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("nb0") and fn.__module__ == module.__name__ and name not in skip]


def main(argv):
    skip = [argv[i + 1] for i, a in enumerate(argv) if a == "--skip"]
    args = [a for i, a in enumerate(argv) if a != "--skip" and (i == 0 or argv[i - 1] != "--skip")]
    first, count, modules = int(args[1]), int(args[2]), args[3:]
    from collapse_kit.runtime import is_quick

    print(f"mode: {'quick' if is_quick() else 'full'}; seeds {first}..{first + count - 1}", flush=True)
    for module_name in modules:
        for name, fn in checks_of(module_name, skip):
            start, held, failed = time.time(), 0, []
            for seed in range(first, first + count):
                if fn(seed):
                    held += 1
                else:
                    failed.append(seed)
            print(f"{module_name}::{name}: {held}/{count} seeds hold"
                  + (f" (failed: {failed})" if failed else "") + f"  [{time.time() - start:.0f} s]", flush=True)


if __name__ == "__main__":
    main(sys.argv)
