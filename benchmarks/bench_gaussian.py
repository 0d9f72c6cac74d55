"""Lesson 00-01 performance, in one run, at 1,000 chains × 1,000 generations × M = 100 (MLE, replace):

(a) the course's one loop, ``run_generations`` with the batched ``GaussianModel`` (and ``loop_metrics``),
    against a small vectorised naive reference written here (sample, refit, record; no generality):
    target: the loop within 1.5× of it;
(b) the exact sufficient-statistic engine ``simulate_gaussian_chains`` against the loop: target ≥ 30×,
    end to end (both return the tidy history) and for the engines' cores (arrays only);
(c) the lesson-01 explorer's redraw (exact engine + figure + the PNG the notebook shows): target < 300 ms.

Prints times (best of R repeats), ratios and the load average. Run: `python benchmarks/bench_gaussian.py`.
"""
from __future__ import annotations

import io
import os
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from collapse_kit import gaussian as G  # noqa: E402
from collapse_kit.explorers import _gaussian_choices, gaussian_explorer  # noqa: E402
from collapse_kit.loop import run_generations  # noqa: E402
from collapse_kit.plots import set_style  # noqa: E402
from collapse_kit.strategies import WORKFLOWS  # noqa: E402

CHAINS, GENS, M = 1000, 1000, 100


def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_reference(n_chains=CHAINS, generations=GENS, m=M, seed=0):
    """The baseline: draw all M samples per chain, refit by MLE, record mean, variance and W2² (replace)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_chains, m))
    means = np.empty((n_chains, generations + 1))
    vars_ = np.empty((n_chains, generations + 1))
    for g in range(generations + 1):
        if g:
            x = rng.standard_normal((n_chains, m))
            x *= np.sqrt(vars_[:, g - 1])[:, None]
            x += means[:, g - 1][:, None]
        means[:, g] = x.mean(axis=1)
        vars_[:, g] = x.var(axis=1)
    return means, vars_, G.w2_squared(means, vars_)


def loop_run():
    return run_generations(G.GaussianModel, real_sampler=G.normal_source(), sample_size=M, n_chains=CHAINS,
                           generations=GENS, metrics=G.loop_metrics(), seeds=0)


def loop_core():
    """The loop's work without assembling the history: next_generation over the batch, metrics kept as arrays."""
    from collapse_kit.loop import generation_rng, next_generation

    s, out = WORKFLOWS[0], []
    real = G.normal_source()(np.random.default_rng(0), CHAINS, M)
    synthetic = [G.GaussianModel().fit(real).sample(M, generation_rng(0, 0))]
    for g in range(1, GENS + 1):
        _, model, samples = next_generation(G.GaussianModel, s, real, synthetic, M, generation_rng(0, g, s))
        synthetic = [samples]
        out.append((model.mu_, model.sigma2_, G.w2_squared(model.mu_, model.sigma2_)))
    return out


def exact_core():
    gen0 = G._real_gen0(np.random.default_rng([0, 0]), CHAINS, M, 0.0, 1.0)
    return G._exact_arrays(WORKFLOWS[0], gen0, GENS, M, 0, 1.0, 0.0, 1.0, np.random.default_rng(1))


def main():
    print(f"(CPU cores visible: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}: on a busy machine "
          "times scale up)")
    print(f"Gaussian chains: {CHAINS} chains x {GENS} generations x M = {M}, MLE, replace")
    t_naive = best(naive_reference, 3)
    t_loop = best(loop_run, 3)
    t_loop_core = best(loop_core, 3)
    t_exact = best(lambda: G.simulate_gaussian_chains(CHAINS, GENS, M, seeds=0), 5)
    t_exact_core = best(exact_core, 5)
    print(f"  (a) naive reference, vectorised (arrays)      {t_naive * 1e3:8.1f} ms")
    print(f"      run_generations + GaussianModel (history) {t_loop * 1e3:8.1f} ms   loop / naive  "
          f"{t_loop / t_naive:5.2f}x (target <= 1.5x)")
    print(f"      the loop's core (arrays, no history)      {t_loop_core * 1e3:8.1f} ms   core / naive  "
          f"{t_loop_core / t_naive:5.2f}x")
    print(f"  (b) exact engine (history)                    {t_exact * 1e3:8.1f} ms   loop / exact  "
          f"{t_loop / t_exact:5.1f}x (target >= 30x)")
    print(f"      exact engine core (arrays)                {t_exact_core * 1e3:8.1f} ms   loop core / exact core "
          f"{t_loop_core / t_exact_core:5.1f}x; naive / exact core {t_naive / t_exact_core:5.1f}x")

    set_style()
    for name in _gaussian_choices():
        e = gaussian_explorer(n_chains=CHAINS, sample_size=M, generations=GENS, strategy=name)

        def redraw():
            e.redraw()
            e.figure.savefig(io.BytesIO(), format="png")  # what the notebook's inline backend does

        t = best(redraw, 3)
        print(f"  (c) explorer redraw incl. PNG render, {name:32s} {t * 1e3:7.1f} ms  (target < 300 ms)")
    print(f"(load average at the end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
