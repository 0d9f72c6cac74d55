"""Benchmark lesson 03's batched DigitVAE: n chains trained together against the same chains one by one.

``DigitVAE.fit`` trains every chain of a ``(n_chains, N, 64)`` batch as one network whose weights carry a
leading chain axis (one batched matrix product per layer). The baseline, measured in the same run, fits the
same chains one at a time (``n_chains = 1``, same settings: the lesson's defaults, 150 epochs, batch 128, on
the 552-image training set of ``imbalance=0.1``). Prints seconds per fit and the ratio.

    python benchmarks/bench_vae.py [--chains 8] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    from collapse_kit import images as I

    x, _ = I.load_digits(0.1, seed=0)
    data = np.stack([x] * args.chains)
    I.DigitVAE(epochs=2, threads=args.threads, device="cpu").fit(data[:1], np.random.default_rng(0))  # warm-up

    t = time.perf_counter()
    for c in range(args.chains):
        I.DigitVAE(threads=args.threads, device="cpu").fit(data[c:c + 1], np.random.default_rng(c))
    one_by_one = time.perf_counter() - t
    t = time.perf_counter()
    I.DigitVAE(threads=args.threads, device="cpu").fit(data, np.random.default_rng(0))
    batched = time.perf_counter() - t

    print(f"DigitVAE, {len(x)} images, 150 epochs, torch {torch.__version__}, {args.threads} thread(s), "
          f"{platform.machine()}, load average {os.getloadavg()[0]:.2f}")
    print(f"  {args.chains} chains one by one   {one_by_one:7.1f} s")
    print(f"  {args.chains} chains batched      {batched:7.1f} s")
    print(f"  speed-up                 {one_by_one / batched:7.1f}x")


if __name__ == "__main__":
    main()
