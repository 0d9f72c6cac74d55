import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("COLLAPSE_KIT_QUICK", "1")


def assert_resumes(run, store, *, seed: int, generation: int, strategy):
    """Conformance helper: interrupt ``run(store=..., on_generation=...)`` after generation ``generation``
    of ``strategy`` in the batch ``seed`` has been saved, re-run it from the store, and check the
    resumed history equals an uninterrupted run's (``run()`` without a store)."""
    import pandas as pd
    import pytest

    class Stop(Exception):
        pass

    def crash(ctx):
        if ctx.seed == seed and ctx.generation == generation and ctx.strategy == strategy and not ctx.restored:
            raise Stop

    whole = run()
    with pytest.raises(Stop):
        run(store=store, on_generation=crash)
    pd.testing.assert_frame_equal(whole, run(store=store))


def assert_holds_for_many_seeds(check) -> None:
    """Seed sweep of one notebook assert: ``check(seed) -> bool`` must hold for every seed 100, 101, ...

    20 seeds by default (the notebooks use their own, smaller ones); ``COLLAPSE_KIT_SWEEP_SEEDS=100``
    measures the pass rate over more seeds (a one-off, slow).
    """
    from sweep_pass_rates import holds   # one rule: a dict's bools must hold (a non-empty dict is not True)

    n = int(os.environ.get("COLLAPSE_KIT_SWEEP_SEEDS", "20"))
    passed = [holds(check(seed)) for seed in range(100, 100 + n)]
    assert all(passed), f"{check.__name__}: {sum(passed)}/{n} seeds pass"


def print_pass_rate(check, argv) -> None:
    """One-off pass rates of a slow sweep: ``python tests/test_seed_sweep_lessonNN.py FIRST N`` prints
    ``check(seed)`` for seeds FIRST, FIRST + 1, ... (N of them) as each finishes, then the count that held."""
    from sweep_pass_rates import holds   # one rule: a dict's bools must hold, its numbers are details

    first, count = int(argv[1]), int(argv[2])
    held = 0
    for seed in range(first, first + count):
        result = check(seed)
        held += holds(result)
        print(seed, result, flush=True)
    print(f"{held}/{count} seeds hold", flush=True)
