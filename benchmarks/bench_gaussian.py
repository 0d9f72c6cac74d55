"""Lesson 01 performance: exact sufficient-statistic simulation vs resample-and-refit,
and the explorer's redraw time, at 1,000 chains × 1,000 generations × M = 100.

Prints times and ratios measured in this run (best of R repeats). Run: `python benchmarks/bench_gaussian.py`.
"""
from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from collapse_kit import gaussian as G  # noqa: E402
from collapse_kit.loop import run_generations  # noqa: E402
from collapse_kit.plots import set_style  # noqa: E402

CHAINS, GENS, M = 1000, 1000, 100


def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    t_exact = best(lambda: G.simulate_gaussian_chains(CHAINS, GENS, M, seed=0), 5)
    t_naive = best(lambda: G.simulate_gaussian_naive(CHAINS, GENS, M, seed=0), 2)
    # the generic loop (one chain at a time, GaussianModel.fit/sample): time 5 chains, scale to 1,000
    few = 5
    t_loop_few = best(lambda: run_generations(lambda: G.GaussianModel(), np.random.default_rng(0).normal(size=M),
                                              generations=GENS, seeds=range(few)), 1)
    t_loop = t_loop_few * CHAINS / few
    print(f"Gaussian chains: {CHAINS} chains x {GENS} generations x M = {M}")
    print(f"  exact (sufficient statistics)        {t_exact * 1e3:9.1f} ms")
    print(f"  naive, vectorised across chains      {t_naive * 1e3:9.1f} ms   ratio {t_naive / t_exact:6.1f}x")
    print(f"  naive, generic loop one chain a time {t_loop * 1e3:9.1f} ms   ratio {t_loop / t_exact:6.1f}x "
          f"(timed on {few} chains, scaled)")

    set_style()
    for strategy in G.EXPLORER_STRATEGIES:
        def redraw():
            fig, _ = G.explorer_figure(sample_size=M, generations=GENS, strategy=strategy, n_chains=CHAINS)
            fig.savefig(io.BytesIO(), format="png")  # what the notebook's inline backend does
            matplotlib.pyplot.close(fig)
        t = best(redraw, 3)
        print(f"  explorer redraw incl. PNG render, {strategy:32s} {t * 1e3:7.1f} ms  (target < 300 ms)")


if __name__ == "__main__":
    main()
