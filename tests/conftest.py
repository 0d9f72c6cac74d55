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
