"""Lesson 04 performance: the mix-ratio explorer's redraw time at its default sizes.

The explorer's default is the Gaussian, strategy ``real_fraction`` (λ = 0.1, fixed real set),
M = 50, 50 generations, 200 chains, and it must redraw in under 300 ms. The baseline, measured in
the same run, is the naive way to get the same numbers: the generic loop
(:func:`collapse_kit.loop.run_generations` with a :class:`GaussianModel`), one chain at a time.
Also timed: the mixture model at its default (64 chains).

Prints medians over several redraws. Run: ``python benchmarks/bench_mix_explorer.py``
(on a shared machine, pin it: ``taskset -c 0,1 python benchmarks/bench_mix_explorer.py``).
"""
from __future__ import annotations

import statistics
import time

import matplotlib
import matplotlib.pyplot

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from collapse_kit.explorers import mix_explorer  # noqa: E402
from collapse_kit.gaussian import GaussianModel  # noqa: E402
from collapse_kit.loop import run_generations  # noqa: E402
from collapse_kit.plots import set_style  # noqa: E402

TARGET_S = 0.300
LAMBDAS = (0.1, 0.2, 0.3, 0.15, 0.25, 0.05, 0.1)


def redraw_times(explorer, name, values):
    times = []
    for v in values:
        explorer.controls[name].value = v
        if explorer.last_error:
            raise RuntimeError(explorer.last_error)
        times.append(explorer.last_draw_seconds)
    return times


def main():
    set_style()
    ex = mix_explorer()  # default sizes
    v = ex.values()
    chains = 200
    times = redraw_times(ex, "real_fraction", LAMBDAS)
    t_draw = statistics.median(times)

    # baseline: the generic loop, one chain at a time (time 10 chains, scale to 200)
    few = 10
    real = np.random.default_rng(0).standard_normal(v["sample_size"])
    t_few = _timed(lambda: run_generations(lambda: GaussianModel("mle"), real, generations=v["generations"],
                                           strategies="real_fraction", real_fraction=0.1, seeds=range(few),
                                           metrics={"variance": lambda c: c.model.sigma2_}))
    t_loop = t_few * chains / few

    # what the notebook adds on top: rendering the figure to PNG for the Output widget
    import io

    renders = []
    for _ in range(5):
        ex.redraw()
        fig = ex.figure
        t = time.perf_counter()
        fig.savefig(io.BytesIO(), format="png")
        renders.append(time.perf_counter() - t)
        matplotlib.pyplot.close(fig)
    t_png = statistics.median(renders)

    ex.controls["model"].value = "mixture"
    t_mix = statistics.median(redraw_times(ex, "real_fraction", LAMBDAS[:4]))

    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(CPU cores visible: {os.cpu_count()}, load average {load:.1f}: on a busy machine times scale up)")
    print(f"Mix-ratio explorer, default sizes: Gaussian, real_fraction, M = {v['sample_size']}, "
          f"{v['generations']} generations, {chains} chains")
    print(f"  redraw (simulate + plot), median of {len(times)}: {t_draw * 1000:7.1f} ms   "
          f"(target < {TARGET_S * 1000:.0f} ms: {'OK' if t_draw < TARGET_S else 'TOO SLOW'})")
    print(f"  + PNG rendering for the notebook (median of 5): {t_png * 1000:7.1f} ms "
          f"-> redraw seen in the notebook ≈ {(t_draw + t_png) * 1000:.0f} ms")
    print(f"  baseline, generic loop one chain at a time (10 chains timed, scaled to {chains}): "
          f"{t_loop * 1000:7.1f} ms")
    print(f"  whole redraw (one batched run_generations + figure) vs the baseline: {t_loop / t_draw:4.1f}x")
    print(f"  mixture model (64 chains, EM), redraw median: {t_mix * 1000:7.1f} ms")
    return t_draw


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
